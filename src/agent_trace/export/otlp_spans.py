"""A session as OpenTelemetry spans, following the GenAI semantic conventions.

* ``invoke_agent {agent}``: one span per session, and one per subagent (child
  of the session span, or of the agent it ran under when a framework
  integration says so); ``gen_ai.conversation.id`` is the session id.
* ``chat {model}``: one span per LLM response (``gen_ai.provider.name``,
  ``gen_ai.request.model``, ``gen_ai.response.model/id/finish_reasons``,
  ``gen_ai.usage.*`` including cache read and creation).
* ``execute_tool {name}``: one span per tool call, from the call to its result
  (``gen_ai.tool.name``, the agent's own ``gen_ai.tool.call.id``); failures set
  ``error.type`` and an error status.
* MCP requests: ``{method} {target}`` spans with ``mcp.method.name``,
  ``jsonrpc.request.id`` and ``mcp.session.id``.
* Rule decisions become span events on the agent span.

Message and tool content is added only with ``content=True``, as the
conventions ask.  Ids are derived from the session and event ids, so
exporting the same session twice gives the same spans (no duplicates).

A span here is a plain dict in the OTLP/JSON shape (hex ids, string
nanoseconds, enum numbers); :mod:`.otlp` sends it as JSON or protobuf.
"""

from __future__ import annotations

import hashlib

from .. import event as ev

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SPAN_KIND_INTERNAL, SPAN_KIND_CLIENT = 1, 3
# sources that name the session's root agent (coding agents, Python agent frameworks)
AGENT_SOURCES = ("claude-code", "codex", "gemini", "openai-agents", "langchain", "pydantic-ai")
STATUS_OK, STATUS_ERROR = 1, 2


