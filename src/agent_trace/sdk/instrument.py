"""Auto-instrumentation of the ``openai`` and ``anthropic`` SDKs.

    from agent_trace.sdk import instrument, session
    instrument()                 # patch; idempotent
    with session("my-agent"):
        client.chat.completions.create(...)   # recorded: request, response, usage
    uninstrument()               # remove the patch

Calls are captured at the HTTP layer the SDKs share (see
:mod:`.http_intercept`) and turned into ``llm.request``/``llm.response``
events by the same code as the LLM proxy (:mod:`agent_trace.capture.llm_wire`):
messages, tool calls (stream deltas merged), usage, stop reason, latency,
time to first byte; credentials are never stored.  Only calls made inside an
active :func:`session` are recorded.
"""

from __future__ import annotations

import itertools
import time

from ..capture.llm_wire import LlmObserver
from . import http_intercept
from .tracing import current, llm_frame

SOURCE = "python-sdk"
_ids = itertools.count(1)


class _Exchange:
    """The slice of a proxy exchange :class:`LlmObserver` reads."""

    def __init__(self, request):
        self.id = next(_ids)
        self.method = request.method
        self.path = request.url.raw_path.decode("ascii", "replace") if hasattr(request.url, "raw_path") \
            else str(request.url.path)
        try:
            self.req_body = request.content
        except Exception:  # a streaming request body: not readable twice
            self.req_body = b""
        self.req_headers = list(request.headers.items())
        self.resp_headers: list = []
        self.status = None
        self.error = None
        self.t_start = time.time()
        self.t_first_byte = None
        self.t_end = None
        self.frame = None  # the sdk.tracing.llm_frame a framework integration opened for this call

    def req_header(self, name):
        name = name.lower()
        return next((v for k, v in self.req_headers if k.lower() == name), None)

    def resp_header(self, name):
        name = name.lower()
        return next((v for k, v in self.resp_headers if k.lower() == name), None)


class Tracer:
    priority = 0  # outermost: sees replayed responses too

    def handles(self, request) -> bool:
        return current() is not None and http_intercept.is_llm_request(request)

    def _begin(self, request):
        s = current()
        obs = LlmObserver(s.sink, s.id, s.id, str(request.url.copy_with(path="/", query=None)).rstrip("/"))
        obs.source = SOURCE
        ex = _Exchange(request)
        frame = llm_frame.get()
        if frame is not None and not frame.get("closed") and frame.get("session") == s.id:
            ex.frame = frame
        obs.request(ex, None, ex.t_start)
        return obs, ex

    @staticmethod
    def _end(obs, ex, error=None):
        ex.t_end = time.time()
        if error and not ex.error:
            ex.error = error
        try:
            obs.end(ex, None, ex.t_end)
            if ex.frame is not None:
                _answer_frame(ex.frame, obs.pending)
            obs.flush()
        except Exception as e:  # recording never breaks the agent
            import sys

            sys.stderr.write(f"agent-strace: could not record an LLM call: {e}\n")

    def _response(self, obs, ex, resp, stream, mod, is_async):
        ex.status = resp.status_code
        ex.t_first_byte = time.time()
        headers = list(resp.headers.items())
        if not stream:  # already read and decoded by the client
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "content-length")]
        ex.resp_headers = headers
        obs.response(ex, None, ex.t_first_byte)
        if not stream:
            obs.chunk(ex, resp.content, ex.t_first_byte)
            self._end(obs, ex)
            return resp
        resp.stream = http_intercept.tee(mod, resp.stream, lambda b: obs.chunk(ex, b, time.time()),
                                         lambda err: self._end(obs, ex, err), is_async)
        return resp

    def send(self, call_next, request, stream, mod):
        obs, ex = self._begin(request)
        try:
            resp = call_next(request)
        except BaseException as e:
            self._end(obs, ex, f"{type(e).__name__}: {e}")
            raise
        return self._response(obs, ex, resp, stream, mod, False)

    async def asend(self, call_next, request, stream, mod):
        obs, ex = self._begin(request)
        try:
            resp = await call_next(request)
        except BaseException as e:
            self._end(obs, ex, f"{type(e).__name__}: {e}")
            raise
        return self._response(obs, ex, resp, stream, mod, True)


def _answer_frame(frame: dict, events: list) -> None:
    """A framework integration opened ``frame`` around this model call (same
    session, same context): stamp its agent on our events and tell it the
    response's id, so the call is one event (see agent_trace.integrations)."""
    for e in events:
        for k in ("agent_id", "agent_type"):
            if frame.get(k) and not e.get(k):
                e[k] = frame[k]
        if e["type"] == "llm.response":
            frame["ids"].append(e["id"])


_tracer = Tracer()


def instrument() -> None:
    """Record openai/anthropic SDK calls made inside a session (idempotent)."""
    http_intercept.register(_tracer)


def uninstrument() -> None:
    http_intercept.unregister(_tracer)
