"""Storing a received batch in the database, exactly once.

Per session in the batch, one transaction of two round trips:

1. lock the session's row (``SELECT ... FOR UPDATE``; created when new) and
2. insert the batch (repeats within it dropped) with the next ``seq``
   numbers; ``ON CONFLICT (session, id) DO NOTHING`` leaves out the events
   the session already holds (their seq numbers stay unused: seq only has
   to grow), and ``RETURNING`` says which went in;
3. feed what was inserted to the session's shared summary (resumed from
   its stored state) and add what each event changed to its usage bucket,
   to the hourly sums of its sender, project, agent and model (moving the
   session's earlier sums when this batch changed its project or agent),
   the same per day and dimension (``usage_days``) and to the hours the
   session was active;
4. write the summary back, and commit.

The HTTP layer answers 200 only after the commits.  Each line is encoded
exactly as local capture does (redaction, caps) before anything is stored.
"""

from __future__ import annotations

import datetime as _dt
from itertools import accumulate

from ... import event as ev
from ...analysis import search_text
from ...analysis.summary import SessionSummary
from ...analysis.trends import COUNTS, Rollup, epoch, project_of
from ...event.encode import encode_event
from ...event.validate import problem
from ...event.fastjson import dumps, loads
from ...store.reader import ReadStats, parse_line

MAX_KEY = 1024  # characters of a session or event id (a btree entry must stay small)
MAX_LABEL = 200  # characters of indexed labels: agent, project, model, sender
ROW_KEYS = ("session", "title", "cwd", "agent", "started", "last", "ended", "events", "prompts", "tool_calls",
            "tool_errors", "llm_calls", "tokens", "cost_usd", "unpriced", "subagents", "decisions", "last_error",
            "duration_s", "sources", "senders", "git")
_UTC = _dt.timezone.utc


class Prepared:
    __slots__ = ("id", "line", "size", "obj", "ts", "type", "doc")
    id: str
    line: str  # the stored line (encoded: redacted, capped)
    size: int
    obj: dict | None  # the event as a reader of the line gets it (None: a reader skips it)
    ts: float | None
    type: str
    doc: str  # the words search indexes


def usable_key(s: str) -> bool:
    """Can be a key in the database: short, valid UTF-8, no NUL."""
    if len(s) > MAX_KEY or "\x00" in s:
        return False
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def label(s) -> str | None:
    """``s`` fit for a text column that is indexed."""
    if not isinstance(s, str):
        return None
    s = s[:MAX_LABEL].replace("\x00", "")
    return s.encode("utf-8", "replace").decode("utf-8")


def as_text(obj) -> str:
    """JSON text of ``obj`` that PostgreSQL's ``text`` accepts (lone
    surrogates stay JSON escapes)."""
    return dumps(obj).encode("utf-8", "backslashreplace").decode("utf-8")


def timestamp(ts) -> _dt.datetime | None:
    t = epoch(ts)
    return None if t is None else _dt.datetime.fromtimestamp(t, _UTC)


def prepare(events: list[dict], encode=encode_event) -> tuple[dict[str, list[Prepared]], int]:
    """Encode each event; group by session.  Events whose id, session or type
    cannot be a database key are rejected (counted).  (``encode``: only the
    query benchmark passes another, for data it made without secrets.)"""
    by_session: dict[str, list[Prepared]] = {}
    rejected = 0
    stats = ReadStats()
    for e in events:
        if problem(e) is not None or not (usable_key(e["session"]) and usable_key(e["id"])
                                          and usable_key(e["type"])):
            rejected += 1
            continue
        try:
            line = encode(e)
        except (ValueError, TypeError, RecursionError):  # not JSON-serialisable: refuse it, keep the rest
            rejected += 1
            continue
        p = Prepared()
        p.id, p.type = e["id"], e["type"]
        p.size = len(line)
        p.line = line[:-1].decode("utf-8")
        # what a reader of the stored line gets (older versions upgraded,
        # newer ones and unknown types skipped, as in a session file)
        obj = e if e.get("v") == ev.SCHEMA_VERSION and p.type in ev.TYPES else parse_line(line[:-1], stats)
        p.obj = obj
        p.ts = epoch(e.get("ts"))
        text = search_text.event_text(obj) if obj is not None else ""
        p.doc = " ".join(search_text.words(text)) if text else ""
        by_session.setdefault(e["session"], []).append(p)
    return by_session, rejected


