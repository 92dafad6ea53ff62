"""Usage and error trends: what each event adds, in 15-minute buckets, and
the daily report built from the buckets.

Every number comes from the shared :class:`SessionSummary`: :class:`Rollup`
feeds it each event and files the change the event made (tool calls, tool
errors, LLM calls, tokens) under the event's 15-minute bucket, its model, its
sender and whether the request was a long-context one
(:func:`~agent_trace.usage.pricing.long_context`, as the usage index decides
it).  So the buckets of a session add up to exactly its summary, and a day's
tokens are the tokens of the LLM responses stamped that day, as in the local
usage reports.  Cost is tokens x the price table, computed when the report is
made (a price change applies to history, as for local reports), per row as
the local reports price theirs: long-context rows at the long-context rates,
the cache writes kept for an hour (``cache_write_1h``, counted apart and
included in ``cache_write``) at their own price.

15 minutes because every time zone's offset is a multiple of it: a day in
any zone is a whole number of buckets.  The collector's PostgreSQL backend
stores the buckets at ingest; the file backend computes them from the
session files (cached per file).  :func:`report` turns either into the same
JSON.
"""

from __future__ import annotations

import datetime as _dt
import re
from itertools import groupby
from operator import add

from .. import event as ev
from ..usage.pricing import KINDS, cache_write_1h, long_context, usd
from .summary import SessionSummary, prices

BUCKET_S = 900
# (cache_write_1h: of cache_write, the tokens kept for an hour)
COUNTS = ("llm_calls", "input", "output", "cache_read", "cache_write", "tool_calls", "tool_errors", "cache_write_1h")
DIMENSIONS = ("user", "project", "model", "agent")
_TOOL_TYPES = frozenset({ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR})


def project_of(cwd) -> str | None:
    """A session's project: the last component of its working folder."""
    if not isinstance(cwd, str):
        return None
    tail = re.split(r"[\\/]", cwd.rstrip("/\\"))[-1]
    return tail or None


_SECONDS: dict[str, float] = {}  # "YYYY-MM-DDTHH:MM:SS" -> epoch: events come many per second


def epoch(ts) -> float | None:
    """Epoch seconds of an event's ``ts`` (None when it is not a time in
    the years 1970-9999)."""
    if type(ts) is not str or not ts:
        return None
    try:
        if len(ts) > 20 and ts[19] == "." and ts[-1] == "Z" and ts[20:-1].isdigit():
            t = _SECONDS.get(ts[:19])
            if t is None:
                if len(_SECONDS) > 4096:
                    _SECONDS.clear()
                t = _SECONDS[ts[:19]] = ev.iso_to_epoch(ts[:19] + "Z")
            t += float(ts[19:-1])
        else:
            t = ev.iso_to_epoch(ts)
    except (ValueError, TypeError, OverflowError):
        return None
    return t if 0 <= t < 253402300800 else None


def bucket_of(ts) -> int | None:
    """Epoch seconds of the 15-minute bucket holding ``ts`` (None when ``ts``
    is not a timestamp)."""
    t = epoch(ts)
    return None if t is None else int(t // BUCKET_S * BUCKET_S)


class Rollup:
    """One session's summary plus its buckets:
    ``(bucket, model, sender, long) -> [llm_calls, input, output, cache_read,
    cache_write, tool_calls, tool_errors, cache_write_1h]`` (tool counts under
    model ``""``, ``long`` False)."""

    def __init__(self, summary: SessionSummary | None = None, buckets: dict | None = None):
        self.summary = summary or SessionSummary()
        self.buckets: dict[tuple, list] = buckets if buckets is not None else {}

    def add(self, e: dict) -> None:
        s = self.summary
        t = e.get("type")
        if t == ev.LLM_RESPONSE:
            calls, tokens = s.llm_calls, tuple(s.tokens[k] for k in KINDS)
            s.add(e)
            if s.llm_calls == calls:
                return
            model = e.get("model") or "unknown"
            u = e.get("usage")
            counted = isinstance(u, dict)  # (the summary counts and prices tokens only then)
            key = (model if type(model) is str else str(model), counted and long_context(u))
            delta = [1, *(s.tokens[k] - tokens[i] for i, k in enumerate(KINDS)), 0, 0,
                     cache_write_1h(e) if counted else 0]
        elif t in _TOOL_TYPES:
            calls, errors = s.tool_calls, s.tool_errors
            s.add(e)
            if s.tool_calls == calls and s.tool_errors == errors:
                return
            key = ("", False)
            delta = [0, 0, 0, 0, 0, s.tool_calls - calls, s.tool_errors - errors, 0]
        else:
            s.add(e)
            return
        b = bucket_of(e.get("ts"))
        if b is None:
            return
        sender = e.get("sender")
        k = (b, key[0], sender if type(sender) is str else "", key[1])
        row = self.buckets.get(k)
        if row is None:
            self.buckets[k] = delta
        else:
            for i, v in enumerate(delta):
                row[i] += v

    def rows(self) -> list[tuple]:
        """``(bucket, model, sender, long, *COUNTS)`` per bucket."""
        return [(*k, *v) for k, v in self.buckets.items()]

    # resumable state (the file backend's cache keeps it between requests)
    def to_dict(self) -> dict:
        return {"summary": self.summary.to_dict(resumable=True), "buckets": [[*k, *v] for k, v in self.buckets.items()]}

    @classmethod
    def from_dict(cls, d: dict) -> "Rollup":
        return cls(SessionSummary.from_dict(d["summary"]), {tuple(r[:4]): list(r[4:]) for r in d["buckets"]})


# -- the report ---------------------------------------------------------------
def zone(name: str | None):
    """A ``tzinfo`` for an IANA zone name ("UTC" by default); ValueError when unknown."""
    if not name or name.upper() == "UTC":
        return _dt.timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}") from None


