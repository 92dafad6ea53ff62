"""MCP JSON-RPC messages -> events, pairing requests and responses.

Each message becomes an ``mcp.message`` event (direction, method, JSON-RPC id,
the message itself as JSON; when it is not JSON, its text as ``raw_text``, or
``raw_b64`` when it is not UTF-8 either: one copy, redacted like any other).  Requests and
responses pair by id within their direction, giving responses a duration and a
``parent``.  ``tools/call`` additionally becomes ``tool.call`` and
``tool.result`` / ``tool.error`` (``isError: true`` or a JSON-RPC error), so
MCP tools read like any other tool in replay, stats and rules.
"""

from __future__ import annotations

import base64
import time

from .. import event as ev

C2S, S2C = "client->server", "server->client"
OTHER = {C2S: S2C, S2C: C2S}


class McpSessionLog:
    def __init__(self, session: str, source: str = "mcp-stdio", server: str | None = None,
                 tool_events: bool = True):
        self.session = session
        self.source = source
        self.server = server
        # False when logging into an agent session whose hooks already record
        # the same tool calls: one call, one tool.call event.
        self.tool_events = tool_events
        self.pending: dict[tuple[str, object], dict] = {}  # (requester direction, id) -> info

    def events_for(self, direction: str, raw: bytes, parsed, t: float | None = None) -> list[dict]:
        t = time.time() if t is None else t
        if parsed is None:
            try:
                data = {"raw_text": raw.decode("utf-8")}
            except UnicodeDecodeError:  # the encoder redacts inside base64 too
                data = {"raw_b64": base64.b64encode(raw).decode("ascii")}
            return [self._event(ev.MCP_MESSAGE, t, direction=direction, name="unparsed", data=data,
                                status=ev.ERROR, error={"message": "not a JSON message"})]
        if isinstance(parsed, list):  # a JSON-RPC batch
            out = []
            for item in parsed:
                out += self._message(direction, item, t, batch=True)
            return out or [self._event(ev.MCP_MESSAGE, t, direction=direction, name="batch", data=parsed)]
        return self._message(direction, parsed, t)

    def _event(self, etype: str, t: float, **fields) -> dict:
        return ev.make_event(etype, self.session, self.source, ts=ev.now_iso(t), **fields)

    def _message(self, direction: str, msg, t: float, batch: bool = False) -> list[dict]:
        if not isinstance(msg, dict):
            return [self._event(ev.MCP_MESSAGE, t, direction=direction, name="invalid", data=msg,
                                status=ev.ERROR, error={"message": "not a JSON-RPC object"})]
        method = msg.get("method") if isinstance(msg.get("method"), str) else None
        rid = msg.get("id")
        rpc_id = rid if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None
        kind = "request" if method and "id" in msg else "notification" if method else "response"
        out = []
        if kind == "response":
            info = self.pending.pop((OTHER[direction], _key(rid)), None)
            err = msg.get("error")
            fields = {"direction": direction, "name": "response", "rpc_id": rpc_id, "data": msg}
            if info:
                fields.update(method=info["method"], parent=info["event_id"],
                              duration_ms=round((t - info["t"]) * 1000, 3))
            if isinstance(err, dict):
                fields["status"] = ev.ERROR
                fields["error"] = {"message": str(err.get("message", "error")), "code": err.get("code")}
            else:
                fields["status"] = ev.OK
            out.append(self._event(ev.MCP_MESSAGE, t, **fields))
            if info and info["method"] == "tools/call" and "call_id" in info:
                out.append(self._tool_end(info, msg, t, fields.get("duration_ms")))
            return out
        e = self._event(ev.MCP_MESSAGE, t, direction=direction, name=kind, method=method,
                        rpc_id=rpc_id, data=msg)
        out.append(e)
        if kind == "request":
            info = {"method": method, "t": t, "event_id": e["id"]}
            if method == "tools/call" and self.tool_events:
                params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
                # type-checker: narrowed by isinstance() on the same .get()
                info["tool"] = str(params.get("name") or "?")  # type: ignore[union-attr]
                info["tool_use_id"] = f"mcp:{direction}:{rpc_id}"
                call = self._event(ev.TOOL_CALL, t, name="tools/call", tool=self._tool_name(info["tool"]),
                                   tool_use_id=info["tool_use_id"], rpc_id=rpc_id, parent=e["id"],
                                   # type-checker: narrowed by isinstance() on the same .get()
                                   data={"tool_input": params.get("arguments"), "server": self.server,  # type: ignore[union-attr]
                                         "params": params})
                info["call_id"] = call["id"]
                out.append(call)
            self.pending[(direction, _key(rid))] = info
        return out

    def _tool_name(self, tool: str) -> str:
        return f"mcp__{self.server}__{tool}" if self.server else tool

    def _tool_end(self, info: dict, msg: dict, t: float, duration) -> dict:
        result = msg.get("result")
        err = msg.get("error")
        failed = isinstance(err, dict) or (isinstance(result, dict) and result.get("isError") is True)
        fields = {"name": "tools/call", "tool": self._tool_name(info["tool"]),
                  "tool_use_id": info["tool_use_id"], "parent": info["call_id"],
                  "duration_ms": duration, "data": {"tool_response": result if result is not None else err}}
        if failed:
            fields["status"] = ev.ERROR
            fields["error"] = {"message": _error_text(result, err)}
            return self._event(ev.TOOL_ERROR, t, **fields)
        fields["status"] = ev.OK
        return self._event(ev.TOOL_RESULT, t, **fields)

    def unanswered(self) -> int:
        return len(self.pending)


def _key(rid):
    return ("s", rid) if isinstance(rid, str) else ("n", rid)


def _error_text(result, err) -> str:
    if isinstance(err, dict):
        return str(err.get("message", "error"))
    if isinstance(result, dict):
        parts = [c.get("text", "") for c in result.get("content") or [] if isinstance(c, dict)]
        text = " ".join(p for p in parts if p)
        if text:
            return text
    return "tool returned isError"
