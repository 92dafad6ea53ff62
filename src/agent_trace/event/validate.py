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

_STR = frozenset({str})
_NUM = frozenset({int, float})
_OPTIONAL = {
    "source": _STR, "name": _STR, "agent_id": _STR, "agent_type": _STR, "parent": _STR, "tool": _STR,
    "tool_use_id": _STR, "method": _STR, "direction": _STR, "model": _STR, "status": _STR,
    "rpc_id": frozenset({str, int}), "duration_ms": _NUM, "usage": frozenset({dict}),
    "error": frozenset({str, dict}), "truncated": frozenset({list}), "redacted": frozenset({int}),
    "v": frozenset({int}),
}
_TS_HEADS: dict[str, bool] = {}


def _ts_ok(ts: str) -> bool:
    n = len(ts)
    if n >= 20 and ts[-1] == "Z" and ts[13] == ":" and ts[16] == ":":
        head = ts[:13]  # "YYYY-MM-DDTHH": shared by every event of the hour
        ok = _TS_HEADS.get(head)
        if ok is None:
            ok = (head[:4].isdigit() and head[4] == "-" and head[5:7].isdigit() and head[7] == "-"
                  and head[8:10].isdigit() and head[10] == "T" and head[11:13].isdigit()
                  and 1 <= int(head[5:7]) <= 12 and 1 <= int(head[8:10]) <= 31 and int(head[11:13]) <= 23)
            if len(_TS_HEADS) < 65536:
                _TS_HEADS[head] = ok
        if ok and ts[14:16].isdigit() and ts[17:19].isdigit():
            if n == 20:
                return True
            if ts[19] == "." and ts[20:-1].isdigit():
                return True
    from .timefmt import parse_iso  # other ISO forms (offsets): rare, read the slow way

    try:
        parse_iso(ts)
        return True
    except (ValueError, TypeError, OverflowError):
        return False


def problem(obj) -> str | None:
    """None when ``obj`` is a usable event, else the name of what is wrong."""
    if type(obj) is not dict:
        return "not an object"
    for k in ("id", "session", "type"):
        v = obj.get(k)
        if type(v) is not str or not v:
            return k
    ts = obj.get("ts")
    if type(ts) is not str or not _ts_ok(ts):
        return "ts"
    for k, v in obj.items():
        allowed = _OPTIONAL.get(k)
        if allowed is not None and type(v) not in allowed and v is not None:
            return k
    u = obj.get("usage")
    if u:
        for x in u.values():
            if type(x) is not int and type(x) is not float:
                return "usage"
    t = obj.get("truncated")
    if t:
        for x in t:
            if type(x) is not dict:
                return "truncated"
    return None


def valid(obj) -> bool:
    return problem(obj) is None