def day_of(bucket: int, tz) -> str:
    return _dt.datetime.fromtimestamp(bucket, tz).date().isoformat()


def day_range(since: str, until: str) -> list[str]:
    """Every date from ``since`` to ``until`` inclusive (``YYYY-MM-DD``)."""
    d, end = _dt.date.fromisoformat(since), _dt.date.fromisoformat(until)
    out: list[str] = []
    while d <= end and len(out) < 3700:
        out.append(d.isoformat())
        d += _dt.timedelta(days=1)
    return out



def _acc(v: list) -> dict:
    """An accumulator list (COUNTS..., cost) as the report's dict."""
    d = dict(zip(COUNTS, v))
    d["cost_usd"] = round(v[-1], 6)
    return d


def _coster():
    """``cost(model, long, counts)``: what the local usage reports give for a
    row of :data:`COUNTS` (:func:`~agent_trace.usage.pricing.usd` at the
    model's rates, long-context ones for a long row), with each model's
    rates looked up once per report."""
    table = prices()
    rates: dict[tuple, dict | None] = {}
    missing: dict = {}
    first = COUNTS.index(KINDS[0])
    assert COUNTS[first:first + len(KINDS)] == KINDS  # (so a slice of a row is its tokens)
    i_1h = COUNTS.index("cache_write_1h")

    def cost(model: str, long: bool, v: list) -> float | None:
        r = rates.get((model, long), missing)
        if r is missing:
            r = rates[(model, long)] = table.rates(model, long)
        if r is None:
            return None
        return usd(r, v[first:first + 4], v[i_1h])

    return cost


def report(rows, days: list[str], by: str, sessions_per_day: dict | None = None, **meta) -> dict:
    """The trends JSON from aggregated rows: tuples ``(date, key, model,
    long, *COUNTS)`` (``key``: the ``by`` dimension's value), one per date,
    key, model and ``long`` (long-context requests, priced apart).

    ``daily`` has the shape of ``usage daily --json`` (date, tokens, cost,
    models) plus tool calls/errors and the per-``by`` split; ``groups`` ranks
    the ``by`` values by cost."""
    cost_of = _coster()
    n = len(COUNTS)
    per_day: dict[str, list] = {d: [0] * n + [0.0] for d in days}
    # counts: integer sums, in any order; costs: float sums, added row by
    # row in one order whatever the storage's (the rows sorted)
    # a run of rows per day and key, in order; the counts of a run, and of
    # each day's model, are added up column by column at the end
    group_counts: dict[tuple, list] = {}
    group_cost: dict[tuple, float] = {}
    model_rows: dict[tuple, list] = {}
    model_cost: dict[tuple, float] = {}
    day_cost = dict.fromkeys(days, 0.0)
    key_cost: dict[str, float] = {}
    unpriced: set[str] = set()
    ordered = sorted((r for r in rows if r[0] in day_cost), key=lambda r: (r[0], r[1] or "", r[2] or "", bool(r[3])))
    for (day, key), run in groupby(ordered, key=lambda r: (r[0], r[1] or "")):
        key = key or "(none)"
        dk = (day, key)
        g_cost, k_cost, d_cost = group_cost.get(dk, 0.0), key_cost.get(key, 0.0), day_cost[day]
        vecs = []
        for _day, _key, model, long, *vals in run:
            vecs.append(vals)
            cost = 0.0
            if model:
                c = cost_of(model, bool(long), vals)
                if c is None:
                    if vals[0]:  # (llm_calls)
                        unpriced.add(model)
                else:
                    cost = c
                dm = (day, model)
                m = model_cost.get(dm)
                if m is None:
                    model_rows[dm] = [vals]
                    model_cost[dm] = 0.0 + cost
                else:
                    model_rows[dm].append(vals)
                    model_cost[dm] = m + cost
            g_cost += cost
            k_cost += cost
            d_cost += cost
        group_cost[dk], key_cost[key], day_cost[day] = g_cost, k_cost, d_cost
        sums = list(map(sum, zip(*vecs)))
        have = group_counts.get(dk)  # ("" and None keys, both "(none)", may come in two runs)
        group_counts[dk] = sums if have is None else list(map(add, have, sums))
    groups: dict[str, list] = {k: [0] * n + [c] for k, c in key_cost.items()}
    for (day, key), g in group_counts.items():
        acc, t = per_day[day], groups[key]
        acc[:n] = map(add, acc, g)
        t[:n] = map(add, t, g)
    for day, c in day_cost.items():
        per_day[day][-1] = c
    daily = {d: {"date": d, **_acc(v), "sessions": (sessions_per_day or {}).get(d, 0), "models": {}, "groups": {}}
             for d, v in per_day.items()}
    for dm, vecs in model_rows.items():
        entry = _acc([*map(sum, zip(*vecs)), model_cost[dm]])
        entry["calls"] = entry.pop("llm_calls")
        for k in ("tool_calls", "tool_errors"):
            del entry[k]
        daily[dm[0]]["models"][dm[1]] = entry
    for dk, v in group_counts.items():
        daily[dk[0]]["groups"][dk[1]] = _acc([*v, group_cost[dk]])
    totals = [sum(v[i] for v in per_day.values()) for i in range(n + 1)]
    return {**meta, "by": by, "days": days, "daily": list(daily.values()),
            "groups": sorted(({"key": k, **_acc(v)} for k, v in groups.items()),
                             key=lambda g: (-g["cost_usd"], -g["tool_errors"], g["key"])),
            "totals": _acc(totals), "unpriced": sorted(unpriced)}
