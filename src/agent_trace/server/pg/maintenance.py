"""Retention and ``export-to``: the database's sessions deleted when old, or
written back to the file layout."""

from __future__ import annotations

import os
import tempfile

RETAIN_BATCH = 100


def expired_sessions(conn, cutoff: float) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT session FROM sessions WHERE last < to_timestamp(%s) ORDER BY last LIMIT %s", (cutoff, RETAIN_BATCH))]


def delete_session(conn, session: str, cutoff: float) -> bool:
    """Delete one session if it is still older than ``cutoff``, under its row
    lock (an ingest adding to it waits, then recreates it)."""
    from .ingest import remove_hours

    row = conn.execute("SELECT project, agent FROM sessions WHERE session = %s AND last < to_timestamp(%s) "
                       "FOR UPDATE SKIP LOCKED", (session, cutoff)).fetchone()
    if row is None:
        return False
    conn.execute("DELETE FROM events WHERE session = %s", (session,))
    remove_hours(conn, session, *row)
    conn.execute("DELETE FROM session_hours WHERE session = %s", (session,))
    conn.execute("DELETE FROM session_days WHERE session = %s", (session,))
    conn.execute("DELETE FROM usage_buckets WHERE session = %s", (session,))
    conn.execute("DELETE FROM sessions WHERE session = %s", (session,))
    return True


def export_to(conn, store, progress=None) -> dict:
    """Write every session to ``store`` (a :class:`Store`) in the file layout:
    each file is the session's lines in ``seq`` order, replaced atomically."""
    store.ensure()
    sessions = lines = 0
    current, out, tmp = None, None, None

    def finish():
        if out is not None:
            out.close()
            os.replace(tmp, store.path_for(current))

    try:
        with conn.cursor(name="export") as cur:
            cur.itersize = 5000
            cur.execute("SELECT session, line FROM events ORDER BY session, seq")
            for session, line in cur:
                if session != current:
                    finish()
                    out = None
                    current = session
                    fd, tmp = tempfile.mkstemp(prefix=".export.", dir=store.sessions_dir)
                    out = os.fdopen(fd, "wb")
                    sessions += 1
                    if progress:
                        progress(sessions)
                # type-checker: the first row's session differs from None, so out is open here
                out.write(line.encode("utf-8") + b"\n")  # type: ignore[union-attr]
                lines += 1
            finish()
            out = None
    finally:
        if out is not None:  # interrupted: leave no half-written file behind
            out.close()
            os.unlink(tmp)  # type: ignore[arg-type]  # tmp is set whenever out is
    return {"sessions": sessions, "events": lines}