_CREATE = "INSERT INTO sessions (session) VALUES (%s) ON CONFLICT DO NOTHING"
# lock the session's row, then insert after its last seq: one statement, so
# a batch costs two round trips (this, then the summary and the commit)
_INSERT = """
WITH s AS (SELECT next_seq, state, project, agent FROM sessions WHERE session = %s FOR UPDATE),
ins AS (
    INSERT INTO events (session, seq, id, ts, type, line, doc)
    SELECT %s, s.next_seq + u.n - 1, u.id, to_timestamp(u.ts), u.type, u.line,
           CASE WHEN u.doc <> '' THEN to_tsvector('simple', u.doc) END
    FROM s, unnest(%b::text[], %b::float8[], %b::text[], %b::text[], %b::text[])
            WITH ORDINALITY AS u(id, ts, type, line, doc, n)
    ON CONFLICT (session, id) DO NOTHING
    RETURNING id)
SELECT s.next_seq, s.state, ARRAY(SELECT id FROM ins), s.project, s.agent FROM s"""
_C = ", ".join(COUNTS)
# a batch's usage in one statement: its buckets, the hourly sums (rows in
# key order, so concurrent batches lock shared rows in one order) and the
# hours the session was active
_USAGE = f"""
WITH u AS (
    SELECT u.*, floor(u.bucket / 3600) * 3600 AS hour
    FROM unnest(%(b)b::float8[], %(m)b::text[], %(s)b::text[], {", ".join(f"%({c})b::bigint[]" for c in COUNTS)})
         AS u(bucket, model, sender, {_C})),
b AS (
    INSERT INTO usage_buckets (session, bucket, model, sender, {_C})
    SELECT %(session)s, to_timestamp(u.bucket), u.model, u.sender, {", ".join("u." + c for c in COUNTS)} FROM u
    ON CONFLICT (session, bucket, model, sender) DO UPDATE SET
        {", ".join(f"{c} = usage_buckets.{c} + EXCLUDED.{c}" for c in COUNTS)}),
{{hours}}a AS (
    INSERT INTO session_hours (session, hour, sender)
    SELECT DISTINCT %(session)s, to_timestamp(u.hour), u.sender FROM u
    ON CONFLICT DO NOTHING)
SELECT 1"""
_USAGE_HOURS = f"""h AS (
    INSERT INTO usage_hours (hour, sender, project, agent, model, {_C})
    SELECT to_timestamp(u.hour), u.sender, %(project)s, %(agent)s, u.model, {", ".join(f"sum(u.{c})" for c in COUNTS)}
    FROM u GROUP BY u.hour, u.sender, u.model ORDER BY u.hour, u.sender, u.model
    ON CONFLICT (hour, sender, project, agent, model) DO UPDATE SET
        {", ".join(f"{c} = usage_hours.{c} + EXCLUDED.{c}" for c in COUNTS)}),
"""
_USAGE_WITH_HOURS = _USAGE.replace("{hours}", _USAGE_HOURS)
_USAGE = _USAGE.replace("{hours}", "")
# rows in key order, so concurrent batches lock shared rows in one order
_HOURS = f"""
INSERT INTO usage_hours (hour, sender, project, agent, model, {", ".join(COUNTS)})
SELECT to_timestamp(u.hour), u.sender, u.project, u.agent, u.model, {", ".join("u." + c for c in COUNTS)}
FROM unnest(%b::float8[], %b::text[], %b::text[], %b::text[], %b::text[], {", ".join(["%b::bigint[]"] * len(COUNTS))})
     AS u(hour, sender, project, agent, model, {", ".join(COUNTS)})
ORDER BY u.hour, u.sender, u.project, u.agent, u.model
ON CONFLICT (hour, sender, project, agent, model) DO UPDATE SET
    {", ".join(f"{c} = usage_hours.{c} + EXCLUDED.{c}" for c in COUNTS)}"""
# a session's sums per hour, as it stands (to move or remove them)
_SESSION_HOURS = f"""
SELECT floor(extract(epoch FROM bucket) / 3600)::float8 * 3600, sender, model, {", ".join(f"sum({c})::bigint"
                                                                                        for c in COUNTS)}
FROM usage_buckets WHERE session = %s GROUP BY 1, 2, 3"""
_DROP_EMPTY = f"""
DELETE FROM usage_hours WHERE project = %s AND agent = %s AND {" AND ".join(f"{c} = 0" for c in COUNTS)}
    AND (hour, sender, model) IN (SELECT to_timestamp(h), s, m FROM unnest(%b::float8[], %b::text[], %b::text[])
                                  AS u(h, s, m))"""
