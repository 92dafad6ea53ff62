"""``agent-strace serve --llm CASSETTE``: an OpenAI/Anthropic-compatible
endpoint that plays a cassette's HTTP recordings to any agent, streams
included (the recorded chunks, in order, flushed one by one).

Matching a request, in order:

1. exactly (method, path, query, body less ``metadata``), with both sides'
   workspace and home folders as placeholders (:mod:`.workspace`);
2. on what the agent decided (method, path and the ``conversation`` view:
   user text, tool calls and results), so a new agent version's system
   prompt, tool list, ids or cache markers do not fail the replay; the first
   time a kind of drift is tolerated it is said on stderr;
3. without ``--strict``, the next recording of the same endpoint at the same
   point of the loop (same model and number of messages), with a note;
   with ``--strict``, an error naming the closest recording and the first
   difference in what the agent decided.

Where the replaying agent works comes from ``--workspace``/``--home``, else
from its own requests (:mod:`agent_trace.capture.agent_env`); recorded
folders in the played responses become those.  :mod:`.fork_server` adds the
fork point and the live upstream.
"""

from __future__ import annotations

import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..capture.agent_env import places_in_request
from ..proxy.http_forward import LocalReply
from . import format as fmt
from .core import Cassette, CassetteDivergence
from .secrets import safe_headers, scrub
from .workspace import Places

DEFAULT_IGNORE = ("body.json.metadata",)
# An error status the SDKs do not retry (they retry 408, 409, 429 and 5xx):
# a divergence is final, and the agent should show it at once.
DIVERGENCE_STATUS = 400


def request_call(method: str, target: str, header_pairs, body: bytes, host: str | None = None) -> dict:
    path, _, query = target.partition("?")
    return {"method": method, "host": host, "path": path, "query": dict(urllib.parse.parse_qsl(query)),
            "headers": safe_headers(header_pairs), "body": scrub(fmt.encode_body(body))}


def reply_for(response: dict) -> LocalReply:
    """A recorded response as bytes to send (status None: no answer at all)."""
    if "exception" in response:
        return LocalReply(None, [], [], False)
    headers = [(k, v) for k, v in (response.get("headers") or {}).items() if k.lower() != "content-length"]
    status = response.get("status") or 200
    if "stream" in response:
        return LocalReply(status, headers, [fmt.decode_chunk(c) for c in response["stream"]], True)
    return LocalReply(status, headers, [fmt.decode_body(response.get("body"))], False)


def divergence_reply(e: Exception | str) -> LocalReply:
    body = json.dumps({"type": "error", "error": {"type": "cassette_divergence", "message": str(e)}}).encode()
    return LocalReply(DIVERGENCE_STATUS, [("Content-Type", "application/json")], [body], False)


class Player:
    """What the replay and fork servers share: learn where the agent works,
    find the recording, map it to the agent's folders."""

    def __init__(self, cassette: Cassette, workspace: str | None = None, home: str | None = None, log=sys.stderr):
        self.cassette = cassette
        self.fixed = (workspace, home)
        self.log = log
        rec = cassette.recorded_places
        # until the agent says where it works, play recorded paths unchanged
        cassette.live_places = Places(workspace or rec.root, home or rec.home)

    def learn(self, call: dict) -> None:
        root, home = self.fixed
        if root and home:
            return
        found_root, found_home = places_in_request(fmt.body_value(call.get("body")))
        if found_root or found_home:
            self.cassette.set_live_places(root or found_root, home or found_home)

    def answer(self, call: dict) -> LocalReply | None:
        """The reply to play, or None when the call goes live (a fork).
        Whatever goes wrong is answered (the agent shows it), never dropped."""
        try:
            self.learn(call)
            entry = self.cassette.lookup("http", call)
            return None if entry is None else reply_for(self.cassette.response(entry))
        except CassetteDivergence as e:
            self.log.write(f"agent-strace serve: {e}\n")
            self.log.flush()
            return divergence_reply(e)
        except Exception as e:  # a bug of ours: say so to the agent and here, keep serving
            msg = f"agent-strace serve: internal error ({type(e).__name__}: {e})"
            self.log.write(msg + "\n")
            self.log.flush()
            return divergence_reply(msg)


def make_server(player: Player, host: str = "127.0.0.1", port: int = 0):
    cassette = player.cassette

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _send(self, reply: LocalReply) -> None:
            if reply.status is None:  # the recorded call never got an HTTP answer: close without one
                self.close_connection = True
                return
            self.send_response(reply.status)
            for k, v in reply.headers:
                self.send_header(k, v)
            if reply.stream:
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for chunk in reply.chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                return
            data = b"".join(reply.chunks)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _serve(self, body: bytes) -> None:
            if self.path == "/healthz":
                data = json.dumps({"ok": True, "unplayed": len(cassette.unplayed())}).encode()
                return self._send(LocalReply(200, [("Content-Type", "application/json")], [data], False))
            call = request_call(self.command, self.path, self.headers.items(), body, self.headers.get("Host"))
            self._send(player.answer(call) or divergence_reply("no recording to play"))

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            self._serve(self.rfile.read(n) if n else b"")

        def do_GET(self):
            self._serve(b"")

    srv = ThreadingHTTPServer((host, port), Handler)
    srv.daemon_threads = True
    return srv
