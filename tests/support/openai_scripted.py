"""A scripted OpenAI-compatible API with tool calls, for agent frameworks:
Chat Completions and Responses, streaming and not.

Scenarios are keyed by a substring of the conversation's first user
message (like :mod:`.anthropic_stub`).  Each scenario is a list of steps,
played in order, one per model call of that scenario (the agent's own loop
drives it; handoffs and subagents continue the same script).  A step is a
list of blocks: ``{"text": ...}`` or ``{"tool": NAME, "input": {...}}``.  A
request that matches no scenario gets a short text answer; a scenario past
its last step answers ``Done.``.

Every request is kept in ``server.requests``; ids and usage are
deterministic (``call_1``, ``resp_1``, ``chatcmpl-1``...).
"""

from __future__ import annotations

import itertools
import json
import threading

from .processes import JsonHandler, LocalServer

MODEL = "gpt-4o-mini"


def _first_user_text(body: dict) -> str:
    items = body.get("messages") or body.get("input") or []
    if isinstance(items, str):
        return items
    for m in items:
        if not isinstance(m, dict) or m.get("role") != "user":
            continue
        c = m.get("content")
        if isinstance(c, str):
            return c
        if isinstance(c, list):
            return "\n".join(b.get("text", "") for b in c if isinstance(b, dict))
    return ""


