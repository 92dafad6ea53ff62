"""The collector's database schema, as numbered migrations.

Everything lives in the ``agent_strace`` schema of the database the URL
names.  ``schema_migrations`` records the versions applied.  A collector
applies the missing ones when it starts (``server --migrate-only`` does only
that), one transaction each under an advisory lock, so collectors starting
together apply each once.  A database at a version newer than this program
knows is refused: an older collector must not write into a layout it does
not understand.

Never edit a released migration; add the next one.

Tables (version 2):

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
    what each session's events added per 15-minute bucket, model and sender
    (``analysis.trends``): trends read these, never the events.
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
]
LATEST = MIGRATIONS[-1][0]


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
            conn.execute(f"INSERT INTO {SCHEMA}.schema_migrations (version, name, applied_by) VALUES (%s, %s, %s)",
                         (version, name, f"agent-strace {__version__}"))
            applied.append(version)
    return applied
