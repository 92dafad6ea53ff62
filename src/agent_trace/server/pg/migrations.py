"""The collector's database schema, as numbered migrations.

Everything lives in the ``agent_strace`` schema of the database the URL
names.  ``schema_migrations`` records the versions applied.  A collector
applies the missing ones when it starts (``server --migrate-only`` does only
that), one transaction each under an advisory lock, so collectors starting
together apply each once.  A database at a version newer than this program
knows is refused: an older collector must not write into a layout it does
not understand.

Never edit a released migration; add the next one.

Tables (version 6):

``sessions``
    one row per session: the shared summary's resumable state (``state``),
    the list row the dashboard shows (``row``), the columns lists filter and
    sort on, and ``next_seq``.  Ingest locks the row while it adds a batch,
    so a session's ``seq`` numbers are assigned in commit order and a live
    reader that has seen ``seq`` N never misses a later commit below it.
``events``
    one row per stored line: ``line`` is the exact JSONL text (what
    ``export-to`` writes back), ``doc`` the search index input
    (``analysis.search_text``).  ``UNIQUE (session, id)`` is the
    exactly-once rule: however many collectors a batch reaches, and however
    often, an event is stored once.
``usage_buckets``
    what each session's events added per 15-minute bucket, model, sender and
    ``long`` (``analysis.trends``): trends read these, never the events.
    ``long`` keeps long-context requests apart (priced apart, decided per
    request by ``usage.pricing.long_context``, as the usage index does);
    ``cache_write_1h`` counts the cache writes kept for an hour (of
    ``cache_write``).  These two, in every usage table, came with version 5,
    which rebuilt the sums from the events.
``usage_hours``
    the buckets of every session added up per hour, sender, project, agent,
    model and ``long`` (project and agent as ``''`` when unknown): what a trends
    report reads when its days start on whole hours (every time zone but a
    few); kept by ingest in the same transaction, moved when a session's
    project or agent changes, subtracted when retention deletes a session.
``usage_days``
    the hourly sums again, per UTC day, model, ``long`` and one of the report's
    dimensions (``dim`` ``user``, ``project`` or ``agent``; ``key`` its
    value): a few rows per day whatever the number of sessions.  ``sums``
    holds, for each count of ``analysis.trends.COUNTS`` in turn, 25 running
    totals: the count over the day's hours before hour 0, 1, ... 24 (so
    ``sums[i*25 + b + 1]`` is count ``i`` over hours ``< b``).  Any part of
    a day that starts and ends on whole hours is two lookups, so a report's
    days in any time zone whose days start on whole hours (DST included)
    read these rows.  Kept by ingest after ``usage_hours``, in the same
    transaction and with the same moves and removals; ``add_sums`` adds two
    such arrays.
``session_hours``
    which sessions had usage in each hour (per sender): the sessions-per-day
    count of the reports filtered by user, project or agent.
``session_days``
    the same per session and UTC day, without the sender: ``hours`` has bit
    ``h`` set when the session had usage in hour ``h`` of the day, so an
    unfiltered report counts a day's sessions from one row per session (any
    part of a UTC day that starts and ends on whole hours is a mask).  Kept
    by ingest with ``session_hours`` (version 6 filled it from there).
``tokens``
    per-user tokens (SHA-256 only).
"""

from __future__ import annotations

