"""Storing received batches in the database, exactly once.

The batches of requests that arrive together at one collector are stored
in one transaction (group commit, :mod:`.group_commit`), of two round trips:

1. create the sessions' rows when new and lock them, in session order, and
2. insert each session's events (repeats dropped) with its next ``seq``
   numbers; ``ON CONFLICT (session, id) DO NOTHING`` leaves out the events
   a session already holds (their seq numbers stay unused: seq only has to
   grow), and ``RETURNING`` says which went in;
3. feed what was inserted to each session's shared summary (resumed from
   its stored state) and add what each event changed to its usage bucket,
   to the hourly sums of its sender, project, agent and model (moving the
   session's earlier sums when this batch changed its project or agent),
   the same per day and dimension (``usage_days``) and to the hours the
   session was active: one statement per table for the whole group;
4. write the summaries back, and commit.

The HTTP layer answers 200 only after the commit.  Each line is encoded
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


def _at(t: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(t, _UTC)


def timestamp(ts) -> _dt.datetime | None:
    t = epoch(ts)
    return None if t is None else _at(t)


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


# Lock order, the same in every transaction that writes (so concurrent
# ones never deadlock): session rows in session order (created first, then
# locked), then rows keyed by a locked session (events, usage_buckets,
# session_hours, session_days), then usage_hours in key order, then
# usage_days in key order.
_CREATE = "INSERT INTO sessions (session) SELECT s FROM unnest(%b::text[]) AS s ORDER BY 1 ON CONFLICT DO NOTHING"
# lock the sessions' rows, then insert each session's events after its last
# seq: one statement, so a group of batches costs two round trips (this,
# then the summaries, the usage and the commit)
_INSERT = """
WITH s AS (SELECT session, next_seq, state, project, agent FROM sessions WHERE session = ANY(%b::text[])
           ORDER BY session FOR UPDATE),
ins AS (
    INSERT INTO events (session, seq, id, ts, type, line, doc)
    SELECT u.session, s.next_seq + u.n - 1, u.id, to_timestamp(u.ts), u.type, u.line,
           CASE WHEN u.doc <> '' THEN to_tsvector('simple', u.doc) END
    FROM unnest(%b::text[], %b::int[], %b::text[], %b::float8[], %b::text[], %b::text[], %b::text[])
            AS u(session, n, id, ts, type, line, doc)
    JOIN s ON s.session = u.session
    ON CONFLICT (session, id) DO NOTHING
    RETURNING session, id)
SELECT s.session, s.next_seq, s.state, s.project, s.agent, coalesce(i.ids, '{}')
FROM s LEFT JOIN (SELECT session, array_agg(id) AS ids FROM ins GROUP BY session) i ON i.session = s.session"""
_C = ", ".join(COUNTS)
# the batches' 15-minute buckets and the hours their sessions were active
# (per sender, and per UTC day as a mask of hours), in one statement
_USAGE = f"""
WITH u AS (
    SELECT u.*, floor(u.bucket / 3600) * 3600 AS hour
    FROM unnest(%b::text[], %b::float8[], %b::text[], %b::text[], %b::bool[],
                {", ".join(["%b::bigint[]"] * len(COUNTS))}) AS u(session, bucket, model, sender, long, {_C})),
b AS (
    INSERT INTO usage_buckets (session, bucket, model, sender, long, {_C})
    SELECT u.session, to_timestamp(u.bucket), u.model, u.sender, u.long, {", ".join("u." + c for c in COUNTS)} FROM u
    ON CONFLICT (session, bucket, model, sender, long) DO UPDATE SET
        {", ".join(f"{c} = usage_buckets.{c} + EXCLUDED.{c}" for c in COUNTS)}),
h AS (
    INSERT INTO session_hours (session, hour, sender)
    SELECT DISTINCT u.session, to_timestamp(u.hour), u.sender FROM u
    ON CONFLICT DO NOTHING)
INSERT INTO session_days (session, day, hours)
SELECT u.session, (to_timestamp(u.hour) AT TIME ZONE 'UTC')::date,
       bit_or(1 << (floor(u.hour / 3600)::bigint %% 24)::int)
