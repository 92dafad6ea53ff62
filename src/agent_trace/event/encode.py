"""Turn an event into the bytes of one stored line: sanitize -> truncate ->
redact -> JSON.  Every path to disk or to an export goes through here
(capture sinks, the collector's ingest, exports and share pages).

The processors run in the style of a structlog chain:

* :mod:`.sanitize` (only when a cheap check on the serialised line calls for
  it): non-finite numbers and nesting deeper than ``MAX_DEPTH``;
* :mod:`.truncate`: very long strings, each cut recorded (before redaction,
  so redaction reads at most the kept part of a huge value: a secret cut in
  two keeps at most a fragment too short to match any shape);
* :mod:`.redact`: secrets in every field holding foreign text, base64 copies
  included.

Guarantees of a line produced here: valid UTF-8 JSON ending in ``\\n`` (text
that is not valid Unicode, such as lone surrogates from undecodable input, is
written as ``\\uXXXX`` escapes, so reading it back gives the same string), no
``NaN``/``Infinity``, at most ``MAX_DEPTH`` levels of nesting, and no secret
the scanner recognises (docs/event-schema.md, "Redaction and caps").
"""

from __future__ import annotations

from . import redact, sanitize, truncate
from .fastjson import dumps as _dumps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from . import EventDict


def _serialisable(obj: Any) -> str:
    """JSON text of ``obj``, sanitised first when it must be (NaN, depth)."""
    try:
        text = _dumps(obj)
    except (ValueError, RecursionError):
        text = None
    if text is None or text.count("[") + text.count("{") > sanitize.MAX_DEPTH:
        if isinstance(obj, dict):
            prior = obj.get("truncated")
            sanitize.shape_event(obj)
            if text is not None and obj.get("truncated") is prior:
                # it serialised, so every number was finite; no cut either (brackets
                # inside strings, as in code): nothing changed and the text stands
                return text
        else:
            obj = sanitize.shape_event({"value": obj})["value"]
        text = _dumps(obj)
    return text


def to_bytes(obj: Any, indent: int | None = None) -> bytes:
    """JSON bytes for exports: valid UTF-8 even when strings hold lone
    surrogates, never NaN, bounded depth, and redacted again (a store written
    by an older version, or edited by hand, does not leak through an export)."""
    if isinstance(obj, dict):
        obj = redact.redact_event(dict(obj))
    else:
        obj = redact.redact_value(obj, [0])
    text = _serialisable(obj)
    if indent is not None:
        import json

        text = json.dumps(json.loads(text), ensure_ascii=False, indent=indent)
    return text.encode("utf-8", "backslashreplace")


def encode_event(event: EventDict, max_field: int | None = None) -> bytes:
    """Sanitize, cap, redact and serialise ``event`` (modified in place)."""
    line = _serialisable(event)
    if max_field is None:
        max_field = truncate.max_field_chars()
    markers: tuple[int, ...] | None
    if max_field and len(line) > max_field:
        truncate.truncate_event(event, max_field)
        markers = redact.ALL_MARKERS  # strings were cut: the walk looks for every marker
    else:
        markers = redact.walk_markers(line)
        if markers is None:  # nothing the walk could change: the line is final
            return (line + "\n").encode("utf-8", "backslashreplace")
    redact.redact_event(event, markers)
    return (_dumps(event) + "\n").encode("utf-8", "backslashreplace")
