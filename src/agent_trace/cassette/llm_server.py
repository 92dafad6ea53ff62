"""``agent-strace serve --llm CASSETTE``: an OpenAI/Anthropic-compatible
endpoint that plays a cassette's HTTP recordings to any agent, streams
included (the recorded chunks, in order, flushed one by one).

By default a request no recording matches exactly (an agent's system prompt
holds today's date, its tool results hold paths) gets the next recording of
the same endpoint at the same point of the loop (same model and number of
messages), with a note on stderr; ``--strict`` answers it with an error
naming the closest recording instead.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import format as fmt
from .core import Cassette, CassetteDivergence
from .secrets import safe_headers, scrub

DEFAULT_IGNORE = ("body.json.metadata",)


def make_server(cassette: Cassette, host: str = "127.0.0.1", port: int = 0, log=sys.stderr):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _call(self, body: bytes) -> dict:
            path, _, query = self.path.partition("?")
            import urllib.parse

            return {"method": self.command, "host": self.headers.get("Host"), "path": path,
                    "query": dict(urllib.parse.parse_qsl(query)), "headers": safe_headers(self.headers.items()),
                    "body": scrub(fmt.encode_body(body))}

        def _send_json(self, code: int, obj) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _serve(self, body: bytes) -> None:
            if self.path == "/healthz":
                return self._send_json(200, {"ok": True, "unplayed": len(cassette.unplayed())})
            try:
                entry = cassette.lookup("http", self._call(body))
            except CassetteDivergence as e:
                log.write(f"agent-strace serve: {e}\n")
                log.flush()
                return self._send_json(409, {"type": "error", "error": {"type": "cassette_divergence",
                                                                         "message": str(e)}})
            resp = entry["response"]
            if "exception" in resp:
                # the recorded call never got an HTTP answer: close without one
                self.close_connection = True
                return
            headers = {k: v for k, v in (resp.get("headers") or {}).items() if k.lower() != "content-length"}
            self.send_response(resp.get("status") or 200)
            for k, v in headers.items():
                self.send_header(k, v)
            if "stream" in resp:
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for chunk in resp["stream"]:
                    self.wfile.write(fmt.decode_chunk(chunk))
                    self.wfile.flush()
                return
            data = fmt.decode_body(resp.get("body"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            self._serve(self.rfile.read(n) if n else b"")

        def do_GET(self):
            self._serve(b"")

    srv = ThreadingHTTPServer((host, port), Handler)
    srv.daemon_threads = True
    return srv
