"""LLM API calls seen on the wire -> ``llm.request`` / ``llm.response`` events.

An observer for :class:`agent_trace.proxy.http_forward.ReverseProxy` (it runs
on the proxy's log thread, never on the forwarding path).

* the request body is kept as parsed JSON, unchanged;
* the response body as JSON, or for streams the raw SSE text plus the
  reassembled message (:mod:`.llm_reassemble`); compressed bodies are
  decompressed for the log only (the client gets the bytes as sent);
* status, latency, time to first byte and the upstream's identifying headers
  (request ids, processing time, model, rate-limit state) are recorded;
  ``Authorization``, ``x-api-key``, cookies and other credentials never are,
  nor query-string values (``?key=`` on Gemini) other than a few harmless
  ones (:data:`SAFE_QUERY`);
* a body that is not JSON is kept once: as text, or base64 when it is not
  UTF-8 (redacted inside by the encoder); a body compressed in an encoding
  the standard library cannot read is not kept at all (only its size), since
  nothing inside it could be checked for secrets;
* ``cwd`` and ``home`` of the agent are stamped on requests when the
  wrapper knows them (``run``; the fork server learns them from requests);
* the session comes from ``x-agent-strace-session``, else the proxy's
  ``--session``, else the agent's own session header (Claude Code's
  ``x-claude-code-session-id``), else the proxy's default session;
* a response's event id is derived from (session, response id), the same id
  the transcript import gives it, so a call seen both ways counts once.
"""

from __future__ import annotations

import base64
import json
import zlib

from .. import event as ev
from ..proxy.sse import SSEParser
from . import llm_reassemble as ra
from .transcript import llm_event_id

SOURCE = "llm-proxy"
SESSION_HEADER = "x-agent-strace-session"
AGENT_SESSION_HEADERS = ("x-claude-code-session-id",)
SAFE_REQUEST_HEADERS = frozenset({"content-type", "accept", "user-agent", "anthropic-version", "anthropic-beta",
                                  "openai-organization", "openai-project", "x-stainless-lang",
                                  "x-stainless-package-version", "x-claude-code-session-id", SESSION_HEADER,
                                  "x-agent-strace-task", "x-agent-strace-turn", "accept-encoding"})
ID_RESPONSE_HEADERS = ("request-id", "x-request-id", "openai-processing-ms", "openai-model", "openai-version",
                       "anthropic-organization-id", "cf-ray", "server", "x-ratelimit-remaining-requests",
                       "x-ratelimit-remaining-tokens", "anthropic-ratelimit-requests-remaining",
                       "anthropic-ratelimit-tokens-remaining", "content-type", "content-encoding", "date",
                       "retry-after", "x-served-by", "x-build-info", "x-model")
MAX_KEPT = 64 * 1024 * 1024  # decoded body bytes kept per exchange (a gzip bomb stops here)
SAFE_QUERY = frozenset({"alt", "api-version", "beta", "stream", "limit", "after", "before", "order", "page"})
MAX_RAW_SSE = 8 * 1024 * 1024
TERMINAL_EVENTS = frozenset({"message_stop", "response.completed", "response.failed", "response.incomplete"})


def api_kind(path: str) -> str | None:
    p = path.split("?", 1)[0].rstrip("/")
    for suffix, kind in (("/messages/count_tokens", "anthropic.count_tokens"), ("/messages", "anthropic.messages"),
                         ("/chat/completions", "openai.chat"), ("/responses", "openai.responses"),
                         ("/completions", "openai.completions"), ("/embeddings", "openai.embeddings"),
                         ("/models", "models")):
        if p.endswith(suffix):
            return kind
    return None


def safe_path(path: str) -> str:
    """``path`` with every query value replaced, but for :data:`SAFE_QUERY`."""
    base, sep, query = path.partition("?")
    if not sep:
        return path
    parts = []
    for item in query.split("&"):
        name, eq, value = item.partition("=")
        parts.append(item if not eq or name.lower() in SAFE_QUERY or not value else f"{name}=[REDACTED]")
    return base + "?" + "&".join(parts)


