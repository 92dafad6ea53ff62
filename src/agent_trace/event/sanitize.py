"""Make any event storable and readable: finite numbers, bounded nesting.

A processor in the encoder's chain, before redaction:

* ``NaN``/``Infinity`` are not JSON: browsers and most readers refuse the
  line.  In first-class fields (``duration_ms``, ``usage``) a non-finite
  number is dropped; anywhere else it becomes the string ``"NaN"``,
  ``"Infinity"`` or ``"-Infinity"``.
* Values nested deeper than :data:`MAX_DEPTH` containers (a hostile
  ``tool_input`` 1,000 levels deep) are stored as their compact JSON text,
  and the cut is listed in ``truncated`` as ``{"path": ..., "nested": N}``.
  Every stored line therefore parses with ordinary recursive readers.

The walk is iterative: no input can exhaust the interpreter's stack here.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from . import EventDict

MAX_DEPTH = 64
_NUMERIC_FIELDS = ("duration_ms",)


def _finite(x: float) -> bool:
    return x - x == 0.0  # False for nan and +-inf


def _float_text(x: float) -> str:
    return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")


def deep_dumps(value: Any) -> str:
    """Compact JSON of ``value`` however deep (iterative; non-finite numbers as strings)."""
    from .fastjson import dumps

    out: list[str] = []
    stack: list[tuple[str, Any]] = [("v", value)]
    while stack:
        kind, item = stack.pop()
        if kind == "s":  # literal text
            out.append(item)
            continue
        if isinstance(item, dict):
            out.append("{")
            parts: list[tuple[str, Any]] = []
            for i, (k, v) in enumerate(item.items()):
                parts.append(("s", ("," if i else "") + dumps(str(k)) + ":"))
                parts.append(("v", v))
            parts.append(("s", "}"))
            stack.extend(reversed(parts))
        elif isinstance(item, (list, tuple)):
            out.append("[")
            parts = []
            for i, v in enumerate(item):
                if i:
                    parts.append(("s", ","))
                parts.append(("v", v))
            parts.append(("s", "]"))
            stack.extend(reversed(parts))
        elif isinstance(item, float) and not _finite(item):
            out.append(dumps(_float_text(item)))
        else:
            try:
                out.append(dumps(item))
            except (TypeError, ValueError):
                out.append(dumps(repr(item)))
    return "".join(out)


def shape(container: dict[str, Any] | list[Any], path: str = "", max_depth: int = MAX_DEPTH) -> list[dict[str, Any]]:
    """Make ``container`` (a dict or list, changed in place) storable: every
    non-finite float becomes its string, every container deeper than
    ``max_depth`` its compact JSON text.  Returns the cuts made."""
    cuts: list[dict[str, Any]] = []
    stack: list[tuple[Any, str, int]] = [(container, path, 0)]
    while stack:
        node, where, depth = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in list(items):
            if isinstance(v, float):
                if not _finite(v):
                    node[k] = _float_text(v)
                continue
            if not isinstance(v, (dict, list)):
                continue
            sub = f"{where}.{k}" if isinstance(node, dict) else f"{where}[{k}]"
            if depth + 1 >= max_depth:
                node[k] = deep_dumps(v)
                cuts.append({"path": sub.lstrip("."), "nested": max_depth})
            else:
                stack.append((v, sub, depth + 1))
    return cuts


def shape_event(event: EventDict) -> EventDict:
    """Processor: finite numbers and bounded depth (see the module docstring)."""
    for f in _NUMERIC_FIELDS:
        v = event.get(f)
        if isinstance(v, float) and not _finite(v):
            del event[f]
    u = event.get("usage")
    if isinstance(u, dict):
        for k in [k for k, v in u.items() if isinstance(v, float) and not _finite(v)]:
            del u[k]
    cuts = shape(event)
    if cuts:
        prior = event.get("truncated")
        event["truncated"] = (prior if isinstance(prior, list) else []) + cuts
    return event