def trace_id(session: str) -> str:
    return hashlib.sha256(f"trace\0{session}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def span_id(session: str, key: str) -> str:
    return hashlib.sha256(f"span\0{session}\0{key}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _ns(ts: str) -> int:
    return int(round(ev.iso_to_epoch(ts) * 1_000_000_000))


def attr(key: str, value) -> dict:
    v: dict[str, Any]
    if isinstance(value, bool):
        v = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}  # int64 is a string in OTLP/JSON
    elif isinstance(value, float):
        v = {"doubleValue": value}
    elif isinstance(value, (list, tuple)):
        v = {"arrayValue": {"values": [attr("_", x)["value"] for x in value]}}
    else:
        v = {"stringValue": str(value)}
    return {"key": key, "value": v}


def provider(model: str | None, source: str | None) -> str:
    m = (model or "").lower()
    if m.startswith("claude") or source == "claude-code":
        return "anthropic"
    if m.startswith(("gpt", "o1", "o3", "o4", "text-embedding", "codex")) or source == "codex":
        return "openai"
    if m.startswith("gemini") or source == "gemini":
        return "gcp.gemini"
    return "unknown"


class SpanBuilder:
    """Feed events in log order; :meth:`spans` returns the finished spans."""

    def __init__(self, content: bool = False):
        self.content = content
        self.session: str | None = None
        self.agent: str | None = None
        self.first: str | None = None
        self.last: str | None = None
        self.out: list[dict] = []
        self.calls: dict[str, dict] = {}
        self.mcp: dict[tuple, dict] = {}
        self.agents: dict[str, dict] = {}  # agent_id -> {"type", "first", "last"}
        self.since: dict[str, str] = {}  # agent_id ("" main) -> when its last step ended
        self.root_events: list[dict] = []
        self.chats: set = set()
        self.root_error: str | None = None
        self._taken = 0

    def _parent(self, e: dict) -> str:
        aid = e.get("agent_id")
        # type-checker: spans() returns early until a session is seen
        return span_id(self.session, f"agent:{aid}") if aid else span_id(self.session, "root")  # type: ignore[arg-type]

    def _span(self, key: str, name: str, start: str, end: str, e: dict, attrs: list, kind=SPAN_KIND_INTERNAL,
              error: str | None = None, parent: str | None = None) -> dict:
        # type-checker: spans() returns early until a session is seen
        s = {"traceId": trace_id(self.session), "spanId": span_id(self.session, key),  # type: ignore[arg-type]
             "parentSpanId": parent if parent is not None else self._parent(e), "name": name, "kind": kind,
             "startTimeUnixNano": str(_ns(start)), "endTimeUnixNano": str(max(_ns(start), _ns(end))),
             "attributes": attrs,
             "status": {"code": STATUS_ERROR, "message": error} if error else {"code": STATUS_OK}}
        self.out.append(s)
        return s

    def add(self, e: dict) -> None:
        if self.session is None:
            self.session = e.get("session")
        ts = e.get("ts")
        if ts:
            self.first = ts if self.first is None or ts < self.first else self.first
            self.last = ts if self.last is None or ts > self.last else self.last
        if self.agent is None and e.get("source") in AGENT_SOURCES:
            self.agent = e["source"]
        aid = e.get("agent_id")
        if aid:
            a = self.agents.setdefault(aid, {"type": e.get("agent_type"), "first": ts, "last": ts, "parent": None})
            a["type"] = a["type"] or e.get("agent_type")
            data = e.get("data")
            if e.get("type") == ev.SUBAGENT_START and isinstance(data, dict) and data.get("parent_agent_id"):
                a["parent"] = str(data["parent_agent_id"])  # a framework's agent run under another agent
            a["first"] = min(a["first"], ts) if ts else a["first"]
            a["last"] = max(a["last"], ts) if ts else a["last"]
        t = e.get("type")
        if t == ev.LLM_RESPONSE:
            if e.get("id") not in self.chats:  # one call seen twice shares an id: one span
                self.chats.add(e.get("id"))
                self._chat(e)
        elif ts:
            # what the agent did last: a model call it makes next starts after it
            self.since[e.get("agent_id") or ""] = ts
        if t == ev.LLM_RESPONSE:
            return
        if t == ev.TOOL_CALL and e.get("tool_use_id"):
            self.calls[e["tool_use_id"]] = e
        elif t in (ev.TOOL_RESULT, ev.TOOL_ERROR):
            # type-checker: an event without the id just misses
            self._tool(self.calls.pop(e.get("tool_use_id"), None), e)  # type: ignore[arg-type]
        elif t == ev.MCP_MESSAGE:
            self._mcp(e)
        elif t == ev.RULE_DECISION:
            data = e.get("data") if isinstance(e.get("data"), dict) else {}
            # type-checker: stored events always have a ts (validate.problem)
            self.root_events.append({"timeUnixNano": str(_ns(ts)), "name": f"rule.{e.get('status')}",  # type: ignore[arg-type]
                                     "attributes": [attr("rule", e.get("name") or "?"),
                                                    # type-checker: narrowed by isinstance() on the same .get()
                                                    attr("reason", data.get("reason") or ""),  # type: ignore[union-attr]
                                                    attr("gen_ai.tool.name", e.get("tool") or "")]})
        elif t == ev.SESSION_END and e.get("status") == ev.ERROR:
            err = e.get("error") or {}
            self.root_error = err.get("message") if isinstance(err, dict) else "error"

    def _tool(self, call: dict | None, end: dict) -> None:
        first = call or end
        tool = end.get("tool") or first.get("tool") or "?"
        start_ts = first.get("ts")
        end_ts = end.get("ts")
        d = end.get("duration_ms")
        if call is None and isinstance(d, (int, float)):
            # type-checker: stored events always have a ts (validate.problem)
            start_ts = ev.now_iso(ev.iso_to_epoch(end_ts) - d / 1000)  # type: ignore[arg-type]
        attrs = [attr("gen_ai.operation.name", "execute_tool"), attr("gen_ai.tool.name", tool),
                 attr("gen_ai.tool.type", "extension" if tool.startswith("mcp__") else "function"),
                 attr("gen_ai.conversation.id", self.session)]
        if first.get("tool_use_id"):
            attrs.append(attr("gen_ai.tool.call.id", first["tool_use_id"]))
        error = None
        if end.get("type") == ev.TOOL_ERROR or end.get("status") == ev.ERROR:
            err = end.get("error") or {}
            error = (err.get("message") if isinstance(err, dict) else str(err)) or "tool failed"
            attrs.append(attr("error.type", "tool_error"))
        if self.content:
            from ..event.encode import to_bytes

            data = first.get("data") if isinstance(first.get("data"), dict) else {}
            # type-checker: narrowed by isinstance() on the same .get()
            if data.get("tool_input") is not None:  # type: ignore[union-attr]
                # type-checker: narrowed by isinstance() on the same .get()
                attrs.append(attr("gen_ai.tool.call.arguments", to_bytes(data["tool_input"]).decode()))  # type: ignore[index]
            rdata = end.get("data") if isinstance(end.get("data"), dict) else {}
            # type-checker: narrowed by isinstance() on the same .get()
            if rdata.get("tool_response") is not None:  # type: ignore[union-attr]
                # type-checker: narrowed by isinstance() on the same .get()
                attrs.append(attr("gen_ai.tool.call.result", to_bytes(rdata["tool_response"]).decode()[:65536]))  # type: ignore[index]
        # type-checker: stored events always have a ts (validate.problem)
        self._span(f"tool:{first.get('tool_use_id') or end.get('id')}", f"execute_tool {tool}", start_ts, end_ts,  # type: ignore[arg-type]
                   end, attrs, error=error)

    def _chat(self, e: dict) -> None:
        data = e.get("data") if isinstance(e.get("data"), dict) else {}
        model = e.get("model") or "unknown"
        end_ts = e.get("ts")
        d = e.get("duration_ms")
        prev = self.since.get(e.get("agent_id") or "")
        if isinstance(d, (int, float)):
            # type-checker: stored events always have a ts (validate.problem)
            start_ts = ev.now_iso(ev.iso_to_epoch(end_ts) - d / 1000)  # type: ignore[arg-type]
        elif prev and end_ts and prev <= end_ts:
            # A turn read from a transcript carries only its answer's time; the
            # request went out when the agent's previous step (a tool result,
            # the prompt, the previous answer) ended.
            start_ts = prev
        else:
            # type-checker: stored events always have a ts (validate.problem)
            start_ts = end_ts  # type: ignore[assignment]
        if end_ts:
            self.since[e.get("agent_id") or ""] = end_ts
        attrs = [attr("gen_ai.operation.name", "chat"), attr("gen_ai.provider.name", provider(model, e.get("source"))),
                 attr("gen_ai.request.model", model), attr("gen_ai.response.model", model),
                 attr("gen_ai.conversation.id", self.session)]
        # type-checker: narrowed by isinstance() on the same .get()
        if data.get("message_id"):  # type: ignore[union-attr]
            # type-checker: narrowed by isinstance() on the same .get()
            attrs.append(attr("gen_ai.response.id", data["message_id"]))  # type: ignore[index]
        # type-checker: narrowed by isinstance() on the same .get()
        if data.get("stop_reason"):  # type: ignore[union-attr]
            # type-checker: narrowed by isinstance() on the same .get()
            attrs.append(attr("gen_ai.response.finish_reasons", [data["stop_reason"]]))  # type: ignore[index]
        u = e.get("usage") or {}
        for ours, theirs in (("input", "gen_ai.usage.input_tokens"), ("output", "gen_ai.usage.output_tokens"),
                             ("cache_read", "gen_ai.usage.cache_read.input_tokens"),
                             ("cache_write", "gen_ai.usage.cache_creation.input_tokens")):
            if ours in u:
                attrs.append(attr(theirs, u[ours]))
        error = None
        if e.get("status") == ev.ERROR:
            err = e.get("error") or {}
            error = err.get("message", "error") if isinstance(err, dict) else str(err)
            attrs.append(attr("error.type", (err.get("type") if isinstance(err, dict) else None) or "llm_error"))
        # type-checker: narrowed by isinstance() on the same .get()
        if self.content and data.get("content") is not None:  # type: ignore[union-attr]
            from ..event.encode import to_bytes

            attrs.append(attr("gen_ai.output.messages", to_bytes(
                # type-checker: narrowed by isinstance() on the same .get()
                [{"role": "assistant", "parts": data["content"]}]).decode()[:65536]))  # type: ignore[index]
        # type-checker: stored events always have a ts (validate.problem)
        self._span(f"chat:{e.get('id')}", f"chat {model}", start_ts, end_ts, e, attrs, SPAN_KIND_CLIENT, error)  # type: ignore[arg-type]

    def _mcp(self, e: dict) -> None:
        direction = e.get("direction")
        if e.get("name") == "request":
            self.mcp[(direction, e.get("rpc_id"))] = e
            return
        if e.get("name") != "response":
            return
        other = "server->client" if direction == "client->server" else "client->server"
        req = self.mcp.pop((other, e.get("rpc_id")), None)
        if req is None:
            return
        method = req.get("method") or "?"
        params = (req.get("data") or {}).get("params") if isinstance(req.get("data"), dict) else None
        target = params.get("name") if isinstance(params, dict) and isinstance(params.get("name"), str) else ""
        attrs = [attr("mcp.method.name", method), attr("jsonrpc.request.id", str(req.get("rpc_id"))),
                 attr("mcp.session.id", self.session)]
        if target:
            attrs.append(attr("gen_ai.tool.name", target))
        error = (e.get("error") or {}).get("message") if e.get("status") == ev.ERROR else None
        if error:
            attrs.append(attr("error.type", str((e.get("error") or {}).get("code") or "jsonrpc_error")))
        # type-checker: stored events always have a ts (validate.problem)
        self._span(f"mcp:{req.get('id')}", f"{method} {target}".strip(), req.get("ts"), e.get("ts"), e, attrs,  # type: ignore[arg-type]
                   SPAN_KIND_CLIENT, error)

    def spans(self) -> list[dict]:
        """Every span so far: finished tool/chat/MCP spans plus the agent spans
        as they stand now (re-sending them later extends them: same ids)."""
        if self.session is None:
            return []
        done = self.out
        self.out = []
        agent = self.agent or "agent"
        # type-checker: spans() returns early until a session is seen
        root = self._span("root", f"invoke_agent {agent}", self.first, self.last, {}, [  # type: ignore[arg-type]
            attr("gen_ai.operation.name", "invoke_agent"), attr("gen_ai.agent.name", agent),
            attr("gen_ai.conversation.id", self.session), attr("gen_ai.provider.name", provider(None, self.agent))],
            error=self.root_error, parent="")
        root["events"] = list(self.root_events)
        del root["parentSpanId"]
        for aid, a in self.agents.items():
            parent = a.get("parent")
            self._span(f"agent:{aid}", f"invoke_agent {a['type'] or aid}", a["first"], a["last"], {}, [
                attr("gen_ai.operation.name", "invoke_agent"), attr("gen_ai.agent.id", aid),
                attr("gen_ai.agent.name", a["type"] or aid), attr("gen_ai.conversation.id", self.session)],
                parent=span_id(self.session, f"agent:{parent}") if parent in self.agents else root["spanId"])
        agents, self.out = self.out, done
        return done + agents

    def take_finished(self) -> list[dict]:
        """For continuous export: tool/chat/MCP spans finished since the last
        call, plus the agent spans as they stand (same ids: they are updated)."""
        everything = self.spans()
        n_done = len(self.out)
        new_done = self.out[self._taken:]
        self._taken = n_done
        return new_done + everything[n_done:]
