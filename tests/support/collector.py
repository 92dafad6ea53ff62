"""An ``agent-strace server`` process for tests (its own process group)."""

from __future__ import annotations

import sys

from .processes import Background, free_port, wait_port


class Server(Background):
    def __init__(self, storage, port: int | None = None, token: str | None = None, extra=()):
        self.port = port or free_port()
        self.storage = str(storage)
        cmd = [sys.executable, "-m", "agent_trace", "server", "--port", str(self.port), "--storage", self.storage,
               *extra]
        if token:
            cmd += ["--token", token]
        super().__init__(cmd)
        wait_port(self.port, proc=self.proc)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
