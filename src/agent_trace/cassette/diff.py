"""``cassette diff A B``: new, dropped and changed calls, and the token delta.

Calls are aligned per endpoint (kind + method + path, or function name, or
MCP method) in recorded order: the n-th call to an endpoint in A is compared
with the n-th in B.  A call changed when its request or its response differs
(the first difference is shown)."""

from __future__ import annotations

from ..capture import llm_reassemble as ra
from .as_events import response_message
from .core import _endpoint
from .matching import cut, first_difference
from .workspace import PathMap, Places


def _placeholders(entries: list[dict], where: dict | None) -> list[dict]:
    pm = PathMap(Places(**(where or {})))
    if not pm:
        return entries
    return [{**e, "request": pm.json(e.get("request")), "response": pm.json(e.get("response"))} for e in entries]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _tokens(entry: dict) -> dict:
    if entry.get("kind") != "http":
        return {}
    api, msg = response_message(entry)
    if msg is None:
        return {}
    _, usage, _, _ = ra.summarize_message(api, msg)
    return usage or {}


def diff(a: list[dict], b: list[dict], where_a: dict | None = None, where_b: dict | None = None) -> dict:
    """``where_a``/``where_b``: the files' ``workspace`` headers; each side's
    folders are compared as placeholders, so two recordings of one task in
    two checkouts differ only where the runs did."""
    a, b = _placeholders(a, where_a), _placeholders(b, where_b)

    def group(entries):
        out: dict[str, list] = {}
        for e in entries:
            out.setdefault(_endpoint(e.get("kind"), e.get("request") or {}), []).append(e)
        return out

    ga, gb = group(a), group(b)
    new, dropped, changed, same = [], [], [], 0
    for ep in list(ga) + [k for k in gb if k not in ga]:
        xs, ys = ga.get(ep, []), gb.get(ep, [])
        for i in range(max(len(xs), len(ys))):
            if i >= len(xs):
                new.append({"endpoint": ep, "n": i})
            elif i >= len(ys):
                dropped.append({"endpoint": ep, "n": i})
            else:
                x, y = xs[i], ys[i]
                for part in ("request", "response"):
                    d = first_difference(x.get(part), y.get(part), part)
                    if d:
                        changed.append({"endpoint": ep, "n": i, "where": d[0], "a": cut(d[1], 80),
                                        "b": cut(d[2], 80)})
                        break
                else:
                    same += 1
    ta: dict[str, Any] = {}
    tb: dict[str, Any] = {}
    for entries, tot in ((a, ta), (b, tb)):
        for e in entries:
            for k, v in _tokens(e).items():
                tot[k] = tot.get(k, 0) + v
    delta = {k: tb.get(k, 0) - ta.get(k, 0) for k in sorted(set(ta) | set(tb))}
    return {"calls_a": len(a), "calls_b": len(b), "same": same, "new": new, "dropped": dropped,
            "changed": changed, "tokens_a": ta, "tokens_b": tb, "token_delta": delta}
