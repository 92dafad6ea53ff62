"""npm @modelcontextprotocol/server-everything, started over stdio, Streamable
HTTP or legacy SSE for tests and benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

from .npm import npm_install
from .processes import Background, free_port, wait_port

SPEC = "@modelcontextprotocol/server-everything@2026.8.31"


def everything_bin() -> Path:
    return npm_install("npm-mcp", [SPEC]) / "mcp-server-everything"


def start_everything_http(mode: str) -> tuple[Background, str]:
    """``mode`` is ``streamableHttp`` (URL .../mcp) or ``sse`` (URL .../sse)."""
    port = free_port()
    bg = Background([str(everything_bin()), mode], env={**os.environ, "PORT": str(port)})
    wait_port(port, proc=bg.proc)
    path = "/mcp" if mode == "streamableHttp" else "/sse"
    return bg, f"http://127.0.0.1:{port}{path}"
