"""A cassette read back as a session's events, so every reader (the shared
summary, ``compare``, the PR report's baseline) can use a recorded run.

* an LLM call (``http`` entry) -> ``llm.response`` with its model and usage
  (stream or not), and a ``tool.call`` for each tool the model asked for;
* the tool results the agent sent back (the next request's ``tool_result``
  blocks; ``is_error`` marks a failure) -> ``tool.result`` / ``tool.error``;
* a traced function (``function`` entry) -> ``tool.call`` and its result.
"""

from __future__ import annotations

import json
import os

from .. import event as ev
from ..capture import llm_reassemble as ra
from ..capture.llm_wire import api_kind
from . import format as fmt

SOURCE = "cassette"


def response_message(entry: dict) -> tuple[str, dict | None]:
    """(api kind, the complete response body) of an ``http`` entry."""
    resp = entry.get("response") or {}
    api = api_kind((entry.get("request") or {}).get("path") or "") or ""
    msg = None
    if "body" in resp:
        msg = fmt.body_value(resp["body"])
    elif "stream" in resp:
        from ..proxy.sse import SSEParser

        parser, stream = SSEParser(), ra.stream_for(api or "openai.chat")
        for chunk in resp["stream"]:
            for sse in parser.feed(fmt.decode_chunk(chunk)):
                if sse["data"] and sse["data"] != "[DONE]":
                    try:
                        stream.feed(sse["event"], json.loads(sse["data"]))
                    except ValueError:
                        continue
        msg = stream.result()
    return api, msg if isinstance(msg, dict) else None


def tool_uses(api: str, msg: dict) -> list[tuple[str, str, dict]]:
    """(call id, tool name, input) for each tool the model asked for."""
    out = []
    if api.startswith("anthropic"):
        for b in msg.get("content") or ():
            if isinstance(b, dict) and b.get("type") == "tool_use":
                out.append((str(b.get("id") or ""), str(b.get("name") or "?"), b.get("input") or {}))
    elif api == "openai.responses":
        for item in msg.get("output") or ():
            if isinstance(item, dict) and item.get("type") == "function_call":
                out.append((str(item.get("call_id") or ""), str(item.get("name") or "?"), _args(item.get("arguments"))))
    else:
        choices = msg.get("choices") or []
        m = choices[0].get("message") if choices and isinstance(choices[0], dict) else None
        for c in (m or {}).get("tool_calls") or ():
            f = c.get("function") if isinstance(c, dict) else None
            if isinstance(f, dict):
                out.append((str(c.get("id") or ""), str(f.get("name") or "?"), _args(f.get("arguments"))))
    return out


def _args(raw):
    if isinstance(raw, dict):
        return raw
    try:
        v = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        v = None
    return v if isinstance(v, dict) else {"arguments": raw}


def _tool_results(body) -> dict[str, bool]:
    """tool call id -> failed, from the ``tool_result`` blocks of a request."""
    out: dict[str, bool] = {}
    if not isinstance(body, dict):
        return out
    for m in body.get("messages") or ():
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, list):
            for b in content:
                if isinstance(b, dict) and b.get("type") == "tool_result" and b.get("tool_use_id"):
                    out[str(b["tool_use_id"])] = bool(b.get("is_error"))
        if isinstance(m, dict) and m.get("role") == "tool" and m.get("tool_call_id"):
            out[str(m["tool_call_id"])] = False
    return out


def events(path: str) -> list[dict]:
    """The cassette at ``path`` as events of one session named after the file."""
    session = "cassette:" + os.path.basename(path)
    out: list[dict] = []
    open_calls: dict[str, dict] = {}
    for entry in fmt.load(path):
        kind = entry.get("kind")
        if kind == "http":
            body = fmt.body_value((entry.get("request") or {}).get("body"))
            for cid, failed in _tool_results(body).items():
                call = open_calls.pop(cid, None)
                if call is not None:
                    out.append(ev.make_event(ev.TOOL_ERROR if failed else ev.TOOL_RESULT, session, SOURCE,
                                             tool=call["tool"], tool_use_id=cid,
                                             status=ev.ERROR if failed else ev.OK,
                                             error={"message": "tool failed"} if failed else None))
            api, msg = response_message(entry)
            if msg is None or not api or api in ("models", "anthropic.count_tokens"):
                continue
            model, usage, stop, _ = ra.summarize_message(api, msg)
            out.append(ev.make_event(ev.LLM_RESPONSE, session, SOURCE, model=model, usage=usage,
                                     data={"stop_reason": stop}))
            for cid, name, inp in tool_uses(api, msg):
                call = ev.make_event(ev.TOOL_CALL, session, SOURCE, tool=name, tool_use_id=cid or None,
                                     data={"tool_input": inp})
                out.append(call)
                if cid:
                    open_calls[cid] = call
        elif kind == "function":
            req, resp = entry.get("request") or {}, entry.get("response") or {}
            name = str(req.get("name") or "?")
            out.append(ev.make_event(ev.TOOL_CALL, session, SOURCE, tool=name,
                                     data={"tool_input": req.get("arguments")}))
            failed = "exception" in resp
            out.append(ev.make_event(ev.TOOL_ERROR if failed else ev.TOOL_RESULT, session, SOURCE, tool=name,
                                     status=ev.ERROR if failed else ev.OK,
                                     error=resp.get("exception") if failed else None))
    return out
