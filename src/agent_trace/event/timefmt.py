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
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


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
