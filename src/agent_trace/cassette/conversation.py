"""What an agent decided, in an LLM request: the ``conversation`` matcher.

Between two runs of the same agent on the same task, a request changes in
places that say nothing about the agent's decisions: the system prompt
(today's date, the environment block, a new agent version's wording), the
tool list (order, schemas, new tools), message ids, ``cache_control``
placement, metadata, the model chosen.  The conversation view keeps only:

* the user's text (``<system-reminder>`` inserts removed: the harness writes
  them, not the user), in order;
* each tool call the model made (name and input) and each tool result the
  agent sent back (content and error flag), calls and results paired by their
  position rather than their ids;
* the assistant's text, as it was answered;
* whether tools were offered at all (a title or summary request offers none).

Anthropic Messages, OpenAI Chat Completions and Responses bodies are read;
any other body is compared whole (less ``metadata``).  :func:`explain`
says which of the dropped parts differ, for the notes and errors of replay.
"""

from __future__ import annotations

import json
import re

_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.S)
# request fields that are not the conversation, as a person would name them
DRIFT_NAMES = {"system": "system prompt", "instructions": "system prompt", "tools": "tool list",
               "model": "model", "metadata": "metadata", "max_tokens": "max_tokens", "thinking": "thinking",
               "tool_choice": "tool_choice", "temperature": "temperature", "stream": "stream"}


def _text(s: str) -> str | None:
    s = _REMINDER.sub("", s).strip()
    return s or None


class _Ids:
    def __init__(self):
        self.ids: dict = {}

    def __call__(self, raw) -> str:
        key = str(raw)
        if key not in self.ids:
            self.ids[key] = f"call{len(self.ids) + 1}"
        return self.ids[key]


def _result_content(c):
    if isinstance(c, str):
        return _text(c) or ""
    if isinstance(c, list):
        parts = []
        for b in c:
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str):
                t = _text(b["text"])
                if t:
                    parts.append(t)
            elif isinstance(b, dict):
                parts.append({k: v for k, v in b.items() if k != "cache_control"})
        if all(isinstance(p, str) for p in parts):
            return "\n".join(parts)
        return parts
    return c


def _args(raw):
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _anthropic_block(role: str | None, b, ids: _Ids, out: list) -> None:
    if isinstance(b, str):
        t = _text(b)
        if t:
            out.append({"role": role, "text": t})
        return
    if not isinstance(b, dict):
        return
    t = b.get("type")
    if t == "text":
        text = _text(b.get("text") or "")
        if text:
            out.append({"role": role, "text": text})
    elif t in ("tool_use", "server_tool_use"):
        out.append({"tool_use": b.get("name"), "input": b.get("input"), "call": ids(b.get("id"))})
    elif t == "tool_result":
        out.append({"tool_result": ids(b.get("tool_use_id")), "content": _result_content(b.get("content")),
                    "is_error": bool(b.get("is_error"))})
    elif t in ("thinking", "redacted_thinking"):
        return
    else:
        out.append({"role": role, "block": {k: v for k, v in b.items() if k not in ("cache_control", "id")}})


def _messages(msgs: list, ids: _Ids) -> list:
    out: list = []
    for m in msgs:
        if not isinstance(m, dict):
            continue
        role = m.get("role")
        if role in ("system", "developer"):
            continue
        if m.get("type") == "function_call":  # Responses input items
            out.append({"tool_use": m.get("name"), "input": _args(m.get("arguments")), "call": ids(m.get("call_id"))})
            continue
        if m.get("type") == "function_call_output":
            out.append({"tool_result": ids(m.get("call_id")), "content": _result_content(m.get("output")),
                        "is_error": False})
            continue
        if role == "tool":  # OpenAI chat tool result
            out.append({"tool_result": ids(m.get("tool_call_id")), "content": _result_content(m.get("content")),
                        "is_error": False})
            continue
        c = m.get("content")
        if isinstance(c, list):
            for b in c:
                if isinstance(b, dict) and b.get("type") in ("input_text", "output_text"):
                    b = {"type": "text", "text": b.get("text") or ""}
                _anthropic_block(role, b, ids, out)
        elif c is not None:
            _anthropic_block(role, c, ids, out)
        for tc in m["tool_calls"] if isinstance(m.get("tool_calls"), list) else ():
            fn = tc.get("function") if isinstance(tc, dict) else None
            if isinstance(fn, dict):
                out.append({"tool_use": fn.get("name"), "input": _args(fn.get("arguments")), "call": ids(tc.get("id"))})
    return out


def conversation(body):
    """The conversation view of a request body (see the module docstring)."""
    if not isinstance(body, dict):
        return body
    msgs = body.get("messages") if isinstance(body.get("messages"), list) else body.get("input")
    if isinstance(msgs, str):
        msgs = [{"role": "user", "content": msgs}]
    if not isinstance(msgs, list):
        return {k: v for k, v in body.items() if k != "metadata"}
    return {"tools": bool(body.get("tools")), "turns": _messages(msgs, _Ids())}


def latest_user_text(body) -> str:
    """The last thing the user typed in a request (for ``prompt:`` fork points)."""
    view = conversation(body)
    turns = view.get("turns") if isinstance(view, dict) else None
    for item in reversed(turns or []):
        if "tool_result" in item:
            return ""
        if item.get("role") == "user" and "text" in item:
            return item["text"]
    return ""


def drift(recorded, live) -> list[str]:
    """The parts outside the conversation that differ, named for a person."""
    if not isinstance(recorded, dict) or not isinstance(live, dict):
        return []
    names = []
    for k in list(recorded) + [k for k in live if k not in recorded]:
        if k == "metadata":  # a session id: always differs, never matched
            continue
        if k in ("messages", "input"):
            if _system_messages(recorded.get(k)) != _system_messages(live.get(k)):
                names.append("system prompt")
            continue
        if recorded.get(k) != live.get(k):
            if k == "tools" and _tool_names(recorded.get(k)) == _tool_names(live.get(k)):
                names.append("tool list (order or schemas)")
            elif k == "model":
                names.append(f"model {recorded.get(k)} -> {live.get(k)}")
            else:
                names.append(DRIFT_NAMES.get(k, k))
    out = []
    for n in names:
        if n not in out:
            out.append(n)
    return out


def _system_messages(msgs):
    if not isinstance(msgs, list):
        return None
    return [m.get("content") for m in msgs if isinstance(m, dict) and m.get("role") in ("system", "developer")]


def _tool_names(tools):
    if not isinstance(tools, list):
        return None
    return sorted(str(t.get("name") or (t.get("function") or {}).get("name")) for t in tools if isinstance(t, dict))


def describe(path: str, view: dict) -> str:
    """``turns.3`` -> ``turns.3 (tool_result of call2)``: what a place in the
    view is, for an error message."""
    m = re.match(r"turns\.(\d+)", path)
    turns = view.get("turns") if isinstance(view, dict) else None
    if not m or not isinstance(turns, list) or int(m.group(1)) >= len(turns):
        return path
    item = turns[int(m.group(1))]
    if "tool_use" in item:
        what = f"tool call {item['tool_use']}"
    elif "tool_result" in item:
        name = next((t.get("tool_use") for t in turns if t.get("call") == item["tool_result"]), None)
        what = f"tool result of {name or 'a call'} ({item['tool_result']})"
    elif "text" in item:
        what = f"{item.get('role')} text"
    else:
        what = f"{item.get('role')} block"
    return f"{path} ({what})"
