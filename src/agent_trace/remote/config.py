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