def _body_copy(raw: bytes) -> dict:
    """A non-JSON body, once: text, or base64 when it is not UTF-8."""
    try:
        return {"raw_text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"raw_b64": base64.b64encode(raw).decode()}


def _headers(pairs, keep) -> dict:
    return {k: v for k, v in pairs if k.lower() in keep}


class _Call:
    __slots__ = ("api", "session", "request_event", "body", "sse", "stream", "raw", "raw_size", "decomp",
                 "task", "turn", "complete", "truncated")


class LlmObserver:
    source = SOURCE  # the SDK's instrumentation sets its own

    def __init__(self, sink, default_session: str, forced_session: str | None = None, upstream: str = "",
                 context=None):
        self.sink = sink
        self.default_session = default_session
        self.forced_session = forced_session
        self.upstream = upstream
        # task/turn stamped on every call; the run wrapper updates this very dict
        self.context = context if context is not None else {}
        self.calls: dict[int, _Call] = {}
        self.pending: list[dict] = []

    def flush(self):
        if self.pending:
            events, self.pending = self.pending, []
            self.sink.emit_many(events)

    def _session(self, ex) -> str:
        explicit = ex.req_header(SESSION_HEADER)
        if explicit:
            return explicit
        if self.forced_session:
            return self.forced_session
        for h in AGENT_SESSION_HEADERS:
            v = ex.req_header(h)
            if v:
                return v
        return self.default_session

    # -- observer protocol ------------------------------------------------------
    def request(self, ex, _, t):
        c = _Call()
        c.api = api_kind(ex.path)
        c.session = self._session(ex)
        c.task = ex.req_header("x-agent-strace-task") or self.context.get("task")
        c.turn = ex.req_header("x-agent-strace-turn") or self.context.get("turn")
        c.sse = None
        c.stream = None
        c.raw = []
        c.raw_size = 0
        c.decomp = None
        c.complete = False  # a stream's terminal event was seen
        c.truncated = False
        try:
            body = json.loads(ex.req_body) if ex.req_body else None
        except (ValueError, RecursionError):
            body = _body_copy(ex.req_body)
        c.body = body
        model = body.get("model") if isinstance(body, dict) and isinstance(body.get("model"), str) else None
        data = {"method": ex.method, "path": safe_path(ex.path), "api": c.api, "upstream": self.upstream,
                "headers": _headers(ex.req_headers, SAFE_REQUEST_HEADERS), "body": body}
        if c.task is not None:
            data["task"] = c.task
        if c.turn is not None:
            data["turn"] = c.turn
        for k in ("cwd", "home"):  # where the agent works, when the runner knows (run, serve --fork-at)
            if self.context.get(k):
                data[k] = self.context[k]
        extra = getattr(ex, "extra", None)
        if extra and extra.get("replayed_from"):  # answered from a cassette (serve --fork-at)
            data["replayed_from"] = extra["replayed_from"]
        e = ev.make_event(ev.LLM_REQUEST, c.session, self.source, ts=ev.now_iso(ex.t_start), name=c.api or "http",
                          method=ex.method, model=model, data=data)
        c.request_event = e
        self.calls[ex.id] = c
        self.pending.append(e)

    def response(self, ex, _, t):
        c = self.calls.get(ex.id)
        if c is None:
            return
        enc = (ex.resp_header("content-encoding") or "").lower()
        if enc in ("gzip", "x-gzip"):
            c.decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            c.decomp = zlib.decompressobj()
        elif enc:
            c.decomp = "unsupported"
        if "text/event-stream" in (ex.resp_header("content-type") or "").lower():
            c.sse = SSEParser()
            c.stream = ra.stream_for(c.api or "openai.chat")

    def chunk(self, ex, data, t):
        c = self.calls.get(ex.id)
        if c is None:
            return
        if c.decomp == "unsupported":
            c.raw_size += len(data)  # counted, not kept: nothing inside could be checked for secrets
            return
        if c.decomp is not None:
            try:
                data = c.decomp.decompress(data, MAX_KEPT - c.raw_size if c.raw_size < MAX_KEPT else 1)
            except zlib.error:
                c.decomp = "unsupported"  # not what it claims to be: keep nothing we cannot check
                c.raw, c.raw_size = [], 0
                return
        if c.raw_size >= MAX_KEPT:
            c.truncated = True
            return
        if c.raw_size < MAX_RAW_SSE or c.sse is None:
            c.raw.append(data)
            c.raw_size += len(data)
        if c.sse is not None:
            for sse in c.sse.feed(data):
                if sse["event"] in TERMINAL_EVENTS or sse["data"] == "[DONE]":
                    c.complete = True
                if sse["data"] == "[DONE]" or not sse["data"]:
                    continue
                try:
                    c.stream.feed(sse["event"], json.loads(sse["data"]))
                except ValueError:
                    pass

    def end(self, ex, _, t):
        c = self.calls.pop(ex.id, None)
        if c is None:
            return
        raw = b"".join(c.raw)
        data = {"status": ex.status, "api": c.api,
                "headers": _headers(ex.resp_headers, frozenset(ID_RESPONSE_HEADERS)),
                "latency_ms": round(((ex.t_end or t) - ex.t_start) * 1000, 3),
                "ttfb_ms": round((ex.t_first_byte - ex.t_start) * 1000, 3) if ex.t_first_byte else None}
        if c.task is not None:
            data["task"] = c.task
        if c.turn is not None:
            data["turn"] = c.turn
        message = None
        if c.truncated:
            data["body_truncated_at"] = MAX_KEPT
        if c.decomp == "unsupported":
            data["body_omitted"] = {"bytes": c.raw_size, "content_encoding": ex.resp_header("content-encoding")}
            data["note"] = (f"body not kept ({ex.resp_header('content-encoding')}: no stdlib decoder, "
                            "so it could not be checked for secrets)")
        elif c.sse is not None:
            data["sse"] = raw.decode("utf-8", "replace")
            if c.raw_size >= MAX_RAW_SSE:
                data["sse_truncated_at"] = MAX_RAW_SSE
            message = c.stream.result()
            data["message"] = message
        else:
            try:
                message = json.loads(raw) if raw else None
                data["body"] = message
            except (ValueError, RecursionError):
                data["body_text"] = raw.decode("utf-8", "replace")
        model, usage, stop, msg_id = ra.summarize_message(c.api or "", message) if isinstance(message, dict) \
            else (None, None, None, None)
        fields = {"name": c.api or "http", "parent": c.request_event["id"], "duration_ms": data["latency_ms"],
                  "model": model or c.request_event.get("model"), "usage": usage, "data": data}
        if stop:
            data["stop_reason"] = stop
        if msg_id and c.api in ("anthropic.messages", "openai.chat", "openai.responses", "openai.completions"):
            fields["id"] = llm_event_id(c.session, msg_id)
            data["message_id"] = msg_id
        if ex.error and c.complete and ex.error.startswith("client disconnected"):
            data["note"] = "the client closed the connection after the stream's last event"
            ex.error = None
        if ex.error or not ex.status or ex.status >= 400:
            fields["status"] = ev.ERROR
            err = (message or {}).get("error") if isinstance(message, dict) else None
            text = err.get("message") if isinstance(err, dict) else None
            fields["error"] = {"message": ex.error or text or f"HTTP {ex.status}",
                               "type": (err or {}).get("type") if isinstance(err, dict) else None}
            fields["error"] = {k: v for k, v in fields["error"].items() if v is not None}
            if ex.error:
                data["partial"] = True
        else:
            fields["status"] = ev.OK
        if c.api in ("anthropic.count_tokens", "models", None) and fields["status"] == ev.OK:
            etype = ev.GENERIC  # token counts, model lists, other paths: logged, not counted as LLM calls
        else:
            etype = ev.LLM_RESPONSE
        self.pending.append(ev.make_event(etype, c.session, self.source, ts=ev.now_iso(ex.t_end or t), **fields))