DAY_SLOTS = 25  # running totals per count in a usage_days row: hours before 0, 1, ... 24
_ROW = DAY_SLOTS * len(COUNTS)
_DAYS = f"""
INSERT INTO usage_days (dim, day, key, model, sums)
SELECT u.dim, u.day, u.key, u.model, s.a[(u.n - 1) * {_ROW} + 1:u.n * {_ROW}]
FROM unnest(%b::text[], %b::date[], %b::text[], %b::text[]) WITH ORDINALITY AS u(dim, day, key, model, n),
     (SELECT %b::bigint[] AS a) s
ORDER BY u.n
ON CONFLICT (dim, day, key, model) DO UPDATE SET sums = add_sums(usage_days.sums, EXCLUDED.sums)"""
_DROP_EMPTY_DAYS = f"""
DELETE FROM usage_days WHERE {" AND ".join(f"sums[{(i + 1) * DAY_SLOTS}] = 0" for i in range(len(COUNTS)))}
    AND (dim, day, key, model) IN (SELECT * FROM unnest(%b::text[], %b::date[], %b::text[], %b::text[]))"""
_UPDATE = """
UPDATE sessions SET next_seq = %(next_seq)s, started = %(started)s, last = %(last)s, agent = %(agent)s,
    project = %(project)s, title = %(title)s, cwd = %(cwd)s, ended = %(ended)s, stopped = %(stopped)s,
    events = %(events)s, tool_calls = %(tool_calls)s, tool_errors = %(tool_errors)s, llm_calls = %(llm_calls)s,
    tokens = %(tokens)s, cost_usd = %(cost_usd)s, last_error = %(last_error)s, bytes = bytes + %(bytes)s,
    row = %(row)s, state = %(state)s, sender = %(sender)s, changed = now()
WHERE session = %(session)s"""


def store(conn, by_session: dict[str, list[Prepared]], stored: list | None = None) -> tuple[int, int]:
    """Store prepared batches, one transaction per session, committed:
    (accepted, duplicates).  ``stored`` (when given) receives each newly
    stored event as a reader sees it."""
    accepted = duplicates = 0
    for session in sorted(by_session):
        items, seen = [], set()
        for p in by_session[session]:
            if p.id in seen:
                duplicates += 1
            else:
                seen.add(p.id)
                items.append(p)
        with conn.pipeline():
            conn.execute(_CREATE, (session,))
            next_seq, state, ids, project, agent = conn.execute(_INSERT, (
                session, session, [p.id for p in items], [p.ts for p in items], [p.type for p in items],
                [p.line for p in items], [p.doc for p in items])).fetchone()
            # ids the session already held were left out; their seq numbers
            # stay unused (seq only has to grow)
            inserted = set(ids)
            duplicates += len(items) - len(inserted)
            if inserted:
                accepted += len(inserted)
                roll = Rollup(SessionSummary.from_dict(loads(state)) if state else SessionSummary(session))
                size = 0
                for p in items:
                    if p.id in inserted:
                        size += p.size
                        if stored is not None and p.obj is not None:
                            stored.append(p.obj)
                        if p.obj is not None:
                            try:
                                roll.add(p.obj)
                            except Exception:  # a hostile value the summary cannot count: stored, not counted
                                pass
                _add_usage(conn, session, roll, (project or "", agent or "") if next_seq > 1 else None)
                _write_session(conn, session, roll.summary, next_seq + len(items), size)
            conn.commit()
    return accepted, duplicates


