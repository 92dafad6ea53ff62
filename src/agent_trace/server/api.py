"""The dashboard's read API: JSON views of the store, computed by the same
modules the CLI uses (``list`` index, shared summary, session view)."""

from __future__ import annotations

import os
import time

from ..analysis.git_link import matches as git_matches
from ..analysis.session_view import session_view, status_of
from ..analysis.session_index import list_sessions
from ..analysis.trends import project_of
from ..store.paths import Store
from ..store.reader import ReadStats, iter_events
from ..event.truncate import truncate_event
from .query_params import SessionFilters, iso, limit

DISPLAY_CAP = 20_000  # characters per string value sent to the browser
PAGE = 500


def sessions(store: Store, params: dict) -> dict:
    rows = list_sessions(store)
    now = time.time()
    f = SessionFilters(params)
    q = f.q.lower()
    since, until = iso(f.since), iso(f.until)
    out = []
    agents, projects = set(), set()
    users: set[str] = set()
    for r in rows:
        r["status"] = status_of(r, now)
        r["project"] = project_of(r.get("cwd"))
        r["user"] = (r.get("senders") or [None])[0]
        agents.add(r.get("agent"))
        users.update(r.get("senders") or ())
        projects.add(r["project"])
        if q and q not in " ".join(str(r.get(k) or "") for k in ("session", "title", "cwd", "last_error")).lower():
            continue
        if f.agent and r.get("agent") != f.agent:
            continue
        if f.user and f.user not in (r.get("senders") or ()):
            continue
        if f.project and r["project"] != f.project:
            continue
        if f.status and r["status"] != f.status:
            continue
        if f.min_cost and (r.get("cost_usd") or 0) < f.min_cost:
            continue
        if since and (r.get("last") or "") < since:
            continue
        if until and (r.get("started") or "") >= until:
            continue
        if (f.branch or f.commit) and not git_matches(r, f.branch, f.commit):
            continue
        out.append(_row(r))
    n = limit(params.get("limit"), 500)
    return {"sessions": out[:n], "total": len(rows), "matched": len(out), "agents": sorted(filter(None, agents)),
            "users": sorted(users), "projects": sorted(filter(None, projects))}


def _row(r: dict) -> dict:
    keep = ("session", "title", "cwd", "agent", "status", "started", "last", "ended", "events", "prompts",
            "tool_calls", "tool_errors", "llm_calls", "tokens", "cost_usd", "unpriced", "subagents",
            "decisions", "last_error", "duration_s", "bytes", "sources", "user", "senders", "project", "git")
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
