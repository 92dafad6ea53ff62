"""``serve --llm CASSETTE --fork-at POINT --upstream URL``: replay a recorded
run up to a point, then let a live model go on.

The server is the LLM capture proxy (:class:`~agent_trace.proxy.http_forward.ReverseProxy`)
in front of the upstream, answering locally while the cassette plays
(:class:`.llm_server.Player`); from the fork point (:mod:`.fork`) requests
are forwarded.  Every exchange, played or live, is

* logged as a new session through the LLM proxy's own mapping
  (:class:`~agent_trace.capture.llm_wire.LlmObserver`), opened by an
  ``annotation`` named ``fork`` (the cassette, the point, the upstream);
  played requests carry ``data.replayed_from``;
* recorded into a new cassette (:class:`CassetteRecorder`), written when the
  server stops, with the replaying agent's folders as its workspace.
"""

from __future__ import annotations

import threading
import urllib.parse

from .. import event as ev
from ..capture.llm_wire import LlmObserver
from ..proxy.http_forward import ReverseProxy
from ..render import words
from . import format as fmt
from .http import DROP_RESPONSE_HEADERS, _Decoder
from .llm_server import Player, request_call
from .secrets import safe_headers, scrub, scrub_text


class CassetteRecorder:
    """A proxy observer keeping every exchange as a cassette entry, in
    request order."""

    def __init__(self, upstream: str):
        self.host = urllib.parse.urlsplit(upstream).hostname
        self.entries: list[dict] = []
        self.open: dict[int, tuple[dict, _Decoder | None, list]] = {}
        self.lock = threading.Lock()

    def request(self, ex, _, t):
        call = request_call(ex.method, ex.path, ex.req_headers, ex.req_body, self.host)
        entry = {"kind": "http", "request": call, "response": None}
        with self.lock:
            self.entries.append(entry)
        self.open[ex.id] = (entry, None, [])

    def response(self, ex, _, t):
        entry, _dec, parts = self.open.get(ex.id, (None, None, None))
        if entry is not None:
            self.open[ex.id] = (entry, _Decoder(ex.resp_header("content-encoding") or ""), parts)

    def chunk(self, ex, data, t):
        entry, dec, parts = self.open.get(ex.id, (None, None, None))
        if entry is not None:
            parts.append(dec(data) if dec is not None else data)

    def end(self, ex, _, t):
        entry, _dec, parts = self.open.pop(ex.id, (None, None, None))
        if entry is None:
            return
        if not ex.status or (ex.error and not parts):
            entry["response"] = {"exception": {"type": "httpx.ConnectError", "message": ex.error or "no response"}}
            return
        headers = safe_headers((k, v) for k, v in ex.resp_headers if k.lower() not in DROP_RESPONSE_HEADERS)
        if "text/event-stream" in (ex.resp_header("content-type") or "").lower():
            chunks = [fmt.encode_chunk(p) for p in parts if p]
            entry["response"] = {"status": ex.status, "headers": headers,
                                 "stream": [scrub_text(c) if isinstance(c, str) else c for c in chunks]}
        else:
            entry["response"] = {"status": ex.status, "headers": headers,
                                 "body": scrub(fmt.encode_body(b"".join(parts)))}

    def done(self) -> list[dict]:
        with self.lock:
            return [e for e in self.entries if e["response"] is not None]


class _Both:
    """Two observers in turn (the session log, then the cassette)."""

    def __init__(self, *observers):
        self.observers = observers

    def __getattr__(self, kind):
        if kind not in ("request", "response", "chunk", "end"):
            raise AttributeError(kind)

        def call(ex, data, t):
            for o in self.observers:
                getattr(o, kind)(ex, data, t)
        return call

    def flush(self):
        for o in self.observers:
            if hasattr(o, "flush"):
                o.flush()


class ForkServer:
    def __init__(self, player: Player, upstream: str, sink, session: str, host: str = "127.0.0.1", port: int = 0):
        self.player = player
        self.cassette = player.cassette
        self.cassette.keep_played = False  # the recorder keeps everything, in order
        self.session = session
        self.context: dict = {}
        self.log = LlmObserver(sink, session, session, upstream, self.context)
        self.recorder = CassetteRecorder(upstream)
        # type-checker: a fork server's player replays a forking cassette (fork is set)
        sink.emit(ev.make_event(ev.ANNOTATION, session, "agent-strace", name="fork", data={
            "cassette": self.cassette.path, "fork_at": self.cassette.fork.spec,  # type: ignore[union-attr]
            "model_calls_played": self.cassette.fork.calls, "upstream": upstream}))  # type: ignore[union-attr]
        self.proxy = ReverseProxy(upstream, _Both(self.log, self.recorder), host=host, port=port,
                                  prefix_base=True, answer=self._answer)

    def _answer(self, ex):
        call = request_call(ex.method, ex.path, ex.req_headers, ex.req_body, None)
        reply = self.player.answer(call)
        places = self.cassette.live_places
        self.context.update({k: v for k, v in (("cwd", places.root), ("home", places.home)) if v})
        if reply is not None:
            ex.extra["replayed_from"] = self.cassette.path
        return reply

    def save(self, path: str) -> int:
        entries = self.recorder.done()
        fmt.save(path, entries, self.cassette.live_places.as_dict())
        return len(entries)


def fork_summary(cassette) -> str:
    c = cassette
    state = f"forked at call #{c.fork_call}" if c.forked else "never reached the fork point"
    return f"{state} ({c.fork.describe()}); {words.count(c.model_calls, 'model call')} played"

