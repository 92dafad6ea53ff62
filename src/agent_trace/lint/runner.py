"""Running rules over events, with configuration.

Configuration (``.agent-strace/lint.toml`` in the project, else
``~/.config/agent-strace/lint.toml``; ``--config`` overrides)::

    disable = ["reread"]
    [rules.loop]
    threshold = 6
"""

from __future__ import annotations

import os
import tomllib

from .registry import RULES, Finding


class ConfigError(ValueError):
    pass


def load_config(path: str | None = None, project: str | None = None) -> dict:
    candidates = [path] if path else [
        os.path.join(project or os.getcwd(), ".agent-strace", "lint.toml"),
        os.path.expanduser("~/.config/agent-strace/lint.toml"),
    ]
    for p in candidates:
        if p and os.path.isfile(p):
            try:
                with open(p, "rb") as f:
                    return validate(tomllib.load(f), p)
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as e:
                raise ConfigError(f"{p}: not a valid lint config: {str(e)[:200]}") from None
        elif path:
            raise ConfigError(f"no such file: {path}")
    return {}


def validate(cfg: dict, where: str = "config") -> dict:
    for k in cfg:
        if k not in ("disable", "enable", "rules"):
            raise ConfigError(f"{where}: unknown key {k!r} (disable, enable, rules)")
    for name in list(cfg.get("disable", [])) + list(cfg.get("enable", [])) + list(cfg.get("rules", {})):
        if name not in RULES:
            raise ConfigError(f"{where}: unknown rule {name!r} (known: {', '.join(sorted(RULES))})")
    for name, opts in cfg.get("rules", {}).items():
        for k, v in opts.items():
            if k not in RULES[name].defaults:
                raise ConfigError(f"{where}: rule {name!r} has no option {k!r} "
                                  f"(options: {', '.join(RULES[name].defaults) or 'none'})")
            if type(v) is not type(RULES[name].defaults[k]) and not (
                    isinstance(v, (int, float)) and isinstance(RULES[name].defaults[k], (int, float))):
                raise ConfigError(f"{where}: {name}.{k} should be a {type(RULES[name].defaults[k]).__name__}")
    return cfg


class Linter:
    """Feeds events to the enabled rules; usable after the fact or live."""

    def __init__(self, cfg: dict | None = None, only: list[str] | None = None):
        cfg = cfg or {}
        names = only or [n for n in RULES if n not in set(cfg.get("disable", []))]
        self.rules = [RULES[n] for n in names]
        self.cfg = {n: {**RULES[n].defaults, **cfg.get("rules", {}).get(n, {})} for n in names}
        self.state: dict[str, dict] = {n: {} for n in names}
        self.index = 0
        self._by_type: dict[str, list] = {}

    def _rules_for(self, etype) -> list:
        rules = self._by_type.get(etype)
        if rules is None:
            rules = self._by_type[etype] = [(r.fn, self.state[r.name], self.cfg[r.name]) for r in self.rules
                                            if r.types is None or etype in r.types]
        return rules

    def feed(self, e: dict) -> list[Finding] | None:
        """Findings for this event, or None."""
        self.index += 1
        t = e.get("type")
        rules = self._by_type.get(t)  # type: ignore[arg-type]  # stored events always have a type (validate.problem)
        if rules is None:
            rules = self._rules_for(t)
        out = None
        for fn, st, cfg in rules:
            found = fn(e, st, cfg)
            if found:
                for f in found:
                    f.index = self.index
                    f.event_id = e.get("id")
                    f.severity = RULES[f.rule].severity  # the registry is the one truth (lint --list)
                out = (out or []) + found
        return out
