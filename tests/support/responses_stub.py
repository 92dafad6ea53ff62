"""A scripted OpenAI Responses API (``POST /v1/responses``, SSE) for Codex CLI.

Scenarios and steps as in :mod:`support.scripted`.  A ``{"tool": ...,
"input": {...}}`` block becomes a ``function_call`` item; ``{"tool":
"apply_patch", "patch": TEXT}`` a ``custom_tool_call`` (the freeform tool
Codex offers to models of its catalog); ``"item": {...}`` adds fields to the
item (``{"namespace": "collaboration"}`` for Codex's subagent tools).  Each response carries ``usage``
(``self.usage``), with cached input tokens, and an id (``resp_stubN``) the
tests look for in the trace.
"""

from __future__ import annotations

import itertools
import json
import threading

from .processes import JsonHandler, LocalServer
from .scripted import find_scenario, pick_step

OUTPUT_TYPES = ("function_call_output", "custom_tool_call_output", "local_shell_call_output",
                "tool_search_output", "mcp_tool_call_output")


def user_text(items) -> str:
    out = []
    for it in items or []:
        if not isinstance(it, dict):
            continue
        # a subagent's task arrives as an ``agent_message`` ("Task name: /root/<name>")
        if (it.get("type", "message") == "message" and it.get("role") == "user") or it.get("type") == "agent_message":
            c = it.get("content")
            if isinstance(c, str):
                out.append(c)
            elif isinstance(c, list):
                out += [p.get("text", "") for p in c if isinstance(p, dict)]
    return "\n".join(out)


class ResponsesStub(LocalServer):
    base = "/v1"

    def __init__(self, scenarios: dict, usage: dict | None = None):
        self.scenarios = scenarios
        self.usage = usage or {"input_tokens": 1200, "input_tokens_details": {"cached_tokens": 300},
                               "output_tokens": 40, "output_tokens_details": {"reasoning_tokens": 0},
                               "total_tokens": 1240}
        self.requests: list[dict] = []
        self.response_ids: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._start_server()

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def items_for(self, body: dict) -> list[dict]:
        items = body.get("input") or []
        steps = find_scenario(self.scenarios, user_text(items))
        if steps is None:
            return [self._message("ok")]
        answered = sum(1 for it in items if isinstance(it, dict) and it.get("type") in OUTPUT_TYPES)
        out = []
        for b in pick_step(steps, answered):
            n = self.next_id()
            if "tool" not in b:
                out.append(self._message(b["text"]))
            elif "patch" in b:
                out.append({"type": "custom_tool_call", "id": f"ctc_stub{n}", "status": "completed",
                            "call_id": f"call_stub{n}", "name": b["tool"], "input": b["patch"]})
            else:
                out.append({"type": "function_call", "id": f"fc_stub{n}", "status": "completed",
                            "call_id": f"call_stub{n}", "name": b["tool"], "arguments": json.dumps(b["input"]),
                            **b.get("item", {})})
        return out

    def _message(self, text: str) -> dict:
        return {"type": "message", "id": f"msg_stub{self.next_id()}", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}]}

    def _handler(self):
        stub = self

        class H(JsonHandler):

            def do_GET(self):
                self._json(200, {"object": "list", "data": [], "models": []})

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(n) if n else b""
                if self.headers.get("content-encoding") == "zstd" or not raw.lstrip().startswith(b"{"):
                    return self._json(415, {"error": {"message": "send JSON"}})
                body = json.loads(raw or b"{}")
                path = self.path.split("?")[0]
                with stub._lock:
                    stub.requests.append({"path": path, "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                if not path.endswith("/responses"):
                    return self._json(404, {"error": {"message": f"no {path} here"}})
                items = stub.items_for(body)
                rid = f"resp_stub{stub.next_id()}"
                with stub._lock:
                    stub.response_ids.append(rid)
                model = body.get("model", "gpt-stub")
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                seq = itertools.count()

                def send(name, data):
                    data = {"type": name, "sequence_number": next(seq), **data}
                    chunk = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

                resp = {"id": rid, "object": "response", "created_at": 1, "model": model, "output": []}
                send("response.created", {"response": {**resp, "status": "in_progress"}})
                for i, item in enumerate(items):
                    send("response.output_item.added", {"output_index": i, "item": {**item, "status": "in_progress"}})
                    if item["type"] == "message":
                        send("response.output_text.delta", {"output_index": i, "item_id": item["id"],
                                                            "content_index": 0,
                                                            "delta": item["content"][0]["text"]})
                    send("response.output_item.done", {"output_index": i, "item": item})
                send("response.completed", {"response": {**resp, "status": "completed", "output": items,
                                                         "usage": stub.usage}})
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return H