class ScriptedOpenAI(LocalServer):
    base = "/v1"

    def __init__(self, scenarios: dict[str, list[list[dict]]]):
        self.scenarios = scenarios
        self.requests: list[dict] = []
        self.played: dict[str, int] = {}
        self.usages: list[tuple[int, int, int]] = []  # (input, output, cached) of every answer
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._start_server()

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def step(self, body: dict) -> list[dict]:
        first = _first_user_text(body)
        for key, steps in self.scenarios.items():
            if key in first:
                with self._lock:
                    n = self.played.get(key, 0)
                    self.played[key] = n + 1
                return steps[n] if n < len(steps) else [{"text": "Done."}]
        return [{"text": "ok"}]

    def usage(self, n: int) -> tuple[int, int, int]:
        u = (100 + n, 10 + n, 5)  # input (cached included, as OpenAI counts), output, cached
        with self._lock:
            self.usages.append(u)
        return u

    # -- Chat Completions --------------------------------------------------------
    def chat(self, model: str, blocks: list[dict]):
        n = self.next_id()
        text = "".join(b["text"] for b in blocks if "text" in b) or None
        calls = [{"id": f"call_{self.next_id()}", "type": "function",
                  "function": {"name": b["tool"], "arguments": json.dumps(b.get("input", {}))}}
                 for b in blocks if "tool" in b]
        inp, out, cached = self.usage(n)
        usage = {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out,
                 "prompt_tokens_details": {"cached_tokens": cached}}
        return f"chatcmpl-{n}", text, calls, usage

    def chat_body(self, model, blocks) -> dict:
        cid, text, calls, usage = self.chat(model, blocks)
        msg = {"role": "assistant", "content": text}
        if calls:
            msg["tool_calls"] = calls
        return {"id": cid, "object": "chat.completion", "created": 1, "model": model,
                "choices": [{"index": 0, "message": msg, "finish_reason": "tool_calls" if calls else "stop"}],
                "usage": usage}

    def chat_chunks(self, model, blocks) -> list[dict]:
        cid, text, calls, usage = self.chat(model, blocks)
        base = {"id": cid, "object": "chat.completion.chunk", "created": 1, "model": model}

        def chunk(delta, finish=None):
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        out = [chunk({"role": "assistant", "content": ""})]
        if text:
            out += [chunk({"content": w}) for w in _pieces(text)]
        for i, c in enumerate(calls):
            out.append(chunk({"tool_calls": [{"index": i, "id": c["id"], "type": "function",
                                              "function": {"name": c["function"]["name"], "arguments": ""}}]}))
            out += [chunk({"tool_calls": [{"index": i, "function": {"arguments": p}}]})
                    for p in _pieces(c["function"]["arguments"])]
        out.append(chunk({}, "tool_calls" if calls else "stop"))
        out.append({**base, "choices": [], "usage": usage})
        return out

    # -- Responses ---------------------------------------------------------------
    def response(self, model: str, blocks: list[dict]) -> dict:
        n = self.next_id()
        output = []
        for b in blocks:
            k = self.next_id()
            if "tool" in b:
                output.append({"type": "function_call", "id": f"fc_{k}", "call_id": f"call_{k}",
                               "name": b["tool"], "arguments": json.dumps(b.get("input", {})),
                               "status": "completed"})
            else:
                output.append({"type": "message", "id": f"msg_{k}", "role": "assistant", "status": "completed",
                               "content": [{"type": "output_text", "text": b["text"], "annotations": []}]})
        inp, out, cached = self.usage(n)
        return {"id": f"resp_{n}", "object": "response", "created_at": 1, "status": "completed", "model": model,
                "output": output, "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
                "usage": {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out,
                          "input_tokens_details": {"cached_tokens": cached},
                          "output_tokens_details": {"reasoning_tokens": 0}}}

    def response_events(self, model, blocks) -> list[tuple[str, dict]]:
        final = self.response(model, blocks)
        seq = itertools.count()
        ev = [("response.created", {"response": {**final, "status": "in_progress", "output": [],
                                                 "usage": None}})]
        for i, item in enumerate(final["output"]):
            if item["type"] == "function_call":
                ev.append(("response.output_item.added", {"output_index": i, "item": {**item, "arguments": ""}}))
                ev += [("response.function_call_arguments.delta", {"output_index": i, "item_id": item["id"],
                                                                   "delta": p})
                       for p in _pieces(item["arguments"])]
                ev.append(("response.function_call_arguments.done", {"output_index": i, "item_id": item["id"],
                                                                     "arguments": item["arguments"]}))
            else:
                text = item["content"][0]["text"]
                ev.append(("response.output_item.added", {"output_index": i,
                                                          "item": {**item, "content": [], "status": "in_progress"}}))
                ev.append(("response.content_part.added", {"output_index": i, "item_id": item["id"],
                                                           "content_index": 0,
                                                           "part": {"type": "output_text", "text": "",
                                                                    "annotations": []}}))
                ev += [("response.output_text.delta", {"output_index": i, "item_id": item["id"], "content_index": 0,
                                                       "delta": p, "logprobs": []}) for p in _pieces(text)]
                ev.append(("response.output_text.done", {"output_index": i, "item_id": item["id"],
                                                         "content_index": 0, "text": text, "logprobs": []}))
            ev.append(("response.output_item.done", {"output_index": i, "item": item}))
        ev.append(("response.completed", {"response": final}))
        return [(name, {"type": name, "sequence_number": next(seq), **data}) for name, data in ev]

    def _handler(self):
        stub = self

        class H(JsonHandler):

            def _stream(self, frames: list[str]):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for f in frames:
                    data = f.encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def do_GET(self):
                self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                path = self.path.split("?")[0]
                with stub._lock:
                    stub.requests.append({"path": path, "body": body})
                model = body.get("model") or MODEL
                if not path.endswith(("/chat/completions", "/responses")):
                    return self._json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
                blocks = stub.step(body)
                if path.endswith("/responses"):
                    if not body.get("stream"):
                        return self._json(200, stub.response(model, blocks))
                    return self._stream([f"event: {n}\ndata: {json.dumps(d)}\n\n"
                                         for n, d in stub.response_events(model, blocks)])
                if not body.get("stream"):
                    return self._json(200, stub.chat_body(model, blocks))
                frames = [f"data: {json.dumps(c)}\n\n" for c in stub.chat_chunks(model, blocks)]
                self._stream(frames + ["data: [DONE]\n\n"])

        return H


def _pieces(s: str) -> list[str]:
    """``s`` in two or three pieces, as a model streams it."""
    if len(s) < 4:
        return [s]
    k = len(s) // 3
    return [s[:k], s[k:2 * k], s[2 * k:]]
