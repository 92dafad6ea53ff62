"""A scripted Gemini API (``generateContent`` and ``streamGenerateContent?alt=sse``)
for Gemini CLI.

Scenarios and steps as in :mod:`support.scripted`; a tool block becomes a
``functionCall`` part.  Text is streamed in several chunks (Gemini CLI fires
AfterModel per chunk); the last chunk carries the finish reason and
``usageMetadata`` with cached tokens (``self.usage``).  Requests no scenario
matches (routing, next-speaker checks, summaries) get a short JSON-ish text.
"""

from __future__ import annotations

import json
import threading

from .processes import JsonHandler, LocalServer
from .scripted import find_scenario, pick_step


def user_text(contents) -> str:
    out = []
    for c in contents or []:
        if isinstance(c, dict) and c.get("role", "user") == "user":
            out += [p.get("text", "") for p in c.get("parts") or [] if isinstance(p, dict)]
    return "\n".join(out)


class GeminiStub(LocalServer):
    def __init__(self, scenarios: dict, usage: dict | None = None, chunks: int = 3):
        self.scenarios = scenarios
        self.chunks = chunks
        self.usage = usage or {"promptTokenCount": 1500, "candidatesTokenCount": 60,
                               "cachedContentTokenCount": 400, "thoughtsTokenCount": 0,
                               "totalTokenCount": 1560}
        self.requests: list[dict] = []
        self.scripted_calls = 0  # answers that came from a scenario (real model turns)
        self._lock = threading.Lock()
        self._start_server()

    def parts_for(self, body: dict) -> list[dict]:
        contents = body.get("contents") or []
        steps = find_scenario(self.scenarios, user_text(contents))
        if steps is None:
            return [{"text": '{"reasoning": "stub", "next_speaker": "user"}'}]
        with self._lock:
            self.scripted_calls += 1
        answered = sum(1 for c in contents for p in (c.get("parts") or [])
                       if isinstance(p, dict) and "functionResponse" in p)
        out = []
        for b in pick_step(steps, answered):
            if "tool" in b:
                out.append({"functionCall": {"name": b["tool"], "args": b.get("input", {})}})
            else:
                out.append({"text": b["text"]})
        return out

    def _handler(self):
        stub = self

        class H(JsonHandler):

            def do_GET(self):
                self._json(200, {"models": []})

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                path, _, query = self.path.partition("?")
                with stub._lock:
                    stub.requests.append({"path": path, "body": body})
                if path.endswith(":countTokens"):
                    return self._json(200, {"totalTokens": 100})
                if not (path.endswith(":generateContent") or path.endswith(":streamGenerateContent")):
                    return self._json(404, {"error": {"code": 404, "message": path, "status": "NOT_FOUND"}})
                parts = stub.parts_for(body)
                model = path.rsplit("/", 1)[-1].split(":")[0]
                final = {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP",
                                         "index": 0}], "usageMetadata": stub.usage, "modelVersion": model,
                         "responseId": f"gemresp{len(stub.requests)}"}
                if path.endswith(":generateContent"):
                    return self._json(200, final)
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for chunk in _chunks(parts, stub.chunks, final):
                    data = f"data: {json.dumps(chunk)}\r\n\r\n".encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return H


def _chunks(parts: list[dict], n: int, final: dict):
    """Text split into ``n`` streamed pieces; calls and usage in the last one."""
    text = "".join(p["text"] for p in parts if "text" in p)
    calls = [p for p in parts if "text" not in p]
    pieces = [text[i * len(text) // n:(i + 1) * len(text) // n] for i in range(n)] if text else []
    for piece in pieces[:-1]:
        yield {"candidates": [{"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}],
               "modelVersion": final["modelVersion"], "responseId": final["responseId"]}
    last_parts = ([{"text": pieces[-1]}] if pieces else []) + calls
    yield {**final, "candidates": [{**final["candidates"][0], "content": {"role": "model", "parts": last_parts}}]}
