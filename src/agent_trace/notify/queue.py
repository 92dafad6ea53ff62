"""The alert spool: alerts wait in the store's ``state/`` until a sender
delivers them, so whoever notices a happening (a hook on the agent's path)
only appends a line and never waits on the network.

Layout, one folder per target (its key, never its URL)::

    state/notify/
      sender.alive            held (flock) by a detached sender for its lifetime
      sender.lock             held by whoever is delivering right now
      <target>/alerts.jsonl   append-only: one alert per line
      <target>/marks.jsonl    append-only: {"id", "state", "at", ...}; the last mark of an id wins
      <target>/queued/<id>    created with O_EXCL: an alert is queued once, whoever sees it first
      <target>/pending        exists while alerts may wait (set by enqueue, cleared by a sender)

Mark states: ``sending`` (written before the request), ``sent``, ``retry``
(with ``next``: the receiver was unreachable or answered 5xx/429/408),
``failed`` (refused for good, or given up), ``doubt`` (the request may have
arrived: a timeout or a broken connection after sending, or a sender that died
mid-request; never sent again, so each alert arrives at most once).
"""

from __future__ import annotations

import os

from ..event.fastjson import dumps, loads
from ..store.writer import append_lines

FINAL = frozenset({"sent", "failed", "doubt"})


def notify_dir(state_dir: str) -> str:
    return os.path.join(state_dir, "notify")


def target_dir(state_dir: str, key: str) -> str:
    return os.path.join(state_dir, "notify", key)


def is_queued(state_dir: str, *, key: str, alert_id: str) -> bool:
    return os.path.exists(os.path.join(target_dir(state_dir, key), "queued", alert_id))


def enqueue(state_dir: str, alerts: list[dict]) -> list[dict]:
    """Queue each alert once (whoever calls first); returns those queued now."""
    fresh: dict[str, list[dict]] = {}
    for a in alerts:
        q = os.path.join(target_dir(state_dir, a["target"]), "queued")
        try:
            fd = os.open(os.path.join(q, a["id"]), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            os.makedirs(q, mode=0o700, exist_ok=True)
            try:
                fd = os.open(os.path.join(q, a["id"]), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            except FileExistsError:
                continue
        except FileExistsError:
            continue
        os.close(fd)
        fresh.setdefault(a["target"], []).append(a)
    for key, group in fresh.items():
        d = target_dir(state_dir, key)
        append_lines(os.path.join(d, "alerts.jsonl"), "".join(dumps(a) + "\n" for a in group).encode(
            "utf-8", "backslashreplace"))
        flag = os.path.join(d, "pending")
        with open(flag, "a"):
            pass  # after the append: a sender that clears the flag re-reads the alerts
    return [a for group in fresh.values() for a in group]


def has_pending(state_dir: str, keys) -> bool:
    return any(os.path.exists(os.path.join(target_dir(state_dir, k), "pending")) for k in keys)


def clear_pending(state_dir: str, key: str) -> None:
    try:
        os.unlink(os.path.join(target_dir(state_dir, key), "pending"))
    except FileNotFoundError:
        pass


def _lines(path: str):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except ValueError:
            continue  # a torn line: what it held is lost, the rest is kept
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            yield obj


def load(state_dir: str, key: str) -> tuple[list[dict], dict[str, dict]]:
    """(alerts in queue order, the last mark of each alert id)."""
    d = target_dir(state_dir, key)
    seen, alerts = set(), []
    for a in _lines(os.path.join(d, "alerts.jsonl")):
        if a["id"] not in seen:
            seen.add(a["id"])
            alerts.append(a)
    marks: dict[str, dict] = {}
    for m in _lines(os.path.join(d, "marks.jsonl")):
        marks[m["id"]] = m
    return alerts, marks


def mark(state_dir: str, key: str, alert_id: str, state: str, **fields) -> dict:
    import time

    m = {"id": alert_id, "state": state, "at": round(time.time(), 3), **fields}
    path = os.path.join(target_dir(state_dir, key), "marks.jsonl")
    line = (dumps(m) + "\n").encode("utf-8", "backslashreplace")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)  # a sent mark must survive a crash: it is what keeps the alert from going twice
    finally:
        os.close(fd)
    return m


def target_keys(state_dir: str) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(notify_dir(state_dir)) if e.is_dir())
    except FileNotFoundError:
        return []


def status(state_dir: str, key: str) -> dict:
    """Counts by state (``queued`` = not yet tried) and the last error."""
    alerts, marks = load(state_dir, key)
    counts: dict[str, int] = {}
    last_error = None
    for a in alerts:
        m = marks.get(a["id"])
        st = m["state"] if m else "queued"
        counts[st] = counts.get(st, 0) + 1
        if m and m.get("error"):
            last_error = m["error"]
    return {"target": key, "alerts": len(alerts), "counts": counts, "last_error": last_error}


COMPACT_BYTES = 512 * 1024
KEEP_S = 30 * 24 * 3600


def compact(state_dir: str, key: str, now: float) -> bool:
    """Once nothing waits and the spool has grown: keep only the last month
    of alerts, their marks and their ``queued`` markers (which keep a
    happening from being alerted twice).  Called by a sender holding the
    sender lock; appenders are held off by the alerts file's own lock."""
    import fcntl

    d = target_dir(state_dir, key)
    path = os.path.join(d, "alerts.jsonl")
    try:
        if os.path.getsize(path) < COMPACT_BYTES:
            return False
    except OSError:
        return False
    _, marks = load(state_dir, key)
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read()
        kept, dropped = [], []
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                a = loads(line)
            except ValueError:
                continue
            # type-checker: an event without the id just misses
            m = marks.get(a.get("id")) if isinstance(a, dict) else None  # type: ignore[arg-type]
            if m is None or m.get("state") not in FINAL or now - m.get("at", now) < KEEP_S:
                kept.append(line)
            else:
                dropped.append(a["id"])
        body = b"".join(x + b"\n" for x in kept)
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, body)
    finally:
        os.close(fd)
    gone = set(dropped)
    mpath = os.path.join(d, "marks.jsonl")
    lines = [dumps(m) + "\n" for i, m in marks.items() if i not in gone]
    tmp = mpath + ".tmp"
    with open(tmp, "w", encoding="utf-8", errors="backslashreplace") as f:
        f.write("".join(lines))
    os.replace(tmp, mpath)
    for i in dropped:
        try:
            os.unlink(os.path.join(d, "queued", i))
        except OSError:
            pass
    return True
