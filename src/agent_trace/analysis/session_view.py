"""One pass over a session for the pages that show it whole: the shared
summary, the subagent tree and the per-call token/cost series for charts.
``tree`` and the dashboard both use it, so they cannot disagree."""

from __future__ import annotations

import time

from .. import event as ev
from ..store.reader import ReadStats
from .summary import SessionSummary, prices
from ..store.timeline import iter_timeline

MAX_POINTS = 2000  # chart points kept (evenly thinned beyond that)
RUNNING_WINDOW_S = 15 * 60


def status_of(row: dict, now: float | None = None) -> str:
    """One word for a session: stopped (a rule stopped or killed it), ended,
    running (events in the last 15 minutes) or idle."""
    decisions = row.get("decisions") or {}
    if decisions.get("stopped") or decisions.get("killed"):
        return "stopped"
    if row.get("ended"):
        return "ended"
    from ..event.timefmt import parse_iso

    try:
        last = parse_iso(row["last"]) if row.get("last") else 0
    except ValueError:
        last = 0
    return "running" if (now or time.time()) - last < RUNNING_WINDOW_S else "idle"


def session_view(path: str | None, *, series: bool = True, events=None) -> dict:
    """The view of the session file at ``path``, or of ``events`` (an
    iterable of event dicts in stored order) when given."""
    main = SessionSummary()
    agents: dict[str, dict] = {}
    points: list[dict] = []
    stats = ReadStats()
    table = prices() if series else None
    # type-checker: callers give a path whenever they give no events
    for e in iter_timeline(path, stats) if events is None else events:  # type: ignore[arg-type]
        before = main.llm_calls
        main.add(e)
        aid = e.get("agent_id")
        if aid:
            a = agents.get(aid)
            if a is None:
                a = agents[aid] = {"agent_id": aid, "agent_type": None, "summary": SessionSummary()}
            a["agent_type"] = a["agent_type"] or e.get("agent_type")
            a["summary"].add(e)
        if series and e.get("type") == ev.LLM_RESPONSE and main.llm_calls > before:
            u = e.get("usage") if isinstance(e.get("usage"), dict) else {}
            # type-checker: narrowed by isinstance() on the same .get()
            u = {k: v for k, v in u.items() if type(v) is int}  # type: ignore[union-attr]  # what the summary counted
            points.append({"ts": e.get("ts"), "model": e.get("model"), "agent_id": aid,
                           "input": u.get("input", 0), "output": u.get("output", 0),
                           "cache_read": u.get("cache_read", 0), "cache_write": u.get("cache_write", 0),
                           # type-checker: table is set whenever series is
                           "cost_usd": table.cost(str(e.get("model") or "unknown"), u) if u else None})  # type: ignore[union-attr]
    if len(points) > MAX_POINTS:
        step = len(points) / MAX_POINTS
        points = [points[int(i * step)] for i in range(MAX_POINTS)]
    subs = [{"agent_id": a["agent_id"], "agent_type": a["agent_type"], "tool_calls": a["summary"].tool_calls,
             "tool_errors": a["summary"].tool_errors, "llm_calls": a["summary"].llm_calls,
             "cost_usd": round(a["summary"].cost_usd, 6)}
            for a in agents.values()]
    summary = main.to_dict()
    summary["status"] = status_of(summary)
    return {"summary": summary, "subagents": subs, "llm_series": points,
            "skipped": stats.as_dict(), "bytes": stats.end}
