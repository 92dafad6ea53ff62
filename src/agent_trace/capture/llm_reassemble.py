"""Streamed LLM responses (SSE) put back together, and usage normalised.

* Anthropic Messages: ``message_start`` / ``content_block_*`` (text, tool_use
  with ``input_json_delta`` fragments, thinking) / ``message_delta`` (stop
  reason, output usage).
* OpenAI Chat Completions: ``choices[].delta`` content and ``tool_calls``
  fragments merged by index; ``finish_reason``; the usage chunk.
* OpenAI Responses: the ``response.completed`` event carries the whole
  response; deltas are merged when it is missing (a cut stream).
"""

from __future__ import annotations

import json


def usage_anthropic(u) -> dict | None:
    if not isinstance(u, dict):
        return None
    out = {}
    for ours, theirs in (("input", "input_tokens"), ("output", "output_tokens"),
                         ("cache_read", "cache_read_input_tokens"), ("cache_write", "cache_creation_input_tokens")):
        v = u.get(theirs)
        if isinstance(v, int) and not isinstance(v, bool):
            out[ours] = v
    return out or None


def usage_openai(u) -> dict | None:
    """OpenAI counts cached prompt tokens inside the prompt total; we price them apart."""
    if not isinstance(u, dict):
        return None
    prompt = u.get("prompt_tokens", u.get("input_tokens"))
    completion = u.get("completion_tokens", u.get("output_tokens"))
    details = u.get("prompt_tokens_details") or u.get("input_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    out = {}
    if isinstance(prompt, int):
        out["input"] = prompt - (cached or 0)
    if isinstance(completion, int):
        out["output"] = completion
    if isinstance(cached, int) and cached:
        out["cache_read"] = cached
    return out or None


class AnthropicStream:
    def __init__(self):
        self.message: dict = {}
        self.blocks: dict[int, dict] = {}
        self.partial_json: dict[int, list[str]] = {}

    def feed(self, name: str, data: dict) -> None:
        t = data.get("type") or name
        if t == "message_start":
            self.message = dict(data.get("message") or {})
            self.message.setdefault("content", [])
        elif t == "content_block_start":
            i = data.get("index", len(self.blocks))
            self.blocks[i] = dict(data.get("content_block") or {})
        elif t == "content_block_delta":
            i = data.get("index", 0)
            b = self.blocks.setdefault(i, {"type": "text", "text": ""})
            d = data.get("delta") or {}
            dt = d.get("type")
            if dt == "text_delta":
                b["text"] = b.get("text", "") + d.get("text", "")
            elif dt == "input_json_delta":
                self.partial_json.setdefault(i, []).append(d.get("partial_json", ""))
            elif dt == "thinking_delta":
                b["thinking"] = b.get("thinking", "") + d.get("thinking", "")
            elif dt == "signature_delta":
                b["signature"] = d.get("signature")
            elif dt == "citations_delta":
                b.setdefault("citations", []).append(d.get("citation"))
        elif t == "message_delta":
            d = data.get("delta") or {}
            for k in ("stop_reason", "stop_sequence"):
                if k in d:
                    self.message[k] = d[k]
            if isinstance(data.get("usage"), dict):
                self.message["usage"] = {**(self.message.get("usage") or {}), **data["usage"]}
        elif t == "error":
            self.message["error"] = data.get("error")

    def result(self) -> dict:
        msg = dict(self.message)
        content = []
        for i in sorted(self.blocks):
            b = dict(self.blocks[i])
            if i in self.partial_json:
                raw = "".join(self.partial_json[i])
                try:
                    b["input"] = json.loads(raw) if raw else {}
                except ValueError:
                    b["input_raw"] = raw  # a cut stream: keep what arrived
            content.append(b)
        msg["content"] = content
        return msg


class OpenAIChatStream:
    def __init__(self):
        self.head: dict = {}
        self.choices: dict[int, dict] = {}
        self.usage = None

    def feed(self, name: str, data: dict) -> None:
        for k in ("id", "model", "created", "system_fingerprint", "service_tier", "object"):
            if k in data and k not in self.head:
                self.head[k] = data[k]
        if data.get("usage"):
            self.usage = data["usage"]
        for ch in data.get("choices") or []:
            i = ch.get("index", 0)
            c = self.choices.setdefault(i, {"index": i, "message": {"role": "assistant", "content": None},
                                            "finish_reason": None, "_tools": {}})
            d = ch.get("delta") or {}
            if d.get("role"):
                c["message"]["role"] = d["role"]
            if d.get("content") is not None:
                c["message"]["content"] = (c["message"]["content"] or "") + d["content"]
            if d.get("refusal"):
                c["message"]["refusal"] = (c["message"].get("refusal") or "") + d["refusal"]
            for tc in d.get("tool_calls") or []:
                ti = tc.get("index", 0)
                cur = c["_tools"].setdefault(ti, {"id": None, "type": "function",
                                                  "function": {"name": "", "arguments": ""}})
                if tc.get("id"):
                    cur["id"] = tc["id"]
                fn = tc.get("function") or {}
                if fn.get("name"):
                    cur["function"]["name"] += fn["name"]
                if fn.get("arguments"):
                    cur["function"]["arguments"] += fn["arguments"]
            if ch.get("finish_reason"):
                c["finish_reason"] = ch["finish_reason"]

    def result(self) -> dict:
        choices = []
        for i in sorted(self.choices):
            c = dict(self.choices[i])
            tools = c.pop("_tools")
            if tools:
                c["message"] = {**c["message"], "tool_calls": [tools[k] for k in sorted(tools)]}
            choices.append(c)
        out = {**self.head, "object": "chat.completion", "choices": choices}
        if self.usage is not None:
            out["usage"] = self.usage
        return out


class OpenAIResponsesStream:
    def __init__(self):
        self.final = None
        self.created = None
        self.text: list[str] = []

    def feed(self, name: str, data: dict) -> None:
        t = data.get("type") or name
        if t in ("response.completed", "response.failed", "response.incomplete"):
            self.final = data.get("response")
        elif t == "response.created":
            self.created = data.get("response")
        elif t == "response.output_text.delta":
            self.text.append(data.get("delta", ""))

    def result(self) -> dict:
        if self.final is not None:
            return self.final
        partial = dict(self.created or {})
        partial["output_text"] = "".join(self.text)
        partial["status"] = "incomplete (stream cut)"
        return partial


def stream_for(api: str):
    if api == "anthropic.messages":
        return AnthropicStream()
    if api == "openai.responses":
        return OpenAIResponsesStream()
    return OpenAIChatStream()


def summarize_message(api: str, msg: dict) -> tuple[str | None, dict | None, str | None, str | None]:
    """(model, usage, stop reason, message id) of a complete response body."""
    if not isinstance(msg, dict):
        return None, None, None, None
    if api.startswith("anthropic"):
        return msg.get("model"), usage_anthropic(msg.get("usage")), msg.get("stop_reason"), msg.get("id")
    reason = None
    choices = msg.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        reason = choices[0].get("finish_reason")
    elif msg.get("status"):
        reason = msg.get("status")
    return msg.get("model"), usage_openai(msg.get("usage")), reason, msg.get("id")
