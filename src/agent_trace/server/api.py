"""The dashboard's read API: JSON views of the store, computed by the same
modules the CLI uses (``list`` index, shared summary, session view)."""

from __future__ import annotations

import os
import time

from ..analysis.git_link import matches as git_matches
from ..analysis.session_view import session_view, status_of
from ..analysis.session_index import list_sessions
from ..store.paths import Store
from ..store.reader import ReadStats, iter_events
from ..event.truncate import truncate_event

DISPLAY_CAP = 20_000  # characters per string value sent to the browser
PAGE = 500


def sessions(store: Store, params: dict) -> dict:
    rows = list_sessions(store)
    now = time.time()
    q = (params.get("q") or "").lower()
    agent = params.get("agent") or ""
    status = params.get("status") or ""
    try:
        min_cost = float(params.get("min_cost") or 0)
    except ValueError:
        min_cost = 0.0
    since = params.get("since") or ""
    branch, commit = params.get("branch") or None, params.get("commit") or None
    out = []
    agents = set()
    for r in rows:
        r["status"] = status_of(r, now)
        if r.get("agent"):
            agents.add(r["agent"])
        if q and q not in " ".join(str(r.get(k) or "") for k in ("session", "title", "cwd", "last_error")).lower():
            continue
        if agent and r.get("agent") != agent:
            continue
        if status and r["status"] != status:
            continue
        if min_cost and (r.get("cost_usd") or 0) < min_cost:
            continue
        if since and (r.get("last") or "") < since:
            continue
        if (branch or commit) and not git_matches(r, branch, commit):
            continue
        out.append(_row(r))
    try:
        limit = max(1, int(params.get("limit") or 500))
    except ValueError:
        limit = 500
    return {"sessions": out[:limit], "total": len(rows), "matched": len(out), "agents": sorted(agents)}


def _row(r: dict) -> dict:
    keep = ("session", "title", "cwd", "agent", "status", "started", "last", "ended", "events", "prompts",
            "tool_calls", "tool_errors", "llm_calls", "tokens", "cost_usd", "unpriced", "subagents",
            "decisions", "last_error", "duration_s", "bytes", "sources", "git")
    row = {k: r.get(k) for k in keep}
    if row["git"]:
        row["git"] = {k: v for k, v in row["git"].items() if k != "diff"}  # the list shows branch and commits
    return row


def session(store: Store, ref: str) -> dict:
    path = store.resolve(ref)
    view = session_view(path)
    view["file"] = path
    return view


def display_event(e: dict, cap: int = DISPLAY_CAP) -> dict:
    """A copy of ``e`` with long strings cut (cuts listed in ``truncated``)."""
    e = dict(e)
    return truncate_event(e, cap) if cap else e


def events_page(store: Store, ref: str, start: int = 0, limit: int = PAGE) -> dict:
    path = store.resolve(ref)
    size = os.path.getsize(path)
    start = max(0, min(start, size))
    stats = ReadStats()
    out = []
    nxt = start
    for end, e in iter_events(path, stats, start=start, positions=True):
        out.append(display_event(e))
        nxt = end
        if len(out) >= limit:
            break
    else:
        nxt = max(nxt, stats.end)
    return {"events": out, "next": nxt, "size": size, "done": nxt >= size, "skipped": stats.as_dict()}


def store_signature(store: Store) -> tuple:
    """Changes whenever a session is added, removed or grows."""
    n = total = newest = 0
    for e in store.session_files():
        try:
            st = e.stat()
        except OSError:
            continue
        n += 1
        total += st.st_size
        newest = max(newest, st.st_mtime_ns)
    return n, total, newest