FROM u GROUP BY 1, 2 ORDER BY 1, 2
ON CONFLICT (session, day) DO UPDATE SET hours = session_days.hours | EXCLUDED.hours"""
# rows in key order, so concurrent batches lock shared rows in one order
_HOURS = f"""
INSERT INTO usage_hours (hour, sender, project, agent, model, long, {", ".join(COUNTS)})
SELECT to_timestamp(u.hour), u.sender, u.project, u.agent, u.model, u.long, {", ".join("u." + c for c in COUNTS)}
FROM unnest(%b::float8[], %b::text[], %b::text[], %b::text[], %b::text[], %b::bool[],
            {", ".join(["%b::bigint[]"] * len(COUNTS))}) AS u(hour, sender, project, agent, model, long, {_C})
ORDER BY u.hour, u.sender, u.project, u.agent, u.model, u.long
ON CONFLICT (hour, sender, project, agent, model, long) DO UPDATE SET
    {", ".join(f"{c} = usage_hours.{c} + EXCLUDED.{c}" for c in COUNTS)}"""
# a session's sums per hour, as it stands (to move or remove them)
_SESSION_HOURS = f"""
SELECT floor(extract(epoch FROM bucket) / 3600)::float8 * 3600, sender, model, long,
       {", ".join(f"sum({c})::bigint" for c in COUNTS)}
FROM usage_buckets WHERE session = %s GROUP BY 1, 2, 3, 4"""
_DROP_EMPTY = f"""
DELETE FROM usage_hours WHERE project = %s AND agent = %s AND {" AND ".join(f"{c} = 0" for c in COUNTS)}
    AND (hour, sender, model, long) IN (
        SELECT to_timestamp(h), s, m, g
        FROM unnest(%b::float8[], %b::text[], %b::text[], %b::bool[]) AS u(h, s, m, g))"""
DAY_SLOTS = 25  # running totals per count in a usage_days row: hours before 0, 1, ... 24
# hourly sums (as _HOURS takes them) added to usage_days: the running
# totals are made here, rows in key order
_DAYS = f"""
INSERT INTO usage_days (dim, day, key, model, long, sums)
SELECT dim, day, key, model, long, array_agg(v ORDER BY i, b) FROM (
    SELECT d.dim, (to_timestamp(u.hour) AT TIME ZONE 'UTC')::date AS day, d.key, u.model, u.long, i, b,
           sum(CASE WHEN floor(u.hour / 3600)::bigint %% 24 < b THEN (ARRAY[{_C}])[i] ELSE 0 END)::bigint AS v
    FROM unnest(%b::float8[], %b::text[], %b::text[], %b::text[], %b::text[], %b::bool[],
                {", ".join(["%b::bigint[]"] * len(COUNTS))}) AS u(hour, sender, project, agent, model, long, {_C})
    CROSS JOIN LATERAL (VALUES ('user', u.sender), ('project', u.project), ('agent', u.agent)) AS d(dim, key),
    generate_series(1, {len(COUNTS)}) i, generate_series(0, {DAY_SLOTS - 1}) b
    GROUP BY 1, 2, 3, 4, 5, 6, 7) x
GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (dim, day, key, model, long) DO UPDATE SET sums = add_sums(usage_days.sums, EXCLUDED.sums)"""
_DROP_EMPTY_DAYS = f"""
DELETE FROM usage_days WHERE {" AND ".join(f"sums[{(i + 1) * DAY_SLOTS}] = 0" for i in range(len(COUNTS)))}
    AND (dim, day, key, model, long) IN (SELECT * FROM unnest(%b::text[], %b::date[], %b::text[], %b::text[],
                                                              %b::bool[]))"""
_UPDATE = """
UPDATE sessions SET next_seq = %(next_seq)s, started = %(started)s, last = %(last)s, agent = %(agent)s,
    project = %(project)s, title = %(title)s, cwd = %(cwd)s, ended = %(ended)s, stopped = %(stopped)s,
    events = %(events)s, tool_calls = %(tool_calls)s, tool_errors = %(tool_errors)s, llm_calls = %(llm_calls)s,
    tokens = %(tokens)s, cost_usd = %(cost_usd)s, last_error = %(last_error)s, bytes = bytes + %(bytes)s,
    row = %(row)s, state = %(state)s, sender = %(sender)s, changed = now()
