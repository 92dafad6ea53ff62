"""Parsing and showing the store's timestamps and durations."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_iso(ts: str) -> float:
    """``2026-11-21T19:32:47.123456Z`` (or any ISO 8601 form) -> epoch seconds."""
    if ts.endswith("Z"):
        ts = ts[:-1] + "+00:00"
    dt = datetime.fromisoformat(ts)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def human_duration(seconds: float | None) -> str:
    """``9ms``, ``1.2s``, ``1m30s``, ``2h05m``: the one way every view (CLI,
    dashboard, VS Code) prints a duration.  Halves round up below a minute
    (as JavaScript's ``Math.round``); minutes and hours are whole, floored.
    ``web/app.js`` and the VS Code extension carry the same function, checked
    against ``tests/fixtures/durations.json``."""
    if seconds is None:
        return "-"
    if seconds < 0:
        seconds = 0.0
    ms = int(seconds * 1000 + 0.5)
    if ms < 1000:
        return f"{ms}ms"
    tenths = int(seconds * 10 + 0.5)
    if tenths < 600:
        return f"{tenths // 10}.{tenths % 10}s"
    whole = max(int(seconds), 60)  # 59.95 s rounds up to a minute
    m, s = divmod(whole, 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


def event_duration(ms: object) -> str:
    """`` 9ms`` after an event line, or nothing when the event has no duration."""
    return f" {human_duration(ms / 1000)}" if isinstance(ms, (int, float)) and not isinstance(ms, bool) else ""


def parse_duration(text: str) -> float:
    """``"30m"``, ``"1h30m"``, ``"90s"``, ``"250ms"``, ``"45"`` -> seconds."""
    text = text.strip().lower()
    if not text:
        raise ValueError("empty duration")
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    total, num = 0.0, ""
    i = 0
    while i < len(text):
        c = text[i]
        if c.isdigit() or c == ".":
            num += c
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else c
        if unit not in units or not num:
            raise ValueError(f"bad duration {text!r} (use e.g. 90s, 30m, 1h30m)")
        total += float(num) * units[unit]
        num = ""
        i += len(unit)
    if num:
        total += float(num)
    return total
