"""A scripted Anthropic-compatible Messages API for offline agent tests.

Scenarios are keyed by a substring of the conversation's first user message.
Each scenario is a list of steps; the step played is the number of assistant
messages already in the request (so the agent's own tool loop drives it).
A step is a list of content blocks: ``{"text": ...}`` or
``{"tool": NAME, "input": {...}}``.  A request that matches no scenario (title
generation, quota probes ...) gets a short text answer.

Every request is recorded in ``server.requests`` for assertions.  Responses
stream as SSE when the request asks for it, like the real API.
"""

from __future__ import annotations

import itertools
import json
import threading

from .processes import JsonHandler, LocalServer

MODEL = "claude-sonnet-4-5-20250929"


def _first_user_text(messages) -> str:
    for m in messages:
        if m.get("role") != "user":
            continue
        c = m.get("content")
        if isinstance(c, str):
            return c
        texts = [b.get("text", "") for b in c if isinstance(b, dict) and b.get("type") == "text"]
        return "\n".join(texts)
    return ""


class Stub(LocalServer):
    def __init__(self, scenarios: dict[str, list[list[dict]]], usage=None, model: str = MODEL,
                 delay: float = 0.0, first_id: int = 1):
        self.scenarios = scenarios
        self.delay = delay  # seconds to wait before answering a scripted turn (a slow model)
        self.model = model
        self.usage = usage or {"input_tokens": 1000, "output_tokens": 50,
                               "cache_read_input_tokens": 200, "cache_creation_input_tokens": 100}
        self.requests: list[dict] = []
        self._ids = itertools.count(first_id)  # another first_id: ids unlike another stub's
        self._lock = threading.Lock()
        self._start_server()

    # -- scripting -------------------------------------------------------------
    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def respond(self, body: dict) -> tuple[list[dict], str]:
        messages = body.get("messages") or []
        first = _first_user_text(messages)
        for key, steps in self.scenarios.items():
            if key in first:
                if self.delay:
                    import time

                    time.sleep(self.delay)
                n = sum(1 for m in messages if m.get("role") == "assistant")
                step = steps[min(n, len(steps) - 1)] if n < len(steps) else [{"text": "Done."}]
                return self._blocks(step)
        return [{"type": "text", "text": "ok"}], "end_turn"

    def _blocks(self, step):
        blocks, stop = [], "end_turn"
        for b in step:
            if "tool" in b:
                blocks.append({"type": "tool_use", "id": f"toolu_stub{self.next_id():05d}",
                               "name": b["tool"], "input": b.get("input", {})})
                stop = "tool_use"
            else:
                blocks.append({"type": "text", "text": b["text"]})
        return blocks, stop

    def _handler(self):
        stub = self

        class Handler(JsonHandler):
            def _extra_headers(self):
                return {"request-id": f"req_stub{stub.next_id()}"}

            def do_GET(self):
                self._json(200, {"data": [{"id": stub.model, "type": "model"}]})

            def do_HEAD(self):
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                path = self.path.split("?")[0]
                with stub._lock:
                    stub.requests.append({"path": path, "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                if path.endswith("/count_tokens"):
                    return self._json(200, {"input_tokens": 100})
                if not path.endswith("/messages"):
                    return self._json(404, {"type": "error", "error": {"type": "not_found_error",
                                                                       "message": path}})
                blocks, stop = stub.respond(body)
                msg_id = f"msg_stub{stub.next_id():05d}"
                if body.get("stream"):
                    return self._stream(msg_id, blocks, stop)
                self._json(200, {"id": msg_id, "type": "message", "role": "assistant",
                                 "model": stub.model, "content": blocks, "stop_reason": stop,
                                 "stop_sequence": None, "usage": stub.usage})

            def _stream(self, msg_id, blocks, stop):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("request-id", f"req_stub{stub.next_id()}")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                u = stub.usage

                def send(event, data):
                    chunk = f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

                start_usage = {k: v for k, v in u.items() if k != "output_tokens"}
                start_usage["output_tokens"] = 1
                send("message_start", {"type": "message_start", "message": {
                    "id": msg_id, "type": "message", "role": "assistant", "model": stub.model,
                    "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}})
                for i, b in enumerate(blocks):
                    if b["type"] == "text":
                        send("content_block_start", {"type": "content_block_start", "index": i,
                                                     "content_block": {"type": "text", "text": ""}})
                        send("content_block_delta", {"type": "content_block_delta", "index": i,
                                                     "delta": {"type": "text_delta", "text": b["text"]}})
                    else:
                        send("content_block_start", {"type": "content_block_start", "index": i,
                                                     "content_block": {"type": "tool_use", "id": b["id"],
                                                                       "name": b["name"], "input": {}}})
                        raw = json.dumps(b["input"])
                        half = len(raw) // 2
                        for part in (raw[:half], raw[half:]):
                            send("content_block_delta", {"type": "content_block_delta", "index": i,
                                                         "delta": {"type": "input_json_delta",
                                                                   "partial_json": part}})
                    send("content_block_stop", {"type": "content_block_stop", "index": i})
                send("message_delta", {"type": "message_delta",
                                       "delta": {"stop_reason": stop, "stop_sequence": None},
                                       "usage": {"output_tokens": u["output_tokens"]}})
                send("message_stop", {"type": "message_stop"})
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return Handler
