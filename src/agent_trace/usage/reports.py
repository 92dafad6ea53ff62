"""Usage across sessions, projects and time: daily, weekly, monthly, session,
project and 5-hour blocks, from the usage index of every store.

Every report has one JSON shape, under its own key::

    {"daily": [{"date": "2026-11-30", "input": N, "output": N, "cache_read": N,
                "cache_write": N, "cost_usd": X, "models": {model: {...}}}, ...],
     "totals": {...}}

Tokens are exact (each API response once, see
:mod:`agent_trace.usage.index`); cost is priced per request from
the current table; a model without a price is listed under ``unpriced`` and
adds nothing to ``cost_usd`` (never a silent zero: the row says so).
Responses whose time no calendar can show in every timezone (before
0001-01-03 or after 9999-12-28, UTC: a store edited by hand or written by an
older version) are left out and counted in ``totals["skipped"]``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .index import QUARTER, iter_rows
from .pricing import KINDS, PriceTable, usd

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BLOCK_S = 5 * 3600
# Quarter hours every timezone (offsets within a day), week start and block end can place
FIRST_Q = int(datetime(1, 1, 3, tzinfo=timezone.utc).timestamp()) // QUARTER
LAST_Q = int(datetime(9999, 12, 29, tzinfo=timezone.utc).timestamp()) // QUARTER - 1
REPORTS = ("daily", "weekly", "monthly", "session", "project", "blocks")
AGENT_ALIASES = {"claude": "claude-code", "claude-code": "claude-code", "codex": "codex",
                 "gemini": "gemini-cli", "gemini-cli": "gemini-cli"}


class Row:
    __slots__ = ("q", "model", "long", "tokens", "n", "first", "last", "session", "project", "agent", "w1h")

    def __init__(self, q, model, long, tokens, n, first, last, session, project, agent, w1h=0):
        self.q, self.model, self.long, self.tokens, self.n = q, model, long, tokens, n
        self.first, self.last, self.session, self.project, self.agent = first, last, session, project, agent
        self.w1h = w1h  # of the cache writes, those kept for an hour


def rows_of(indexes, *, project: str | None = None, agent: str | None = None):
    """Rows of the given usage indexes, filtered by project (a substring of
    the path, any case) and agent."""
    want_agent = AGENT_ALIASES.get(agent, agent) if agent else None
    needle = project.lower() if project else None
    for idx in indexes:
        for entry, q, model, long, r in iter_rows(idx):
            if want_agent and entry.get("agent") != want_agent:
                continue
            proj = entry.get("project") or ""
            if needle and needle not in proj.lower():
                continue
            yield Row(q, model, long, r[:4], r[4], r[5], r[6], entry.get("session"), proj or None,
                      entry.get("agent"), r[7])


class Clock:
    """Local dates of UTC quarter hours in one timezone (cached per hour)."""

    def __init__(self, tz):
        self.tz = tz
        self._hours: dict[int, datetime] = {}

    def local(self, epoch: float) -> datetime:
        hour = int(epoch // 3600)
        d = self._hours.get(hour)
        if d is None:
            d = self._hours[hour] = datetime.fromtimestamp(hour * 3600, self.tz)
        return d + timedelta(seconds=epoch - hour * 3600)

    def day(self, q: int) -> str:
        return self.local(q * QUARTER).strftime("%Y-%m-%d")


def _new() -> dict:
    return {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0, "cost_usd": 0.0, "models": {}}


class Totals:
    """Sums for one period: tokens, cost and the same per model."""

    def __init__(self, prices: PriceTable):
        self.prices = prices
        self.d = _new()
        self.unpriced: set[str] = set()
        self.responses = 0

    def add(self, r: Row) -> None:
        d = self.d
        rates = self.prices.rates(r.model, r.long)
        m = d["models"].get(r.model)
        if m is None:
            m = d["models"][r.model] = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0,
                                        "cost_usd": 0.0 if rates is not None else None}
        for k, v in zip(KINDS, r.tokens):
            d[k] += v
            m[k] += v
        self.responses += r.n
        if rates is None:
            self.unpriced.add(r.model)
            return
        cost = usd(rates, r.tokens, r.w1h)
        d["cost_usd"] += cost
        m["cost_usd"] += cost

    def out(self, **head) -> dict:
        d = dict(head)
        d.update(self.d)
        d["cost_usd"] = round(d["cost_usd"], 6)
        for m in d["models"].values():
            if m["cost_usd"] is not None:
                m["cost_usd"] = round(m["cost_usd"], 6)
        d["total_tokens"] = sum(d[k] for k in KINDS)
        d["responses"] = self.responses
        if self.unpriced:
            d["unpriced"] = sorted(self.unpriced)
        return d


def _period_key(kind: str, clock: Clock, q: int) -> str:
    day = clock.local(q * QUARTER)
    if kind == "daily":
        return day.strftime("%Y-%m-%d")
    if kind == "monthly":
        return day.strftime("%Y-%m")
    monday = day - timedelta(days=day.weekday())
    return monday.strftime("%Y-%m-%d")


def report(kind: str, rows, prices: PriceTable, tz, *, since: str | None = None, until: str | None = None,
           now: float | None = None) -> dict:
    """One report (``kind`` in :data:`REPORTS`) over ``rows``; ``since`` and
    ``until`` are local dates (``YYYY-MM-DD``, inclusive)."""
    clock = Clock(tz)
    rows = list(rows)
    placed = [r for r in rows if FIRST_Q <= r.q <= LAST_Q]
    skipped = 0 if len(placed) == len(rows) else sum(r.n for r in rows if not FIRST_Q <= r.q <= LAST_Q)
    rows = [r for r in placed if (since is None or clock.day(r.q) >= since) and
            (until is None or clock.day(r.q) <= until)]
    totals = Totals(prices)
    for r in rows:
        totals.add(r)
    k: Any  # a group's key and accumulator: their shapes depend on the kind
    g: Any
    if kind == "blocks":
        items = blocks(rows, prices, clock, now)
    elif kind in ("daily", "weekly", "monthly"):
        head = {"daily": "date", "weekly": "week", "monthly": "month"}[kind]
        groups: dict[str, Totals] = {}
        for r in rows:
            k = _period_key(kind, clock, r.q)
            g = groups.get(k)
            if g is None:
                g = groups[k] = Totals(prices)
            g.add(r)
        items = [g.out(**{head: k}) for k, g in sorted(groups.items())]
    elif kind == "session":
        sess: dict[tuple, list] = {}
        for r in rows:
            k = (r.session, r.project, r.agent)
            g = sess.get(k)
            if g is None:
                g = sess[k] = [Totals(prices), r.first, r.last]
            g[0].add(r)
            g[1], g[2] = min(g[1], r.first), max(g[2], r.last)
        items = [g[0].out(session=k[0], project=k[1], agent=k[2], first=_iso(g[1]), last=_iso(g[2]))
                 for k, g in sorted(sess.items(), key=lambda kv: kv[1][2])]
    elif kind == "project":
        proj: dict[str | None, list] = {}
        for r in rows:
            g = proj.get(r.project)
            if g is None:
                g = proj[r.project] = [Totals(prices), set(), r.last]
            g[0].add(r)
            g[1].add(r.session)
            g[2] = max(g[2], r.last)
        items = [g[0].out(project=k, sessions=len(g[1]), last=_iso(g[2]))
                 for k, g in sorted(proj.items(), key=lambda kv: -kv[1][0].d["cost_usd"])]
    else:
        raise ValueError(f"unknown report {kind!r} (one of: {', '.join(REPORTS)})")
    out: dict[str, Any] = {kind: items, "totals": totals.out()}
    if skipped:
        out["totals"]["skipped"] = skipped
    return out


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def blocks(rows, prices: PriceTable, clock: Clock, now: float | None) -> list[dict]:
    """Claude's 5-hour usage windows: a block starts on the hour of its first
    response and lasts five hours; a response five hours or more after the
    block's start, or after the previous response, starts the next one.
    Quarter-hour rows decide this exactly (block edges fall on the hour)."""
    import time

    now = time.time() if now is None else now
    quarters: dict[int, list] = {}
    for r in rows:
        g = quarters.get(r.q)
        if g is None:
            g = quarters[r.q] = [r.first, r.last, []]
        g[0], g[1] = min(g[0], r.first), max(g[1], r.last)
        g[2].append(r)
    out: list[dict] = []
    cur = None
    for q in sorted(quarters):
        first, last, rs = quarters[q]
        if cur is None or first >= cur["_start"] + BLOCK_S or first - cur["_last"] >= BLOCK_S:
            if cur is not None:
                out.append(_close_block(cur, now, clock))
                if first - cur["_last"] >= BLOCK_S:
                    out.append({"gap": True, "start": _iso(cur["_last"]), "end": _iso(first)})
            start = first - first % 3600
            cur = {"_start": start, "_first": first, "_last": last, "_totals": Totals(prices)}
        cur["_last"] = max(cur["_last"], last)
        for r in rs:
            cur["_totals"].add(r)
    if cur is not None:
        out.append(_close_block(cur, now, clock))
    return out


def _close_block(b: dict, now: float, clock: Clock) -> dict:
    t: Totals = b["_totals"]
    end = b["_start"] + BLOCK_S
    active = end > now and now - b["_last"] < BLOCK_S
    d = t.out(start=_iso(b["_start"]), end=_iso(end), first=_iso(b["_first"]), last=_iso(b["_last"]),
              active=active)
    minutes = max((b["_last"] - b["_first"]) / 60, 1.0)
    tokens = d["total_tokens"]
    d["burn_rate"] = {"tokens_per_minute": round(tokens / minutes, 1),
                      "cost_per_hour": round(d["cost_usd"] / minutes * 60, 4)}
    if active:
        left = end - now
        d["remaining_minutes"] = round(left / 60, 1)
        d["projection"] = {"total_tokens": round(tokens + tokens / minutes * left / 60),
                           "cost_usd": round(d["cost_usd"] + d["cost_usd"] / minutes * left / 60, 4)}
    return d
