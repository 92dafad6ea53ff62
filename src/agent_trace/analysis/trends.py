"""Usage and error trends: what each event adds, in 15-minute buckets, and
the daily report built from the buckets.

Every number comes from the shared :class:`SessionSummary`: :class:`Rollup`
feeds it each event and files the change the event made (tool calls, tool
errors, LLM calls, tokens) under the event's 15-minute bucket, its model and
its sender.  So the buckets of a session add up to exactly its summary, and a
day's tokens are the tokens of the LLM responses stamped that day, as in the
local usage reports.  Cost is tokens x the price table, computed when the
report is made (a price change applies to history, as for local reports).

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
from ..usage.pricing import KINDS
from .summary import SessionSummary, prices

BUCKET_S = 900
COUNTS = ("llm_calls", "input", "output", "cache_read", "cache_write", "tool_calls", "tool_errors")
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
    ``(bucket, model, sender) -> [llm_calls, input, output, cache_read,
    cache_write, tool_calls, tool_errors]`` (tool counts under model ``""``)."""

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
            key = (model if type(model) is str else str(model), 1, 0)
            delta = [1, *(s.tokens[k] - tokens[i] for i, k in enumerate(KINDS)), 0, 0]
        elif t in _TOOL_TYPES:
            calls, errors = s.tool_calls, s.tool_errors
            s.add(e)
            if s.tool_calls == calls and s.tool_errors == errors:
                return
            key = ("", 0, 0)
            delta = [0, 0, 0, 0, 0, s.tool_calls - calls, s.tool_errors - errors]
        else:
            s.add(e)
            return
        b = bucket_of(e.get("ts"))
        if b is None:
            return
        sender = e.get("sender")
        k = (b, key[0], sender if type(sender) is str else "")
        row = self.buckets.get(k)
        if row is None:
            self.buckets[k] = delta
        else:
            for i, v in enumerate(delta):
                row[i] += v

    def rows(self) -> list[tuple]:
        """``(bucket, model, sender, *COUNTS)`` per bucket."""
        return [(*k, *v) for k, v in self.buckets.items()]

    # resumable state (the file backend's cache keeps it between requests)
    def to_dict(self) -> dict:
        return {"summary": self.summary.to_dict(resumable=True), "buckets": [[*k, *v] for k, v in self.buckets.items()]}

    @classmethod
    def from_dict(cls, d: dict) -> "Rollup":
        return cls(SessionSummary.from_dict(d["summary"]), {tuple(r[:3]): list(r[3:]) for r in d["buckets"]})


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
    """``cost(model, counts)``: what ``prices().cost(model, tokens)`` gives
    for the tokens in a row of :data:`COUNTS` (the same arithmetic), with
    each model's rates looked up once per report."""
    table = prices()
    rates: dict[str, tuple | None] = {}
    missing = ()
    at = [COUNTS.index(k) for k in KINDS]  # input, output, cache_read, cache_write
    i_in, i_out, i_cr, i_cw = at

    def cost(model: str, v: list) -> float | None:
        r = rates.get(model, missing)
        if r is missing:
            base = table.rates(model)
            if base is None:
                r = rates[model] = None
            else:
                lc = (table.price(model) or {}).get("long_context")
                above = lc.get("above", 200_000) if isinstance(lc, dict) else None
                long = table.rates(model, True)
                r = rates[model] = (tuple(base[k] for k in KINDS), above,
                                    tuple(long[k] for k in KINDS) if long else None)
        if r is None:
            return None
        rate, above, long_rate = r
        if above is not None and v[i_in] + v[i_cr] + v[i_cw] > above:
            rate = long_rate
        return (v[i_in] * rate[0] + v[i_out] * rate[1] + v[i_cr] * rate[2] + v[i_cw] * rate[3]) / 1_000_000

    return cost


def report(rows, days: list[str], by: str, sessions_per_day: dict | None = None, **meta) -> dict:
    """The trends JSON from aggregated rows: tuples ``(date, key, model,
    *COUNTS)`` (``key``: the ``by`` dimension's value), one per date, key
    and model.

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
    for day, key, model, *vals in sorted(rows, key=lambda r: (r[0], r[1] or "", r[2] or "")):
        acc = per_day.get(day)
        if acc is None:
            continue
        cost = 0.0
        if model:
            c = cost_of(model, vals)
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
