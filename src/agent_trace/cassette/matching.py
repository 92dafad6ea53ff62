"""Matching a live call against recorded ones.

A call is a dict of fields (http: method, path, query, body; function: name,
arguments; mcp: method, params).  ``match_on`` names the fields compared,
or views computed from the call (:data:`VIEWS`: ``conversation``, what the
agent decided, see :mod:`.conversation`);
``ignore`` lists dotted paths removed from both sides first, e.g.
``body.metadata``, ``body.messages.0.content``, ``arguments.request_id``.
Order of the recordings does not matter: the first unplayed recording whose
fields all match wins.  When none does, :func:`closest` names the nearest
recording and the first difference, for the divergence error.
"""

from __future__ import annotations

import copy
import difflib
import json

from .conversation import conversation
from .format import body_value

DEFAULT_MATCH = {"http": ("method", "path", "query", "body"), "function": ("name", "arguments"),
                 "mcp": ("method", "params")}
# the second, drift-tolerant pass of the replay server (and tolerate_drift=True)
DRIFT_MATCH = ("method", "path", "conversation")

VIEWS = {"conversation": lambda call: conversation(body_value(call.get("body")))}


def _drop(obj, parts):
    if not parts or obj is None:
        return
    head, rest = parts[0], parts[1:]
    if isinstance(obj, dict):
        if not rest:
            obj.pop(head, None)
        else:
            _drop(obj.get(head), rest)
    elif isinstance(obj, list):
        idxs = range(len(obj)) if head == "*" else ([int(head)] if head.isdigit() and int(head) < len(obj) else [])
        for i in idxs:
            if not rest:
                obj[i] = None
            else:
                _drop(obj[i], rest)


def normalise(call: dict, match_on, ignore) -> dict:
    """The compared fields of a call, ``ignore`` paths dropped (a copy where
    something is dropped; otherwise the call's own values: do not mutate)."""
    out = {}
    for k in match_on:
        view = VIEWS.get(k)
        out[k] = view(call) if view is not None else call.get(k)
    for k in {p.split(".")[0] for p in ignore} & out.keys():
        out[k] = copy.deepcopy(out[k])
    for path in ignore:
        parts = path.split(".")
        if parts[0] in out:
            if len(parts) == 1:
                out[parts[0]] = None
            else:
                _drop(out[parts[0]], parts[1:])
    return out


def failing(live: dict, recorded: dict, match_on) -> list[str]:
    return [k for k in match_on if live.get(k) != recorded.get(k)]


def first_difference(a, b, path: str = "") -> tuple[str, object, object] | None:
    """(path, recorded, live) of the first place two JSON values differ."""
    if type(a) is not type(b):
        return path or ".", a, b
    if isinstance(a, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if a.get(k, _MISSING) != b.get(k, _MISSING):
                if k not in a or k not in b:
                    return f"{path}.{k}".lstrip("."), a.get(k, "<absent>"), b.get(k, "<absent>")
                return first_difference(a[k], b[k], f"{path}.{k}")
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}.{i}")
        if len(a) != len(b):
            return f"{path} (length)".lstrip("."), len(a), len(b)
        return None
    return (path.lstrip(".") or ".", a, b) if a != b else None


_MISSING = object()


def similarity(a, b) -> float:
    sa = json.dumps(a, sort_keys=True, default=str)[:20000]
    sb = json.dumps(b, sort_keys=True, default=str)[:20000]
    return difflib.SequenceMatcher(None, sa, sb, autojunk=False).quick_ratio()


def closest(live: dict, candidates: list[tuple[int, dict]], match_on) -> tuple[int, list[str], float] | None:
    """(index, failing fields, similarity) of the nearest recording."""
    best = None
    for idx, rec in candidates:
        fails = failing(live, rec, match_on)
        score = (len(match_on) - len(fails), similarity(live, rec))
        if best is None or score > best[0]:
            best = (score, idx, fails)
    if best is None:
        return None
    return best[1], best[2], best[0][1]


def cut(v, n: int = 120) -> str:
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= n else s[: n - 3] + "..."