SCHEMA = "agent_strace"
LOCK_KEY = 0x61677374  # pg_advisory_xact_lock key for migrations

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "sessions, events, usage buckets, full-text search", """
CREATE TABLE sessions (
    session     text COLLATE "C" PRIMARY KEY,
    next_seq    bigint NOT NULL DEFAULT 1,
    started     timestamptz,
    last        timestamptz,
    agent       text,
    project     text,
    title       text,
    cwd         text,
    ended       boolean NOT NULL DEFAULT false,
    stopped     boolean NOT NULL DEFAULT false,
    events      bigint NOT NULL DEFAULT 0,
    tool_calls  bigint NOT NULL DEFAULT 0,
    tool_errors bigint NOT NULL DEFAULT 0,
    llm_calls   bigint NOT NULL DEFAULT 0,
    tokens      bigint NOT NULL DEFAULT 0,
    cost_usd    double precision NOT NULL DEFAULT 0,
    last_error  text,
    bytes       bigint NOT NULL DEFAULT 0,
    row         text,
    state       text,
    changed     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_by_last ON sessions (last DESC NULLS LAST);
CREATE INDEX sessions_by_agent ON sessions (agent, last DESC NULLS LAST);
CREATE INDEX sessions_by_project ON sessions (project, last DESC NULLS LAST);
CREATE INDEX sessions_by_changed ON sessions (changed);

CREATE TABLE events (
    session text COLLATE "C" NOT NULL,
    seq     bigint NOT NULL,
    id      text COLLATE "C" NOT NULL,
    ts      timestamptz,
    type    text NOT NULL,
    line    text NOT NULL,
    doc     tsvector,
    PRIMARY KEY (session, seq),
    CONSTRAINT events_once UNIQUE (session, id)
);
CREATE INDEX events_by_ts ON events (ts);
CREATE INDEX events_search ON events USING gin (doc);

CREATE TABLE usage_buckets (
    session     text COLLATE "C" NOT NULL,
    bucket      timestamptz NOT NULL,
    model       text NOT NULL,
    llm_calls   bigint NOT NULL DEFAULT 0,
    input       bigint NOT NULL DEFAULT 0,
    output      bigint NOT NULL DEFAULT 0,
    cache_read  bigint NOT NULL DEFAULT 0,
    cache_write bigint NOT NULL DEFAULT 0,
    tool_calls  bigint NOT NULL DEFAULT 0,
    tool_errors bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (session, bucket, model)
);
CREATE INDEX usage_by_bucket ON usage_buckets (bucket);
"""),
    (2, "who sent what: per-user tokens, senders on sessions and usage", """
CREATE TABLE tokens (
    name    text PRIMARY KEY,
    sha256  text NOT NULL UNIQUE,
    created timestamptz NOT NULL DEFAULT now(),
    revoked timestamptz
);
ALTER TABLE sessions ADD COLUMN sender text;
CREATE INDEX sessions_by_sender ON sessions (sender, last DESC NULLS LAST);
ALTER TABLE usage_buckets ADD COLUMN sender text NOT NULL DEFAULT '';
ALTER TABLE usage_buckets DROP CONSTRAINT usage_buckets_pkey;
ALTER TABLE usage_buckets ADD PRIMARY KEY (session, bucket, model, sender);
"""),
    (3, "trends per hour: usage_hours and session_hours, filled from usage_buckets", """
CREATE TABLE usage_hours (
    hour        timestamptz NOT NULL,
    sender      text NOT NULL,
    project     text NOT NULL,
    agent       text NOT NULL,
    model       text NOT NULL,
    llm_calls   bigint NOT NULL DEFAULT 0,
    input       bigint NOT NULL DEFAULT 0,
    output      bigint NOT NULL DEFAULT 0,
    cache_read  bigint NOT NULL DEFAULT 0,
    cache_write bigint NOT NULL DEFAULT 0,
    tool_calls  bigint NOT NULL DEFAULT 0,
    tool_errors bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, sender, project, agent, model)
);
INSERT INTO usage_hours
SELECT to_timestamp(floor(extract(epoch FROM u.bucket) / 3600) * 3600), u.sender, coalesce(s.project, ''),
       coalesce(s.agent, ''), u.model, sum(u.llm_calls), sum(u.input), sum(u.output), sum(u.cache_read),
       sum(u.cache_write), sum(u.tool_calls), sum(u.tool_errors)
FROM usage_buckets u JOIN sessions s ON s.session = u.session
GROUP BY 1, 2, 3, 4, 5;
CREATE TABLE session_hours (
    session text COLLATE "C" NOT NULL,
    hour    timestamptz NOT NULL,
    sender  text NOT NULL,
    PRIMARY KEY (session, hour, sender)
);
INSERT INTO session_hours
SELECT DISTINCT session, to_timestamp(floor(extract(epoch FROM bucket) / 3600) * 3600), sender FROM usage_buckets;
CREATE INDEX session_hours_by_hour ON session_hours (hour);
"""),
    (4, "trends per day: usage_days (running totals per hour), filled from usage_hours", """
CREATE FUNCTION add_sums(a bigint[], b bigint[]) RETURNS bigint[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT array_agg(x + y ORDER BY n) FROM unnest(a, b) WITH ORDINALITY AS t(x, y, n)';
CREATE TABLE usage_days (
    dim   text NOT NULL,
    day   date NOT NULL,
    key   text NOT NULL,
    model text NOT NULL,
    sums  bigint[] NOT NULL,
    PRIMARY KEY (dim, day, key, model)
);
"""),    (5, "usage sums keep long-context requests apart and count 1-hour cache writes; rebuilt from the events", """
ALTER TABLE usage_buckets ADD COLUMN long boolean NOT NULL DEFAULT false,
    ADD COLUMN cache_write_1h bigint NOT NULL DEFAULT 0,
    DROP CONSTRAINT usage_buckets_pkey, ADD PRIMARY KEY (session, bucket, model, sender, long);
ALTER TABLE usage_hours ADD COLUMN long boolean NOT NULL DEFAULT false,
    ADD COLUMN cache_write_1h bigint NOT NULL DEFAULT 0,
    DROP CONSTRAINT usage_hours_pkey, ADD PRIMARY KEY (hour, sender, project, agent, model, long);
ALTER TABLE usage_days ADD COLUMN long boolean NOT NULL DEFAULT false,
    DROP CONSTRAINT usage_days_pkey, ADD PRIMARY KEY (dim, day, key, model, long);
TRUNCATE usage_buckets, usage_hours, usage_days, session_hours;
"""),
    (6, "sessions per day: session_days (active hours per session and UTC day), filled from session_hours", """
CREATE TABLE session_days (
    session text COLLATE "C" NOT NULL,
    day     date NOT NULL,
    hours   integer NOT NULL,
    PRIMARY KEY (session, day)
);
INSERT INTO session_days
SELECT session, (hour AT TIME ZONE 'UTC')::date, bit_or(1 << extract(hour FROM hour AT TIME ZONE 'UTC')::int)
FROM session_hours GROUP BY 1, 2;
CREATE INDEX session_days_by_day ON session_days (day);
"""),
]
LATEST = MIGRATIONS[-1][0]


