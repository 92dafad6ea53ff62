"""MCP over HTTP -> events: Streamable HTTP (2025-11-25) and legacy HTTP+SSE.

An observer for :class:`agent_trace.proxy.http_forward.ReverseProxy`.  It runs
on the proxy's log thread, never on the forwarding path:

* a POST body is one JSON-RPC message or a batch (client -> server);
* a response is JSON, or an SSE stream whose ``data`` fields are JSON-RPC
  messages (server -> client); the GET stream and the legacy ``/sse`` stream
  carry server-initiated requests and notifications the same way;
* every HTTP exchange is also one ``generic`` event named ``http`` (method,
  path, status, duration, Mcp-Session-Id, MCP-Protocol-Version, errors) with
  credential headers left out.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

from .. import event as ev
from ..proxy.sse import SSEParser
from .mcp_log import C2S, S2C, McpSessionLog

# Request/response headers worth keeping; everything else (Authorization,
# cookies, API keys ...) never reaches the log.
KEEP_HEADERS = frozenset({"content-type", "accept", "mcp-session-id", "mcp-protocol-version",
                          "last-event-id", "user-agent", "origin", "content-length", "cache-control"})


def safe_headers(headers) -> dict:
    return {k: v for k, v in headers if k.lower() in KEEP_HEADERS}


class McpHttpObserver:
    def __init__(self, sink, session: str, server: str | None = None, tool_events: bool = True):
        self.sink = sink
        self.session = session
        self.pending_events: list[dict] = []
        self.log = McpSessionLog(session, "mcp-http", server, tool_events=tool_events)
        self.parsers: dict[int, SSEParser] = {}
        self.bodies: dict[int, list] = {}

    def _emit(self, events):
        self.pending_events += events

    def flush(self):
        """Called once per batch by the proxy's log thread: one write."""
        if self.pending_events:
            events, self.pending_events = self.pending_events, []
            self.sink.emit_many(events)

    def _messages(self, direction: str, raw: bytes, t: float):
        if not raw.strip():
            return []
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        return self.log.events_for(direction, raw, parsed, t)

    # -- observer protocol ------------------------------------------------------
    def request(self, ex, _, t):
        ctype = (ex.req_header("content-type") or "").lower()
        if ex.method == "POST" and ex.req_body and "json" in ctype:
            self._emit(self._messages(C2S, ex.req_body, t))

    def response(self, ex, _, t):
        ctype = (ex.resp_header("content-type") or "").lower()
        if "text/event-stream" in ctype:
            self.parsers[ex.id] = SSEParser()
        else:
            self.bodies[ex.id] = []

    def chunk(self, ex, data, t):
        parser = self.parsers.get(ex.id)
        if parser is not None:
            events = []
            for sse in parser.feed(data):
                if sse["event"] == "endpoint":  # legacy transport: where to POST
                    ex.extra["endpoint"] = sse["data"]
                    continue
                events += self._messages(S2C, sse["data"].encode(), t)
            self._emit(events)
        elif ex.id in self.bodies:
            self.bodies[ex.id].append(data)

    def end(self, ex, _, t):
        events = []
        body = self.bodies.pop(ex.id, None)
        self.parsers.pop(ex.id, None)
        ctype = (ex.resp_header("content-type") or "").lower()
        if body and "json" in ctype:
            events += self._messages(S2C, b"".join(body), t)
        duration = round(((ex.t_end or ex.t_start) - ex.t_start) * 1000, 3)
        data = {"method": ex.method, "path": ex.path, "status": ex.status,
                "request_headers": safe_headers(ex.req_headers),
                "response_headers": safe_headers(ex.resp_headers)}
        if ex.extra:
            data.update(ex.extra)
        fields = {"name": "http", "method": ex.method, "duration_ms": duration, "data": data}
        if ex.error or (ex.status or 0) >= 400:
            fields["status"] = ev.ERROR
            fields["error"] = {"message": ex.error or f"HTTP {ex.status}"}
        else:
            fields["status"] = ev.OK
        events.append(ev.make_event(ev.GENERIC, self.session, "mcp-http", **fields))
        self._emit(events)


def endpoint_rewriter(upstream: str, proxy_url: str):
    """``rewrite_stream`` hook for the legacy SSE transport: an ``endpoint``
    event naming the upstream by absolute URI is rewritten to the proxy, so the
    client's POSTs come through us too.  Only the stream's first event is
    inspected; after it, bytes pass untouched."""
    up = urlsplit(upstream)
    px = urlsplit(proxy_url)

    def factory(ex):
        ctype = (ex.resp_header("content-type") or "").lower()
        if ex.method != "GET" or "text/event-stream" not in ctype:
            return None
        state = {"buf": b"", "done": False}

        def rewrite(data: bytes) -> bytes:
            if state["done"]:
                return data
            state["buf"] += data
            buf = state["buf"]
            end = max(buf.find(b"\n\n"), buf.find(b"\r\n\r\n"))
            if end == -1 and len(buf) < 65536:
                return b""  # hold until the first event is complete
            state["done"] = True
            state["buf"] = b""
            return _rewrite_endpoint(buf, up, px)

        return rewrite

    return factory


def _rewrite_endpoint(buf: bytes, up, px) -> bytes:
    text = buf.decode("utf-8", "replace")
    if "event: endpoint" not in text and "event:endpoint" not in text:
        return buf
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("data:"):
            value = line[5:].strip()
            u = urlsplit(value)
            if u.scheme and u.netloc == up.netloc:
                lines[i] = "data: " + urlunsplit((px.scheme, px.netloc, u.path, u.query, u.fragment))
            break
    return "\n".join(lines).encode("utf-8")