WHERE session = %(session)s"""


def store_group(conn, batches: list[dict[str, list[Prepared]]]) -> list[tuple[int, int, list]]:
    """Store several requests' prepared batches in one transaction and
    commit it: per batch ``(accepted, duplicates, events stored)``.  An
    event id repeated within the group is stored once, for the first batch
    that has it; the others count it as a duplicate, as if they had come
    after it."""
    accepted = [0] * len(batches)
    duplicates = [0] * len(batches)
    new: list[list] = [[] for _ in batches]
    sessions = sorted({s for b in batches for s in b})
    items: dict[str, list[tuple[int, Prepared]]] = {}
    for session in sessions:
        mine: list[tuple[int, Prepared]] = []
        seen: set[str] = set()
        items[session] = mine
        for j, batch in enumerate(batches):
            for p in batch.get(session, ()):
                if p.id in seen:
                    duplicates[j] += 1
                else:
                    seen.add(p.id)
                    mine.append((j, p))
    flat = [(session, n, p) for session in sessions for n, (_j, p) in enumerate(items[session], 1)]
    with conn.pipeline():
        conn.execute(_CREATE, (sessions,))
        rows = conn.execute(_INSERT, (sessions, [f[0] for f in flat], [f[1] for f in flat],
                                      [f[2].id for f in flat], [f[2].ts for f in flat], [f[2].type for f in flat],
                                      [f[2].line for f in flat], [f[2].doc for f in flat])).fetchall()
        usage: list[tuple] = []
        hours: dict[tuple, list] = {}
        moved_keys: list[tuple[list, tuple[str, str]]] = []
        updates = []
        for session, next_seq, state, project, agent, ids in rows:
            # ids the session already held were left out; their seq numbers
            # stay unused (seq only has to grow)
            inserted = set(ids)
            if not inserted:
                for j, _p in items[session]:
                    duplicates[j] += 1
                continue
            roll = Rollup(SessionSummary.from_dict(loads(state)) if state else SessionSummary(session))
            size = 0
            for j, p in items[session]:
                if p.id not in inserted:
                    duplicates[j] += 1
                    continue
                accepted[j] += 1
                size += p.size
                if p.obj is not None:
                    new[j].append(p.obj)
                    try:
                        roll.add(p.obj)
                    except Exception:  # a hostile value the summary cannot count: stored, not counted
                        pass
            old = (project or "", agent or "") if next_seq > 1 else None
            moved = _usage_of(conn, session, roll, old, usage, hours)
            if moved and old is not None:  # (only a session filed before can move)
                moved_keys.append((moved, old))
            updates.append((session, roll.summary, next_seq + len(items[session]), size))
        _write_usage(conn, usage, hours, moved_keys)
        for session, summary, next_seq, size in updates:
            _write_session(conn, session, summary, next_seq, size)
        conn.commit()
    return [(accepted[j], duplicates[j], new[j]) for j in range(len(batches))]


def _usage_of(conn, session: str, roll: Rollup, old: tuple[str, str] | None, usage: list,
              hours: dict, filed: tuple[str, str] | None = None) -> list:
    """What ``roll`` counted, as rows of the session's buckets (added to
    ``usage``) and changes to the hourly sums (added to ``hours``).  ``old``:
    the (project, agent) the session's sums are filed under so far
    (``sessions``' columns, ``''`` for NULL); None for a new session (then
    ``conn`` is not used).  When the batch told another project or agent,
    the session's earlier sums move from the old key to the new one;
    returns the (hour, sender, model, long) keys they moved from.  ``filed``:
    the (project, agent) to file the sums under, instead of what the summary
    tells (the rebuild keeps the sessions' columns)."""
    rows: dict[tuple, list] = {}
    for b, m, s, long, *c in roll.rows():
        _add_to(rows, (b, label(m), label(s), long), c)  # (labels cut to length may meet)
    project, agent = filed or (label(project_of(roll.summary.cwd)) or "", label(roll.summary.agent) or "")
    moved = []
    if old is not None and old != (project, agent):
        moved = conn.execute(_SESSION_HOURS, (session,)).fetchall()  # (before this batch's buckets)
        for h, sender, model, long, *c in moved:
            _add_to(hours, (h, sender, *old, model, long), [-v for v in c])
            _add_to(hours, (h, sender, project, agent, model, long), c)
    for (b, model, sender, long), c in rows.items():
        usage.append((session, float(b), model, sender, long, *c))
        _add_to(hours, (float(b // 3600 * 3600), sender, project, agent, model, long), c)
    return [(h, sender, model, long) for h, sender, model, long, *_c in moved]


def _add_usage(conn, session: str, roll: Rollup, old: tuple[str, str] | None = None) -> None:
    """Add what ``roll`` counted to the session's buckets, the hourly and
    daily sums and the session's active hours (one session, its row
    locked)."""
    usage: list = []
    hours: dict[tuple, list] = {}
    moved = _usage_of(conn, session, roll, old, usage, hours)
    _write_usage(conn, usage, hours, [(moved, old)] if moved and old is not None else [])


def _write_usage(conn, usage: list, hours: dict, moved: list[tuple[list, tuple[str, str]]]) -> None:
    """Write what :func:`_usage_of` gathered: the buckets and active hours,
    the hourly and daily sums, and drop the hourly rows that ``moved`` sums
    (``(keys, (project, agent))`` they moved from) left at zero."""
    if usage:
        conn.execute(_USAGE, [list(c) for c in zip(*usage)])
    if hours:
        _write_hours(conn, hours)
        for keys, (project, agent) in moved:
            _drop_empty(conn, keys, project, agent)
        write_days(conn, hours, negative=bool(moved))


def _add_to(hours: dict, key: tuple, counts) -> None:
    acc = hours.get(key)
    if acc is None:
        hours[key] = list(counts)
    else:
        for i, v in enumerate(counts):
            acc[i] += v


def _hour_params(hours: dict) -> list:
    keys = sorted(hours)
    return [list(c) for c in zip(*keys)] + [list(v) for v in zip(*(hours[k] for k in keys))]


def _write_hours(conn, hours: dict) -> None:
    conn.execute(_HOURS, _hour_params(hours))


def remove_hours(conn, session: str, project: str | None, agent: str | None) -> None:
    """Take a session's sums out of ``usage_hours`` (before it is deleted):
    sums left at zero are dropped, as if the session had never been there."""
    sums = conn.execute(_SESSION_HOURS, (session,)).fetchall()
    if not sums:
        return
    project, agent = project or "", agent or ""
    hours: dict[tuple, list] = {}
    for h, sender, model, long, *c in sums:
        _add_to(hours, (h, sender, project, agent, model, long), [-v for v in c])
    _write_hours(conn, hours)
    _drop_empty(conn, [(h, sender, model, long) for h, sender, model, long, *_c in sums], project, agent)
    write_days(conn, hours, negative=True)


def day_rows(hours: dict) -> dict[tuple, list]:
    """Hourly sums ``{(hour epoch, sender, project, agent, model, long):
    counts}`` as ``usage_days`` rows: ``{(dim, UTC date, key, model, long):
    sums}``, where ``sums`` holds per count the running totals over the
    day's hours before hour 0..24 (see :mod:`.migrations`).  Migrations 4
    and 5 fill the table with this too (4 with keys and counts of its day:
    no ``long``, seven counts)."""
    slots = DAY_SLOTS - 1
    per_hour: dict[tuple, list] = {}
    n = 0
    for (h, sender, project, agent, *rest), counts in hours.items():
        n = len(counts)
        day = _dt.datetime.fromtimestamp(h, _UTC).date()
        hod = int(h % 86400 // 3600)
        for dim, key in (("user", sender), ("project", project), ("agent", agent)):
            acc = per_hour.get((dim, day, key, *rest))
            if acc is None:
                acc = per_hour[(dim, day, key, *rest)] = [0] * (slots * n)
            for i, v in enumerate(counts):
                acc[i * slots + hod] += v
    out = {}
    for k, acc in per_hour.items():
        row: list[int] = []
        for i in range(n):
            row.extend(accumulate(acc[i * slots:(i + 1) * slots], initial=0))
        out[k] = row
    return out


def write_days(conn, hours: dict, negative: bool = False) -> None:
    """Add hourly sums to ``usage_days`` (rows in key order, so concurrent
    transactions lock shared rows in one order); with ``negative`` (sums
    moved or taken out) rows left at zero are dropped.  (The running totals
    are made in SQL; :func:`day_rows` makes the same in Python.)"""
    conn.execute(_DAYS, _hour_params(hours))
    if negative:
        keys = sorted({(dim, _dt.datetime.fromtimestamp(h, _UTC).date(), key, model, long)
                       for h, sender, project, agent, model, long in hours
                       for dim, key in (("user", sender), ("project", project), ("agent", agent))})
        conn.execute(_DROP_EMPTY_DAYS, [list(c) for c in zip(*keys)])


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


def rebuild_usage(conn) -> None:
    """Every session's usage sums (``usage_buckets``, ``usage_hours``,
    ``usage_days``, ``session_hours``, which must be empty) computed again
    from the stored events: each session's events in ``seq`` order through a
    fresh :class:`Rollup`, as ingest fed them, filed under the session's
    ``project`` and ``agent`` columns (where ingest has moved them, and
    expects them).  Migration 5 runs this; it reads every event once and
    writes with COPY."""
    filed = {s: (p or "", a or "") for s, p, a in conn.execute("SELECT session, project, agent FROM sessions")}
    hours: dict[tuple, list] = {}
    usage: list[tuple] = []
    active: set[tuple] = set()
    stats = ReadStats()

    def flush() -> None:
        with conn.cursor() as cur, cur.copy(f"COPY usage_buckets (session, bucket, model, sender, long, {_C}) "
                                            "FROM STDIN") as cp:
            for session, b, model, sender, long, *c in usage:
                cp.write_row((session, _at(b), model, sender, long, *c))
        usage.clear()

    def finish(session: str, roll: Rollup) -> None:
        n = len(usage)
        _usage_of(conn, session, roll, None, usage, hours, filed.get(session, ("", "")))
        active.update((session, b // 3600 * 3600, sender) for _s, b, _m, sender, *_c in usage[n:])
        if len(usage) > 20000:
            flush()

    session, roll = "", None
    with conn.cursor(name="rebuild_usage") as cur:
        cur.itersize = 5000
        cur.execute("SELECT session, line FROM events ORDER BY session, seq")
        for s, line in cur:
            if roll is None or s != session:
                if roll is not None:
                    finish(session, roll)
                session, roll = s, Rollup(SessionSummary(s))
            e = parse_line(line.encode("utf-8"), stats)
            if e is not None:
                try:
                    roll.add(e)
                except Exception:  # as ingest: stored, not counted
                    pass
    if roll is not None:
        finish(session, roll)
    flush()
    with conn.cursor() as cur, cur.copy("COPY session_hours (session, hour, sender) FROM STDIN") as cp:
        for s, h, sender in sorted(active):
            cp.write_row((s, _at(h), sender))
    with conn.cursor() as cur, cur.copy(f"COPY usage_hours (hour, sender, project, agent, model, long, {_C}) "
                                        "FROM STDIN") as cp:
        for k, c in hours.items():
            if any(c):
                cp.write_row((_at(k[0]), *k[1:], *c))
    copy_days(conn, hours)


def copy_days(conn, hours: dict, columns: str = "dim, day, key, model, long, sums") -> None:
    """COPY the ``usage_days`` rows of hourly sums (:func:`day_rows`) into
    the table, leaving out rows whose every count is zero (they add
    nothing); ``columns`` names the key's columns, then ``sums``."""
    with conn.cursor() as cur, cur.copy(f"COPY usage_days ({columns}) FROM STDIN") as cp:
        for key, sums in day_rows(hours).items():
            if any(sums[DAY_SLOTS - 1::DAY_SLOTS]):
                cp.write_row((*key, sums))