def _add_usage(conn, session: str, roll: Rollup, old: tuple[str, str] | None = None) -> None:
    """Add what ``roll`` counted to the session's buckets, the hourly and
    daily sums and the session's active hours.  ``old``: the (project,
    agent) the session's sums are filed under so far (``sessions``' columns,
    ``''`` for NULL); None for a new session."""
    rows = [(b, label(m), label(s), *c) for b, m, s, *c in roll.rows()]
    project, agent = label(project_of(roll.summary.cwd)) or "", label(roll.summary.agent) or ""
    hours: dict[tuple, list] = {}
    moved = []
    if old is not None and old != (project, agent):
        # the batch told the session's project or agent: its earlier sums
        # move from the old key to the new one, with the batch's own, in
        # one statement (rows locked in one order)
        moved = conn.execute(_SESSION_HOURS, (session,)).fetchall()
        for h, sender, model, *c in moved:
            _add_to(hours, (h, sender, *old, model), [-v for v in c])
            _add_to(hours, (h, sender, project, agent, model), c)
    for b, model, sender, *c in rows:
        _add_to(hours, (float(b // 3600 * 3600), sender, project, agent, model), c)
    if rows:
        cols = list(zip(*rows))
        params = {"session": session, "b": [float(b) for b in cols[0]], "m": list(cols[1]), "s": list(cols[2]),
                  "project": project, "agent": agent, **{c: list(v) for c, v in zip(COUNTS, cols[3:])}}
        conn.execute(_USAGE if moved else _USAGE_WITH_HOURS, params)
    if moved:
        _write_hours(conn, hours)
        _drop_empty(conn, [(h, sender, model) for h, sender, model, *_c in moved], *(old or ("", "")))
    if hours:  # after usage_hours: every transaction locks hourly rows, then daily ones
        write_days(conn, hours, negative=bool(moved))


def _add_to(hours: dict, key: tuple, counts) -> None:
    acc = hours.get(key)
    if acc is None:
        hours[key] = list(counts)
    else:
        for i, v in enumerate(counts):
            acc[i] += v


def _write_hours(conn, hours: dict) -> None:
    keys = sorted(hours)
    cols = list(zip(*keys))
    vals = list(zip(*(hours[k] for k in keys)))
    conn.execute(_HOURS, (*[list(c) for c in cols], *[list(v) for v in vals]))


def remove_hours(conn, session: str, project: str | None, agent: str | None) -> None:
    """Take a session's sums out of ``usage_hours`` (before it is deleted):
    sums left at zero are dropped, as if the session had never been there."""
    sums = conn.execute(_SESSION_HOURS, (session,)).fetchall()
    if not sums:
        return
    project, agent = project or "", agent or ""
    hours: dict[tuple, list] = {}
    for h, sender, model, *c in sums:
        _add_to(hours, (h, sender, project, agent, model), [-v for v in c])
    _write_hours(conn, hours)
    _drop_empty(conn, [(h, sender, model) for h, sender, model, *_c in sums], project, agent)
    write_days(conn, hours, negative=True)


def day_rows(hours: dict) -> dict[tuple, list]:
    """Hourly sums ``{(hour epoch, sender, project, agent, model): counts}``
    as ``usage_days`` rows: ``{(dim, UTC date, key, model): sums}``, where
    ``sums`` holds per count the running totals over the day's hours before
    hour 0..24 (see :mod:`.migrations`).  Migration 4 fills the table with
    this too."""
    slots = DAY_SLOTS - 1
    per_hour: dict[tuple, list] = {}
    for (h, sender, project, agent, model), counts in hours.items():
        day = _dt.datetime.fromtimestamp(h, _UTC).date()
        hod = int(h % 86400 // 3600)
        for dim, key in (("user", sender), ("project", project), ("agent", agent)):
            acc = per_hour.get((dim, day, key, model))
            if acc is None:
                acc = per_hour[(dim, day, key, model)] = [0] * (slots * len(COUNTS))
            for i, v in enumerate(counts):
                acc[i * slots + hod] += v
    out = {}
    for k, acc in per_hour.items():
        row: list[int] = []
        for i in range(len(COUNTS)):
            row.extend(accumulate(acc[i * slots:(i + 1) * slots], initial=0))
        out[k] = row
    return out


def write_days(conn, hours: dict, negative: bool = False) -> None:
    """Add hourly sums to ``usage_days`` (rows in key order, so concurrent
    transactions lock shared rows in one order); with ``negative`` (sums
    moved or taken out) rows left at zero are dropped."""
    days = day_rows(hours)
    keys = sorted(days)
    cols = list(zip(*keys))
    flat = [v for k in keys for v in days[k]]
    conn.execute(_DAYS, (*[list(c) for c in cols], flat))
    if negative:
        conn.execute(_DROP_EMPTY_DAYS, [list(c) for c in cols])


def _drop_empty(conn, keys: list, project: str, agent: str) -> None:
    cols = list(zip(*keys))
    conn.execute(_DROP_EMPTY, (project, agent, *[list(c) for c in cols]))


def _write_session(conn, session: str, s: SessionSummary, next_seq: int, size: int) -> None:
    d = s.to_dict(resumable=True)
    row = {k: d.get(k) for k in ROW_KEYS}
    row["session"] = session
    row["project"] = project_of(s.cwd)
    row["user"] = s.senders[0] if s.senders else None
    if row["git"]:
        row["git"] = {k: v for k, v in row["git"].items() if k != "diff"}  # as the file backend lists it
    decisions = d.get("decisions") or {}
    conn.execute(_UPDATE, {
        "session": session, "next_seq": next_seq, "started": timestamp(s.started), "last": timestamp(s.last),
        "agent": label(s.agent), "project": label(row["project"]), "title": label(s.title),
        "cwd": s.cwd.replace("\x00", "").encode("utf-8", "replace").decode("utf-8") if s.cwd else None,
        "ended": bool(s.ended), "stopped": bool(decisions.get("stopped") or decisions.get("killed")),
        "events": s.events, "tool_calls": s.tool_calls, "tool_errors": s.tool_errors, "llm_calls": s.llm_calls,
        "tokens": sum(v for v in s.tokens.values() if isinstance(v, int)), "cost_usd": float(d["cost_usd"] or 0),
        "last_error": label(s.last_error), "bytes": size, "row": as_text(row),
        "state": as_text(d), "sender": label(row["user"]),
    })
