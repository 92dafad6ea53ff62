"""The rule registry and the finding type."""

from __future__ import annotations


class Finding:
    """What a rule found.  (Plain class: this module is on the hook path,
    where ``dataclasses`` would cost more than the rest of the hook.)"""

    __slots__ = ("rule", "severity", "message", "index", "event_id", "data")

    def __init__(self, rule: str, severity: str, message: str, index: int | None = None,
                 event_id: str | None = None, data: dict | None = None):
        self.rule = rule
        self.severity = severity  # "warning" or "error"
        self.message = message
        self.index = index  # 1-based index of the event that triggered it
        self.event_id = event_id
        self.data = data or {}

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "message": self.message,
                "index": self.index, "event_id": self.event_id, "data": self.data}


class Rule:
    __slots__ = ("name", "fn", "doc", "defaults", "severity", "types")

    def __init__(self, name: str, fn, doc: str, defaults: dict, severity: str = "warning", types=None):
        self.name, self.fn, self.doc, self.defaults, self.severity = name, fn, doc, defaults, severity
        self.types = types  # event types the rule looks at (None: all)


RULES: dict[str, Rule] = {}


def rule(name: str, severity: str = "warning", types=None, **defaults):
    """Register ``fn(event, state, cfg)`` as a lint rule named ``name``; it is
    called only for events whose type is in ``types`` (default: every event)."""

    def wrap(fn):
        RULES[name] = Rule(name, fn, (fn.__doc__ or "").strip().splitlines()[0], defaults, severity,
                           frozenset(types) if types else None)
        return fn

    return wrap
