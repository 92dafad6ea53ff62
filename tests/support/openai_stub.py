"""A scripted OpenAI-compatible API (chat completions, responses, embeddings)
for offline tests, with hostile modes: slow drip, abrupt close, errors, gzip.

``mode`` (per server, or per request via the ``x-stub-mode`` header):
``normal``, ``drip`` (SSE events 50 ms apart), ``cut`` (close mid-stream),
``error500``, ``gzip`` (gzip-compressed bodies and streams)."""

from __future__ import annotations

import gzip
import json
import time
import zlib

from .processes import JsonHandler, LocalServer

USAGE = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150,
         "prompt_tokens_details": {"cached_tokens": 20}}


def chat_chunks(model: str, text: str, with_tool: bool):
    base = {"id": "chatcmpl-stub1", "object": "chat.completion.chunk", "created": 1, "model": model}
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    for word in text.split(" "):
        yield {**base, "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
    if with_tool:
        yield {**base, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]},
            "finish_reason": None}]}
        for part in ('{"city"', ': "Par', 'is"}'):
            yield {**base, "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": part}}]}, "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls" if with_tool else "stop"}]}
    yield {**base, "choices": [], "usage": USAGE}


def chat_message(model: str, text: str, with_tool: bool) -> dict:
    msg = {"role": "assistant", "content": text + " "}
    if with_tool:
        msg["tool_calls"] = [{"id": "call_1", "type": "function",
                              "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]
    return {"id": "chatcmpl-stub1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": msg, "finish_reason": "tool_calls" if with_tool else "stop"}],
            "usage": USAGE}


def response_obj(model: str, text: str) -> dict:
    return {"id": "resp_stub1", "object": "response", "created_at": 1, "status": "completed", "model": model,
            "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": text, "annotations": []}]}],
            "usage": {"input_tokens": 50, "output_tokens": 10, "total_tokens": 60,
                      "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}}


class OpenAIStub(LocalServer):
    base = "/v1"

    def __init__(self, text: str = "Hello from the scripted model", mode: str = "normal"):
        self.text = text
        self.mode = mode
        self.requests: list[dict] = []
        self.sent: list[bytes] = []  # every byte the stub wrote, per request
        self._start_server()

    def _handler(self):
        stub = self

        class H(JsonHandler):
            def _send(self, code, body: bytes, ctype="application/json", gz=False):
                if gz:
                    body = gzip.compress(body)
                self.send_response(code)
                self.send_header("content-type", ctype)
                self.send_header("x-request-id", "req_stub")
                if gz:
                    self.send_header("content-encoding", "gzip")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                stub.sent.append(body)

            def do_GET(self):
                models = {"object": "list", "data": [{"id": "gpt-stub", "object": "model"}]}
                self._send(200, json.dumps(models).encode())

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                mode = self.headers.get("x-stub-mode") or stub.mode
                stub.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                model = body.get("model", "gpt-stub")
                gz = mode == "gzip"
                if mode == "error500":
                    return self._send(500, json.dumps({"error": {"message": "upstream exploded",
                                                                 "type": "server_error"}}).encode())
                path = self.path.split("?")[0]
                if path.endswith("/embeddings"):
                    return self._send(200, json.dumps({"object": "list", "model": model, "data": [
                        {"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
                        "usage": {"prompt_tokens": 5, "total_tokens": 5}}).encode(), gz=gz)
                with_tool = bool(body.get("tools"))
                if path.endswith("/responses"):
                    obj = response_obj(model, stub.text)
                    if not body.get("stream"):
                        return self._send(200, json.dumps(obj).encode(), gz=gz)
                    events = [("response.created", {"type": "response.created", "sequence_number": 0,
                                                    "response": {**obj, "status": "in_progress", "output": []}})]
                    events += [("response.output_text.delta", {"type": "response.output_text.delta",
                                                               "sequence_number": i + 1, "item_id": "msg_1",
                                                               "output_index": 0, "content_index": 0,
                                                               "delta": w + " ", "logprobs": []})
                               for i, w in enumerate(stub.text.split(" "))]
                    events.append(("response.completed", {"type": "response.completed", "sequence_number": 99,
                                                          "response": obj}))
                    return self._stream([f"event: {n}\ndata: {json.dumps(d)}\n\n" for n, d in events], mode)
                if not body.get("stream"):
                    return self._send(200, json.dumps(chat_message(model, stub.text, with_tool)).encode(), gz=gz)
                chunks = [f"data: {json.dumps(c)}\n\n" for c in chat_chunks(model, stub.text, with_tool)]
                chunks.append("data: [DONE]\n\n")
                self._stream(chunks, mode)

            def _stream(self, chunks, mode):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("x-request-id", "req_stub_stream")
                self.send_header("transfer-encoding", "chunked")
                comp = None
                if mode == "gzip":
                    self.send_header("content-encoding", "gzip")
                    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                self.end_headers()
                sent = b""
                for i, c in enumerate(chunks):
                    data = c.encode()
                    if comp is not None:
                        data = comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
                    if mode == "cut" and i == len(chunks) // 2:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                        sent += data
                        stub.sent.append(sent)
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                    sent += data
                    if mode == "drip":
                        time.sleep(0.05)
                if comp is not None:
                    tail = comp.flush()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(tail), tail))
                    sent += tail
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                stub.sent.append(sent)

        return H
