"""A scripted OpenAI chat-completions API (``POST /v1/chat/completions``, SSE)
for OpenCode's OpenAI-compatible provider.

Scenarios and steps as in :mod:`support.scripted`; a tool block becomes a
``tool_calls`` entry (id ``call_stubN``).  The last chunk carries ``usage``
(``self.usage``) with cached prompt tokens.
"""

from __future__ import annotations

import itertools
import json
import threading

from .processes import JsonHandler, LocalServer
from .scripted import find_scenario, pick_step


def user_text(messages) -> str:
    out = []
    for m in messages or []:
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                out.append(c)
            elif isinstance(c, list):
                out += [p.get("text", "") for p in c if isinstance(p, dict)]
    return "\n".join(out)


class ChatStub(LocalServer):
    base = "/v1"

    def __init__(self, scenarios: dict, usage: dict | None = None, model: str = "stub-model"):
        self.scenarios = scenarios
        self.model = model
        self.usage = usage or {"prompt_tokens": 900, "completion_tokens": 30, "total_tokens": 930,
                               "prompt_tokens_details": {"cached_tokens": 100}}
        self.requests: list[dict] = []
        self.scripted_calls = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._start_server()

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def step_for(self, body: dict) -> list[dict]:
        messages = body.get("messages") or []
        steps = find_scenario(self.scenarios, user_text(messages))
        if steps is None or not body.get("tools"):
            return [{"text": "Stub title"}]
        with self._lock:
            self.scripted_calls += 1
        answered = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "tool")
        return pick_step(steps, answered)

    def _handler(self):
        stub = self

        class H(JsonHandler):

            def do_GET(self):
                self._json(200, {"object": "list", "data": [{"id": stub.model, "object": "model"}]})

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                path = self.path.split("?")[0]
                with stub._lock:
                    stub.requests.append({"path": path, "body": body})
                if not path.endswith("/chat/completions"):
                    return self._json(404, {"error": {"message": f"no {path} here"}})
                step = stub.step_for(body)
                cid = f"chatcmpl-stub{stub.next_id()}"
                base = {"id": cid, "object": "chat.completion.chunk", "created": 1, "model": stub.model}
                text = "".join(b["text"] for b in step if "text" in b)
                calls = [{"index": i, "id": f"call_stub{stub.next_id()}", "type": "function",
                          "function": {"name": b["tool"], "arguments": json.dumps(b.get("input", {}))}}
                         for i, b in enumerate(x for x in step if "tool" in x)]
                chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
                if text:
                    chunks.append({**base, "choices": [{"index": 0, "delta": {"content": text}}]})
                if calls:
                    chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": calls}}]})
                chunks.append({**base, "choices": [{"index": 0, "delta": {},
                                                    "finish_reason": "tool_calls" if calls else "stop"}]})
                chunks.append({**base, "choices": [], "usage": stub.usage})
                if not body.get("stream"):
                    msg = {"role": "assistant", "content": text or None}
                    if calls:
                        msg["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
                    return self._json(200, {"id": cid, "object": "chat.completion", "created": 1,
                                            "model": stub.model, "usage": stub.usage,
                                            "choices": [{"index": 0, "message": msg,
                                                         "finish_reason": "tool_calls" if calls else "stop"}]})
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for c in chunks + ["[DONE]"]:
                    data = f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n".encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return H
