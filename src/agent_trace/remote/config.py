"""Where remote capture sends events, from the environment."""

from __future__ import annotations

import os

ENDPOINT_VAR = "AGENT_STRACE_ENDPOINT"
TOKEN_VAR = "AGENT_STRACE_TOKEN"


def endpoint() -> str | None:
    """The server's base URL (``http://host:port``), or None when remote
    capture is off."""
    url = os.environ.get(ENDPOINT_VAR, "").strip()
    return url.rstrip("/") or None


def token() -> str | None:
    return os.environ.get(TOKEN_VAR, "").strip() or None


def spool_paths(spool_dir: str, url: str) -> tuple[str, str]:
    """(cursor file, lock file) for deliveries from one store to ``url``.
    Cheap on purpose (no hashlib): the hook path computes it."""
    import zlib

    raw = url.encode("utf-8", "surrogatepass")
    key = "".join(c if c.isalnum() else "_" for c in url)[:80] + "-%08x" % zlib.crc32(raw)
    return os.path.join(spool_dir, key + ".cursor.json"), os.path.join(spool_dir, key + ".lock")
