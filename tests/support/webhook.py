"""A webhook receiver standing in for Slack, Teams or any JSON endpoint:
records every POST (path, headers, parsed body) and answers with a
configurable status (or after a delay).  Can be started on a port chosen in
advance, so a test can let alerts wait for a receiver that is down, then
start it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, port: int = 0, status: int = 200, delay: float = 0.0, answer: bytes = b"ok",
                 hold: threading.Event | None = None):
        """``hold``: answer nothing until it is set (a receiver that never
        answers while the agent works)."""
        self.posts: list[dict] = []
        self.status = status
        self.delay = delay
        self.hold = hold
        self.answer = answer
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook/T000/B000/secretpart"

    def _handler(self):
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(n)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                post = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body, "raw": raw, "at": time.time(), "answered_at": None}
                with rec._lock:
                    rec.posts.append(post)
                if rec.delay:
                    time.sleep(rec.delay)
                if rec.hold is not None:
                    rec.hold.wait(120)
                post["answered_at"] = time.time()
                self.send_response(rec.status)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(rec.answer)))
                self.end_headers()
                self.wfile.write(rec.answer)

        return Handler

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, n: int, timeout: float = 20.0) -> list[dict]:
        end = time.time() + timeout
        while time.time() < end:
            with self._lock:
                if len(self.posts) >= n:
                    return list(self.posts)
            time.sleep(0.05)
        with self._lock:
            return list(self.posts)

    def bodies(self) -> list:
        with self._lock:
            return [p["body"] for p in self.posts]