def _fill_usage_days(conn) -> None:
    """Migration 4's data: ``usage_days`` from ``usage_hours``, by the code
    ingest uses (one pass over the hourly rows, then COPY)."""
    from .ingest import copy_days

    # (version 4's layout: seven counts, no ``long``; migration 5 rebuilds it)
    hours: dict[tuple, list] = {}
    with conn.cursor(name="fill_usage_days") as cur:
        cur.itersize = 20000
        cur.execute("SELECT extract(epoch FROM hour)::float8, sender, project, agent, model, llm_calls, input, "
                    "output, cache_read, cache_write, tool_calls, tool_errors FROM usage_hours")
        for h, sender, project, agent, model, *counts in cur:
            hours[(h, sender, project, agent, model)] = counts
    copy_days(conn, hours, "dim, day, key, model, sums")


def _rebuild_usage(conn) -> None:
    """Migration 5's data: every session's usage sums again from its stored
    events, by the code ingest uses (each session's events in ``seq`` order
    through a fresh :class:`~agent_trace.analysis.trends.Rollup`, as ingest
    fed them), written with COPY.  Reads every event once."""
    from .ingest import rebuild_usage

    rebuild_usage(conn)


FILL = {4: _fill_usage_days, 5: _rebuild_usage}  # a migration's data step, run after its SQL in the same transaction


class SchemaTooNew(Exception):
    pass


def current_version(conn) -> int:
    """The highest version applied (0 for an empty database)."""
    row = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_migrations",)).fetchone()
    if row[0] is None:
        return 0
    return conn.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_migrations").fetchone()[0]


def check_not_newer(version: int) -> None:
    if version > LATEST:
        from ... import __version__

        raise SchemaTooNew(f"the database's agent-strace schema is version {version}, newer than this "
                           f"agent-strace ({__version__}) knows (up to {LATEST}): upgrade agent-strace on "
                           "this machine before pointing it at that database")


def migrate(conn, target: int = LATEST) -> list[int]:
    """Apply the migrations up to ``target`` that are missing; the versions
    applied.  ``conn`` must not be in autocommit mode."""
    from ... import __version__

    have = current_version(conn)
    conn.rollback()
    check_not_newer(have)
    applied = []
    for version, name, sql in MIGRATIONS:
        if version > target or version <= have:
            continue
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            if conn.execute("SELECT to_regnamespace(%s)", (SCHEMA,)).fetchone()[0] is None:
                conn.execute(f"CREATE SCHEMA {SCHEMA}")
            conn.execute(f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_migrations (
                version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text)""")
            now = current_version(conn)
            check_not_newer(now)
            if now >= version:
                continue  # another collector applied it while we waited
            if now != version - 1:
                raise SchemaTooNew(f"the database's agent-strace schema is at version {now}, "
                                   f"cannot apply migration {version}")
            conn.execute(f"SET LOCAL search_path = {SCHEMA}, public")
            conn.execute(sql)
            if version in FILL:
                FILL[version](conn)
            conn.execute(f"INSERT INTO {SCHEMA}.schema_migrations (version, name, applied_by) VALUES (%s, %s, %s)",
                         (version, name, f"agent-strace {__version__}"))
            applied.append(version)
    return applied
