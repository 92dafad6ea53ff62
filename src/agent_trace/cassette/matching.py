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

import json

from .conversation import conversation
from .format import body_value

DEFAULT_MATCH = {"http": ("method", "path", "query", "body"), "function": ("name", "arguments"),
                 "mcp": ("method", "params")}
# the second, drift-tolerant pass of the replay server (and tolerate_drift=True)
DRIFT_MATCH = ("method", "path", "conversation")

VIEWS = {"conversation": lambda call: conversation(body_value(call.get("body")))}


def _dropped(obj, parts):
    """``obj`` without the dotted path ``parts`` (a dict key removed, list
    items set to None; ``*`` for every item), copying only along the path."""
    if not parts or obj is None:
        return obj
    head, rest = parts[0], parts[1:]
    if isinstance(obj, dict):
        if head not in obj:
            return obj
        new = dict(obj)
        if rest:
            new[head] = _dropped(obj[head], rest)
        else:
            del new[head]
        return new
    if isinstance(obj, list):
        idxs = range(len(obj)) if head == "*" else ([int(head)] if head.isdigit() and int(head) < len(obj) else [])
        if not idxs:
            return obj
        new = list(obj)
        for i in idxs:
            new[i] = _dropped(obj[i], rest) if rest else None
        return new
    return obj


def normalise(call: dict, match_on, ignore) -> dict:
    """The compared fields of a call, ``ignore`` paths dropped (copied only
    along the dropped paths: the rest is the call's own values, do not
    mutate)."""
    out = {}
    for k in match_on:
        view = VIEWS.get(k)
        out[k] = view(call) if view is not None else call.get(k)
    for path in ignore:
        parts = path.split(".")
        if parts[0] in out:
            out[parts[0]] = None if len(parts) == 1 else _dropped(out[parts[0]], parts[1:])
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


def signature(value) -> tuple[int, dict[str, int]]:
    """What :func:`similarity` compares: the first 20,000 characters of the
    value's JSON, as a character histogram (one C scan per distinct character)."""
    text = json.dumps(value, sort_keys=True, default=str)[:20000]
    return len(text), {c: text.count(c) for c in set(text)}


def similarity(a, b, sig_a=None, sig_b=None) -> float:
    """difflib's ``quick_ratio`` (shared characters, as multisets) of the two
    values' JSON; pass signatures already computed to save the work."""
    (la, ca), (lb, cb) = sig_a or signature(a), sig_b or signature(b)
    if not la and not lb:
        return 1.0
    return 2.0 * sum(min(n, cb.get(c, 0)) for c, n in ca.items()) / (la + lb)


def closest(live: dict, candidates: list[tuple[int, dict]], match_on,
            signature_of=None) -> tuple[int, list[str], float] | None:
    """(index, failing fields, similarity) of the nearest recording: the
    most matching fields, then the most similar.  ``signature_of(index,
    recording)`` may give kept signatures of the recordings."""
    best = None
    sig_live = signature(live)
    for idx, rec in candidates:
        fails = failing(live, rec, match_on)
        sig = signature_of(idx, rec) if signature_of else None
        score = (len(match_on) - len(fails), similarity(live, rec, sig_live, sig))
        if best is None or score > best[0]:
            best = (score, idx, fails)
    if best is None:
        return None
    return best[1], best[2], best[0][1]


def cut(v, n: int = 120) -> str:
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= n else s[: n - 3] + "..."
