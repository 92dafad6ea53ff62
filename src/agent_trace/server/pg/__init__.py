"""The PostgreSQL backend: any number of stateless collectors over one
database (``server --storage postgresql://...``; the ``postgres`` extra).

Nothing about a session lives in a collector's memory: ingest, reads and
live updates all go through the database, so a client's retry may reach
another collector and a dashboard on one collector follows events another
one received.  See ``adr/0009-team-scale-on-postgresql.md``.

Modules: :mod:`.migrations` (the schema), :mod:`.pool` (connections, 503
when the database is down), :mod:`.ingest`, :mod:`.queries`,
:mod:`.group_commit` (requests arriving together share a transaction),
:mod:`.maintenance` (retention, export-to).  Only this package imports
psycopg.
"""

from __future__ import annotations

import time

import psycopg

from ...analysis.compare import compare_profiles, profile_events
from ..api import PAGE
from ..storage import StorageError, describe
from ..tokens import FRESH_S, RELOAD_S, TokenError, check_name, digest, new_token
from . import ingest as _ingest
from . import maintenance, migrations, queries
from .group_commit import GroupCommit
from .pool import Pool

WRITERS = 2  # group-commit transactions a collector runs at once (see group_commit)


class PgStorage:
    kind = "postgresql"

    def __init__(self, dsn: str, *, migrate: bool = True, pool_size: int = 8):
        self.dsn = dsn
        self.where = describe(dsn)
        self.pool = Pool(dsn, pool_size)
        self.committer = GroupCommit(lambda batches: self.pool.run(lambda conn: _ingest.store_group(conn, batches)),
                                     writers=min(pool_size, WRITERS))
        self._tokens: tuple[float, dict] | None = None
        self.on_accepted = None  # (events, sender): the collector's notifier
        conn = self.pool.connect()
        try:
            have = migrations.current_version(conn)
            conn.rollback()
            if migrate:
                self.applied = migrations.migrate(conn)
            else:
                migrations.check_not_newer(have)
                if have < migrations.LATEST:
                    raise StorageError(f"the database's agent-strace schema is at version {have}, this "
                                       f"agent-strace needs {migrations.LATEST}: run `agent-strace server "
                                       "--migrate-only --storage URL`")
                self.applied = []
            self.version = migrations.current_version(conn)
            conn.rollback()
        except migrations.SchemaTooNew as e:
            raise StorageError(str(e)) from None
        except psycopg.errors.InsufficientPrivilege as e:
            raise StorageError(f"the database refused: {str(e).strip().splitlines()[0]}") from None
        finally:
            conn.close()

    # -- ingest ---------------------------------------------------------------
    def ingest(self, events: list[dict], sender: str | None) -> dict:
        from ..ingest import stamp_sender

        stamp_sender(events, sender)
        by_session, rejected = _ingest.prepare(events)
        if not by_session:
            return {"accepted": 0, "duplicates": 0, "rejected": rejected}
        accepted, dups, stored = self.committer.submit(by_session, sum(map(len, by_session.values())))
        if stored and self.on_accepted is not None:
            try:
                self.on_accepted(stored, sender)
            except Exception as exc:  # a notification problem never fails an ingest
                import sys

                sys.stderr.write(f"agent-strace server: notification: {type(exc).__name__}: {exc}\n")
        return {"accepted": accepted, "duplicates": dups, "rejected": rejected}

    def waiter(self, interval: float):
        """``wait(timeout)``: a database has no change feed here; sleeps (another
        collector's writes are seen at the next poll)."""
        import threading

        return _Sleeper(threading.Event())

    # -- reads ----------------------------------------------------------------
    def sessions(self, params: dict) -> dict:
        return self.pool.run(lambda conn: queries.sessions(conn, params))

    def session(self, ref: str) -> dict:
        return self.pool.run(lambda conn: queries.session_view(conn, ref))

    def events_page(self, ref: str, cursor: int, limit: int) -> dict:
        return self.pool.run(lambda conn: queries.events_page(conn, queries.resolve(conn, ref), cursor, limit))

    def follower(self, ref: str):
        session = self.pool.run(lambda conn: queries.resolve(conn, ref))

        def poll(cursor: int):
            page = self.pool.run(lambda conn: queries.events_page(conn, session, cursor, PAGE))
            return page if page["next"] > cursor else None

        return poll

    def signature(self) -> tuple:
        return self.pool.run(queries.signature)

    def search(self, params: dict) -> dict:
        return self.pool.run(lambda conn: queries.search(conn, params))

    def trends(self, params: dict) -> dict:
        return self.pool.run(lambda conn: queries.trends_report(conn, params))

    def compare(self, a: str, b: str, tolerance: float) -> dict:
        def run(conn):
            sa, sb = queries.resolve(conn, a), queries.resolve(conn, b)
            return compare_profiles(profile_events(queries.events(conn, sa)), profile_events(queries.events(conn, sb)),
                                    tolerance)

        return self.pool.run(run)

    # -- tokens ---------------------------------------------------------------
    def token_add(self, name: str) -> str:
        check_name(name)
        token = new_token()

        def run(conn):
            if conn.execute("SELECT 1 FROM tokens WHERE name = %s AND revoked IS NULL", (name,)).fetchone():
                raise TokenError(f"a token named {name!r} exists: revoke it first")
            conn.execute("DELETE FROM tokens WHERE name = %s", (name,))
            conn.execute("INSERT INTO tokens (name, sha256) VALUES (%s, %s)", (name, digest(token)))

        self.pool.run(run)
        self._tokens = None
        return token

    def token_list(self) -> list[dict]:
        rows = self.pool.run(lambda conn: conn.execute(
            "SELECT name, created, revoked FROM tokens ORDER BY name").fetchall())
        return [{"name": n, "created": _iso(c), "revoked": _iso(r)} for n, c, r in rows]

    def token_revoke(self, name: str) -> bool:
        n = self.pool.run(lambda conn: conn.execute(
            "UPDATE tokens SET revoked = now() WHERE name = %s AND revoked IS NULL", (name,)).rowcount)
        self._tokens = None
        return bool(n)

    def active_tokens(self, fresh: bool = False) -> dict[str, str]:
        """``{sha256: name}``, re-read at most every RELOAD_S seconds (every
        FRESH_S when ``fresh``: an unknown token may have just been added).
        While the database is down the last list read stays in force."""
        now = time.monotonic()
        if self._tokens is not None and now - self._tokens[0] < (FRESH_S if fresh else RELOAD_S):
            return self._tokens[1]
        try:
            rows = self.pool.run(lambda conn: conn.execute(
                "SELECT sha256, name FROM tokens WHERE revoked IS NULL").fetchall())
        except Exception:
            if self._tokens is None:
                raise
            return self._tokens[1]
        self._tokens = (now, dict(rows))
        return self._tokens[1]

    # -- maintenance ----------------------------------------------------------
    def retain(self, cutoff: float) -> int:
        deleted = 0
        while True:
            batch = self.pool.run(lambda conn: maintenance.expired_sessions(conn, cutoff))
            n = 0
            for session in batch:
                n += self.pool.run(lambda conn, s=session: maintenance.delete_session(conn, s, cutoff))
            deleted += n
            if len(batch) < maintenance.RETAIN_BATCH or not n:
                return deleted

    def export_to(self, store, progress=None) -> dict:
        from ..tokens import FileTokens

        counts = self.pool.run(lambda conn: maintenance.export_to(conn, store, progress))
        rows = self.pool.run(lambda conn: conn.execute(
            "SELECT name, sha256, created, revoked FROM tokens ORDER BY name").fetchall())
        if rows:
            FileTokens(store.root).replace_all([{"name": n, "sha256": h, "created": _iso(c), "revoked": _iso(r)}
                                                for n, h, c, r in rows])
        counts["tokens"] = len(rows)
        return counts

    def close(self) -> None:
        self.pool.close()


def _iso(t) -> str | None:
    if t is None:
        return None
    from ...event import now_iso

    return now_iso(t.timestamp())


class _Sleeper:
    __slots__ = ("_never",)

    def __init__(self, never):
        self._never = never

    def wait(self, timeout: float) -> None:
        self._never.wait(timeout)
