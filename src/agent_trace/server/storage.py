"""Where the collector keeps what it receives: a storage backend.

``--storage DIR`` (the default: the ordinary file store, one JSONL file per
session, :mod:`.file_storage`) or ``--storage postgresql://...`` (any number
of collectors over one database, :mod:`.pg`; needs the ``postgres`` extra).
The HTTP layer (:mod:`.app`) talks only to this interface, so both backends
get the same API, auth, limits and ingest rules.

Contract of a backend (duck-typed; both implement all of it):

``ingest(events, sender) -> {"accepted", "duplicates", "rejected"}``
    Store ``events`` (dicts with str ``id``/``session``/``type``) exactly once
    by (session, event id), each through the same encoder as local capture
    (redaction, caps), with ``sender`` (a token's name, or None) as their
    ``sender`` field, replacing whatever the client put there.  Returns only
    once everything accepted is durable; raises :class:`StorageUnavailable`
    when it cannot say so (the server answers 503; clients keep spooling).
``sessions(params)``, ``session(ref)``, ``events_page(ref, cursor, limit)``,
``follower(ref)``, ``signature()``, ``search(params)``, ``trends(params)``,
``compare(a, b, tolerance)``
    The dashboard's reads (JSON-ready dicts).  Cursors are opaque integers
    (a byte offset in a file, a sequence number in the database) that only
    grow.  Unknown sessions raise :class:`~agent_trace.store.paths.SessionNotFound`.
``token_add(name)``, ``token_list()``, ``token_revoke(name)``, ``active_tokens()``
    Per-user tokens (only their SHA-256 is kept).
``retain(cutoff)``
    Delete sessions whose last event is older than ``cutoff`` (epoch s).
``close()``
"""

from __future__ import annotations

import os
import re
import urllib.parse


class StorageUnavailable(Exception):
    """The backend cannot answer now (database down): try again later."""


class StorageError(Exception):
    """The storage cannot be used as configured (bad URL, schema too new,
    missing extra): a clear message, exit 2 at start."""


def is_database_url(spec: str | None) -> bool:
    return bool(spec) and spec.split(":", 1)[0].lower() in ("postgresql", "postgres")  # type: ignore[union-attr]  # bool(None) is False


def describe(spec: str) -> str:
    """``spec`` as it may be printed: a database URL without its password."""
    if not is_database_url(spec):
        return spec
    u = urllib.parse.urlsplit(spec)
    netloc = u.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = userinfo.split(":", 1)[0] + (":***" if ":" in userinfo else "") + "@" + host
    query = re.sub(r"(?i)(password=)[^&]*", r"\1***", u.query)
    return urllib.parse.urlunsplit((u.scheme, netloc, u.path, query, ""))


def open_storage(spec: str, *, ingest: bool = True, migrate: bool = True, pool_size: int = 8):
    """The backend for ``spec``: a database URL or a store directory."""
    if is_database_url(spec):
        try:
            from .pg import PgStorage
        except ImportError as e:
            if "psycopg" not in str(e):
                raise
            raise StorageError("PostgreSQL storage needs psycopg: pip install 'agent-strace[postgres]'") from None
        return PgStorage(spec, migrate=migrate, pool_size=pool_size)
    from ..store.paths import Store
    from .file_storage import FileStorage

    return FileStorage(Store(os.path.abspath(spec)), ingest=ingest)
