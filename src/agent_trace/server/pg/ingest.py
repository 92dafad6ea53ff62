"""Storing a received batch in the database, exactly once.

Per session in the batch, one transaction of two round trips:

1. lock the session's row (``SELECT ... FOR UPDATE``; created when new) and
2. insert the batch (repeats within it dropped) with the next ``seq``
   numbers; ``ON CONFLICT (session, id) DO NOTHING`` leaves out the events
   the session already holds (their seq numbers stay unused: seq only has
   to grow), and ``RETURNING`` says which went in;
3. feed what was inserted to the session's shared summary (resumed from
   its stored state) and add what each event changed to its usage bucket;
4. write the summary back, and commit.

The HTTP layer answers 200 only after the commits.  Each line is encoded
exactly as local capture does (redaction, caps) before anything is stored.
"""

from __future__ import annotations

import datetime as _dt

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
WITH s AS (SELECT next_seq, state FROM sessions WHERE session = %s FOR UPDATE),
ins AS (
    INSERT INTO events (session, seq, id, ts, type, line, doc)
    SELECT %s, s.next_seq + u.n - 1, u.id, to_timestamp(u.ts), u.type, u.line,
           CASE WHEN u.doc <> '' THEN to_tsvector('simple', u.doc) END
    FROM s, unnest(%b::text[], %b::float8[], %b::text[], %b::text[], %b::text[])
            WITH ORDINALITY AS u(id, ts, type, line, doc, n)
    ON CONFLICT (session, id) DO NOTHING
    RETURNING id)
SELECT s.next_seq, s.state, ARRAY(SELECT id FROM ins) FROM s"""
_USAGE = f"""
INSERT INTO usage_buckets (session, bucket, model, sender, {", ".join(COUNTS)})
SELECT %s, to_timestamp(u.bucket), u.model, u.sender, {", ".join("u." + c for c in COUNTS)}
FROM unnest(%b::float8[], %b::text[], %b::text[], {", ".join(["%b::bigint[]"] * len(COUNTS))})
     AS u(bucket, model, sender, {", ".join(COUNTS)})
ON CONFLICT (session, bucket, model, sender) DO UPDATE SET
    {", ".join(f"{c} = usage_buckets.{c} + EXCLUDED.{c}" for c in COUNTS)}"""
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
            next_seq, state, ids = conn.execute(_INSERT, (
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
                _add_usage(conn, session, roll)
                _write_session(conn, session, roll.summary, next_seq + len(items), size)
            conn.commit()
    return accepted, duplicates


def _add_usage(conn, session: str, roll: Rollup) -> None:
    rows = roll.rows()
    if not rows:
        return
    cols = list(zip(*rows))
    conn.execute(_USAGE, (session, [float(b) for b in cols[0]],
                          [label(m) for m in cols[1]], [label(s) for s in cols[2]], *[list(c) for c in cols[3:]]))


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
