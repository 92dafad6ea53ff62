"""Turn an event into the bytes of one stored line: redact -> truncate -> JSON.

The processors run in the style of a structlog chain, but on the hot path
they are guarded by cheap checks on the serialised line, so an ordinary event
is serialised once and scanned once.

Lines are UTF-8 JSON ending in ``\\n``.  Text that is not valid Unicode (lone
surrogates from undecodable input) is written as JSON ``\\uXXXX`` escapes, so
every line is valid UTF-8 and reading it back gives the same string.
"""

from __future__ import annotations

from . import redact, truncate
from .fastjson import dumps as _dumps


def to_bytes(obj, indent: int | None = None) -> bytes:
    """JSON bytes for an already-processed event (for exports): valid UTF-8
    even when strings hold lone surrogates."""
    if indent is None:
        text = _dumps(obj)
    else:
        import json

        text = json.dumps(obj, ensure_ascii=False, indent=indent)
    return text.encode("utf-8", "backslashreplace")


def encode_event(event: dict, max_field: int | None = None) -> bytes:
    """Redact, cap and serialise ``event`` (which may be modified in place)."""
    line = _dumps(event)
    if redact.might_hold_secret(line):
        redact.redact_event(event)
        line = _dumps(event)
    if max_field is None:
        max_field = truncate.max_field_chars()
    if max_field and len(line) > max_field:
        truncate.truncate_event(event, max_field)
        line = _dumps(event)
    return (line + "\n").encode("utf-8", "backslashreplace")
