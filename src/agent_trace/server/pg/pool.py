"""A few database connections shared by the collector's threads.

:meth:`Pool.run` runs a function in one transaction and commits it.  When
the database cannot be reached (down, restarting, the connection dropped)
it raises :class:`~agent_trace.server.storage.StorageUnavailable` and the
HTTP layer answers 503: nothing is acknowledged that was not committed.  A
connection that broke while idle (the database restarted since) is replaced
and the function run once more, which is safe because every function given
to it is idempotent (ingest de-duplicates by event id; the rest only read).
"""

from __future__ import annotations

import threading

import psycopg

from ..storage import StorageUnavailable
from .migrations import SCHEMA

CONNECT_TIMEOUT_S = 5
WAIT_S = 30.0  # longest wait for a free connection
STATEMENT_TIMEOUT_MS = 60_000


class Pool:
    def __init__(self, dsn: str, size: int = 8):
        self.dsn = dsn
        self.size = max(1, size)
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.size)

    def connect(self, autocommit: bool = False) -> psycopg.Connection:
        try:
            return psycopg.connect(self.dsn, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S,
                                   options=f"-c search_path={SCHEMA},public "
                                           f"-c statement_timeout={STATEMENT_TIMEOUT_MS} "
                                           f"-c idle_in_transaction_session_timeout={STATEMENT_TIMEOUT_MS}",
                                   application_name="agent-strace server")
        except psycopg.OperationalError as e:
            raise StorageUnavailable(f"cannot reach the database: {_first_line(e)}") from None

    def run(self, fn):
        """``fn(conn)`` in a transaction, committed; its result."""
        if not self._slots.acquire(timeout=WAIT_S):
            raise StorageUnavailable(f"all {self.size} database connections busy for {WAIT_S:.0f} s")
        try:
            for attempt in (0, 1):
                with self._lock:
                    conn = self._idle.pop() if self._idle else None
                reused = conn is not None
                if conn is None:
                    conn = self.connect()
                try:
                    result = fn(conn)
                    conn.commit()
                except psycopg.OperationalError as e:
                    _close(conn)
                    if reused and attempt == 0:
                        continue  # went stale while idle: once more on a fresh connection
                    raise StorageUnavailable(f"database unavailable: {_first_line(e)}") from None
                except BaseException:
                    if conn.closed or conn.broken:
                        _close(conn)
                    else:
                        try:
                            conn.rollback()
                        except psycopg.Error:
                            _close(conn)
                            raise
                        self._give_back(conn)
                    raise
                self._give_back(conn)
                return result
        finally:
            self._slots.release()

    def _give_back(self, conn) -> None:
        if conn.closed or conn.broken:
            return
        with self._lock:
            self._idle.append(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for c in idle:
            _close(c)


def _close(conn) -> None:
    try:
        conn.close()
    except Exception:
        pass


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
