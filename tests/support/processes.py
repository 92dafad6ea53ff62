"""Starting servers for tests: free ports, waiting for readiness, clean stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from http.server import BaseHTTPRequestHandler


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout}s")


class Background:
    """A process in its own process group, stopped (whole group) on exit."""

    def __init__(self, cmd, env=None, cwd=None, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=stdout, stderr=stderr,
                                     start_new_session=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self, sig=signal.SIGTERM) -> int | None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        return self.proc.returncode


class JsonHandler(BaseHTTPRequestHandler):
    """The base of a scripted API's handler: quiet, HTTP/1.1, and
    ``_json(code, obj)`` for its JSON answers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _extra_headers(self) -> dict[str, str]:
        """Headers a scripted API adds to every JSON answer (a request id)."""
        return {}

    def _json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in self._extra_headers().items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


class LocalServer:
    """An in-process HTTP server on a free loopback port (scripted APIs for
    tests): ``with`` starts it on a thread and stops it.  Subclasses build
    their handler class in ``_handler()``; ``base`` is the URL's path."""

    base = ""

    def _start_server(self) -> None:
        from http.server import ThreadingHTTPServer
        import threading

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.base}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
