"""Cap very large string fields, recording every cut in the event itself.

A cut is never silent: ``event["truncated"]`` lists each cut as
``{"path": "data.tool_input.content", "chars": 31457280, "kept": 1048576}``.
The limit is per string value, in characters; ``0`` disables capping.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from . import EventDict

DEFAULT_MAX_FIELD_CHARS = 1024 * 1024
ENV_VAR = "AGENT_TRACE_MAX_FIELD"


def max_field_chars() -> int:
    """The configured cap (``AGENT_TRACE_MAX_FIELD``, chars; 0 = no cap)."""
    raw = os.environ.get(ENV_VAR)
    if not raw:
        return DEFAULT_MAX_FIELD_CHARS
    try:
        return max(0, int(raw))
    except ValueError:
        return DEFAULT_MAX_FIELD_CHARS


def _cap(value: Any, limit: int, path: str, cuts: list[dict[str, Any]]) -> Any:
    if isinstance(value, str):
        if len(value) > limit:
            cuts.append({"path": path, "chars": len(value), "kept": limit})
            return value[:limit]
        return value
    if isinstance(value, dict):
        return {k: _cap(v, limit, f"{path}.{k}", cuts) for k, v in value.items()}
    if isinstance(value, list):
        return [_cap(v, limit, f"{path}[{i}]", cuts) for i, v in enumerate(value)]
    return value


def truncate_event(event: EventDict, limit: int) -> EventDict:
    """Processor: cap strings in ``data`` and ``error`` longer than ``limit``."""
    cuts: list[dict[str, Any]] = []
    for field in ("data", "error"):
        if field in event:
            try:
                event[field] = _cap(event[field], limit, field, cuts)
            except RecursionError:  # an old line nested too deep: store-shaped first
                from .sanitize import shape_event

                shape_event(event)
                event[field] = _cap(event[field], limit, field, cuts)
    if cuts:
        event["truncated"] = event.get("truncated", []) + cuts
    return event
