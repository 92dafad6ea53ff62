"""The dashboard API's query parameters, read once for both backends.

Bad values get a clear :class:`BadParam` (HTTP 400), never a silent default:
``since``/``until`` take a date (``2026-11-01``), a UTC time
(``2026-11-01T12:00:00Z``) or an age (``7d``, ``12h``); ``min_cost`` a
number; ``limit`` a positive integer (capped); ``tz`` an IANA zone name.
"""

from __future__ import annotations

import re
import time

from ..analysis.trends import DIMENSIONS, zone
from ..event import now_iso
from ..event.timefmt import parse_duration, parse_iso

STATUSES = ("", "running", "ended", "stopped", "idle")
MAX_LIMIT = 5000
_AGE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|[smhd]))+")


class BadParam(ValueError):
    pass


def when(value: str | None, name: str) -> float | None:
    """Epoch seconds for a ``since``/``until`` value, or None when absent."""
    if not value:
        return None
    v = value.strip()
    if _AGE.fullmatch(v):
        return time.time() - parse_duration(v)
    try:
        return parse_iso(v if "T" in v else v + "T00:00:00Z")
    except (ValueError, OverflowError):
        raise BadParam(f"{name}: {value!r} is not a date (2026-11-01), a time (2026-11-01T12:00:00Z) "
                       "or an age (7d, 12h)") from None


def iso(t: float | None) -> str | None:
    return None if t is None else now_iso(t)


def number(value: str | None, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        f = float(value)
    except ValueError:
        raise BadParam(f"{name}: {value!r} is not a number") from None
    if f != f or f in (float("inf"), float("-inf")):
        raise BadParam(f"{name}: {value!r} is not a number")
    return f


def limit(value: str | None, default: int, cap: int = MAX_LIMIT) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except ValueError:
        raise BadParam(f"limit: {value!r} is not an integer") from None
    return max(1, min(cap, n))


class SessionFilters:
    """Filters of the sessions list and of search: ``q`` (sessions only:
    id, title, folder, last error), ``agent``, ``user`` (the token name),
    ``project``, ``status``, ``min_cost``, ``since``/``until`` (last event
    time), ``branch``/``commit`` (git)."""

    def __init__(self, params: dict):
        self.q = (params.get("q") or "").strip()
        self.agent = params.get("agent") or ""
        self.user = params.get("user") or ""
        self.project = params.get("project") or ""
        self.status = params.get("status") or ""
        if self.status not in STATUSES:
            raise BadParam(f"status: {self.status!r} is not one of running, ended, stopped, idle")
        self.min_cost = number(params.get("min_cost"), "min_cost") or 0.0
        self.since = when(params.get("since"), "since")
        self.until = when(params.get("until"), "until")
        self.branch = params.get("branch") or None  # git
        self.commit = params.get("commit") or None


class TrendParams:
    """``days`` (default 30, at most 400) ending today, or ``since``/``until``
    dates; ``tz`` (default UTC); ``by`` user|project|model|agent; filters
    ``user``, ``project``, ``agent``."""

    def __init__(self, params: dict):
        self.by = params.get("by") or "user"
        if self.by not in DIMENSIONS:
            raise BadParam(f"by: {self.by!r} is not one of {', '.join(DIMENSIONS)}")
        try:
            self.tzname = params.get("tz") or "UTC"
            self.tz = zone(self.tzname)
        except ValueError as e:
            raise BadParam(f"tz: {e}") from None
        import datetime as dt

        today = dt.datetime.now(self.tz).date()
        try:
            until = dt.date.fromisoformat(params["until"]) if params.get("until") else today
            if params.get("since"):
                since = dt.date.fromisoformat(params["since"])
            else:
                since = until - dt.timedelta(days=limit(params.get("days"), 30, 400) - 1)
        except ValueError:
            raise BadParam("since/until: use dates like 2026-11-01") from None
        if since > until or (until - since).days > 400:
            raise BadParam("since/until: since must be before until, at most 400 days apart")
        self.since_date, self.until_date = since.isoformat(), until.isoformat()
        start = dt.datetime.combine(since, dt.time(), self.tz)
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), self.tz)
        self.start, self.end = start.timestamp(), end.timestamp()  # [start, end)
        self.user = params.get("user") or ""
        self.project = params.get("project") or ""
        self.agent = params.get("agent") or ""

    def meta(self) -> dict:
        return {"since": self.since_date, "until": self.until_date, "tz": self.tzname,
                "filters": {k: getattr(self, k) for k in ("user", "project", "agent") if getattr(self, k)}}
