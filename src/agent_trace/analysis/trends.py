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
    at = [COUNTS.index(k) for k in KINDS]  # input, output, cache_read, cache_write
    i_1h = COUNTS.index("cache_write_1h")

    def cost(model: str, long: bool, v: list) -> float | None:
        r = rates.get((model, long), missing)
        if r is missing:
            r = rates[(model, long)] = table.rates(model, long)
        if r is None:
            return None
        return usd(r, [v[i] for i in at], v[i_1h])

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
    width = n + 1
    per_day: dict[str, list] = {d: [0] * n + [0.0] for d in days}
    day_groups: dict[tuple, list] = {}
    day_models: dict[tuple, list] = {}
    groups: dict[str, list] = {}
    unpriced: set[str] = set()
    # in one order whatever the storage's: costs are float sums
    for day, key, model, long, *vals in sorted(rows, key=lambda r: (r[0], r[1] or "", r[2] or "", bool(r[3]))):
        acc = per_day.get(day)
        if acc is None:
            continue
        cost = 0.0
        if model:
            c = cost_of(model, bool(long), vals)
            if c is None:
                if vals[0]:  # (llm_calls)
                    unpriced.add(model)
            else:
                cost = c
            m = day_models.get((day, model))
            if m is None:
                m = day_models[(day, model)] = [0] * width
            for i, v in enumerate(vals):
                m[i] += v
            m[-1] += cost
        if key in (None, ""):
            key = "(none)"
        g = day_groups.get((day, key))
        if g is None:
            g = day_groups[(day, key)] = [0] * width
            if key not in groups:
                groups[key] = [0] * width
        for i, v in enumerate(vals):
            g[i] += v
        # costs are added row by row (float sums depend on their order);
        # the counts of days and groups are added up from day_groups below
        acc[-1] += cost
        g[-1] += cost
        groups[key][-1] += cost
    for (day, key), g in day_groups.items():
        acc, t = per_day[day], groups[key]
        for i in range(n):
            acc[i] += g[i]
            t[i] += g[i]
    daily = {d: {"date": d, **_acc(v), "sessions": (sessions_per_day or {}).get(d, 0), "models": {}, "groups": {}}
             for d, v in per_day.items()}
    for (d, model), v in day_models.items():
        entry = _acc(v)
        entry["calls"] = entry.pop("llm_calls")
        for k in ("tool_calls", "tool_errors"):
            del entry[k]
        daily[d]["models"][model] = entry
    for (d, key), v in day_groups.items():
        daily[d]["groups"][key] = _acc(v)
    totals = [sum(v[i] for v in per_day.values()) for i in range(width)]
    return {**meta, "by": by, "days": days, "daily": list(daily.values()),
            "groups": sorted(({"key": k, **_acc(v)} for k, v in groups.items()),
                             key=lambda g: (-g["cost_usd"], -g["tool_errors"], g["key"])),
            "totals": _acc(totals), "unpriced": sorted(unpriced)}
