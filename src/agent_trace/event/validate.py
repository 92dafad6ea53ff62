"""Is this JSON object an event every reader can use?  Checked at read time
(:mod:`agent_trace.store.reader`) and at ingest (the collector), so one line
with a wrong-typed field is skipped and counted as corrupt instead of
crashing ``list``, dropping a dashboard connection or blanking a page.

An event is usable when:

* ``id``, ``session`` and ``type`` are non-empty strings, ``ts`` is a
  timestamp in the store's form (``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``) or another
  ISO 8601 form :func:`agent_trace.event.timefmt.parse_iso` reads;
* every other first-class field present has its documented type (``null``
  is accepted for optional fields): text fields are strings, ``rpc_id`` a
  string or integer, ``duration_ms`` a number, ``usage`` an object of numbers,
  ``error`` a string or an object, ``truncated`` a list of objects,
  ``redacted`` and ``v`` integers.

``data`` (the foreign payload) may hold anything JSON does.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_STR = frozenset({str})
_NUM = frozenset({int, float})
_OPTIONAL = {
    "source": _STR, "name": _STR, "agent_id": _STR, "agent_type": _STR, "parent": _STR, "tool": _STR,
    "tool_use_id": _STR, "method": _STR, "direction": _STR, "model": _STR, "status": _STR,
    "rpc_id": frozenset({str, int}), "duration_ms": _NUM, "usage": frozenset({dict}),
    "error": frozenset({str, dict}), "truncated": frozenset({list}), "redacted": frozenset({int}),
    "v": frozenset({int}),
}
_REQUIRED = ("id", "session", "type", "ts")
# (keys, their value types) -> (problem or None, check usage, check truncated).  Events from
# one writer share a handful of shapes, so the per-field type checks run once per shape.
_SHAPES: dict[tuple[Any, ...], tuple[str | None, bool, bool]] = {}
_TS_MINUTES: dict[str, bool] = {}


def _shape(obj: dict[str, Any]) -> tuple[str | None, bool, bool]:
    for k in _REQUIRED:
        if type(obj.get(k)) is not str:
            return k, False, False
    for k, v in obj.items():
        allowed = _OPTIONAL.get(k)
        if allowed is not None and type(v) not in allowed and v is not None:
            return k, False, False
    return None, type(obj.get("usage")) is dict, type(obj.get("truncated")) is list


def _minute_ok(head: str) -> bool:
    """``YYYY-MM-DDTHH:MM:`` (cached: shared by every event of the minute)."""
    ok = _TS_MINUTES.get(head)
    if ok is None:
        ok = (len(head) == 17 and head[:4].isdigit() and head[4] == "-" and head[5:7].isdigit()
              and head[7] == "-" and head[8:10].isdigit() and head[10] == "T" and head[11:13].isdigit()
              and head[13] == ":" and head[14:16].isdigit() and head[16] == ":"
              and 1 <= int(head[5:7]) <= 12 and 1 <= int(head[8:10]) <= 31 and int(head[11:13]) <= 23
              and int(head[14:16]) <= 59)
        if len(_TS_MINUTES) < 65536:
            _TS_MINUTES[head] = ok
    return ok


def _ts_ok(ts: str) -> bool:
    if ts[-1:] == "Z" and _minute_ok(ts[:17]) and ts[17:19].isdigit() and (
            len(ts) == 20 or (ts[19] == "." and ts[20:-1].isdigit())):
        return True
    from .timefmt import parse_iso  # other ISO forms (offsets): rare, read the slow way

    try:
        parse_iso(ts)
        return True
    except (ValueError, TypeError, OverflowError):
        return False


def problem(obj: object) -> str | None:
    """None when ``obj`` is a usable event, else the name of what is wrong.

    Every reader's hot path: the type checks are cached per shape (keys and
    value types) and the timestamp per minute, so an ordinary event costs a
    tuple, a few slices and two dictionary lookups."""
    if type(obj) is not dict:
        return "not an object"
    sig = (*obj, *map(type, obj.values()))
    shape = _SHAPES.get(sig)
    if shape is None:
        shape = _shape(obj)
        if len(_SHAPES) < 4096:
            _SHAPES[sig] = shape
    bad, usage, truncated = shape
    if bad is not None:
        return bad
    if not obj["id"] or not obj["session"] or not obj["type"]:
        return "id"
    ts = obj["ts"]
    if not (_TS_MINUTES.get(ts[:17]) and ts[-1:] == "Z" and ts[17:19].isdigit()
            and (len(ts) == 20 or (ts[19] == "." and ts[20:-1].isdigit()))) and not _ts_ok(ts):
        return "ts"
    if usage:
        for x in obj["usage"].values():
            if type(x) is not int and type(x) is not float:
                return "usage"
    if truncated:
        for x in obj["truncated"]:
            if type(x) is not dict:
                return "truncated"
    return None


def valid(obj: object) -> bool:
    return problem(obj) is None
