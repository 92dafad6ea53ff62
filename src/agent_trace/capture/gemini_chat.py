"""Gemini CLI chat logs -> events (``~/.gemini/tmp/<project>/chats/session-*.jsonl``,
the ``transcript_path`` of every Gemini CLI hook payload).

The log is one JSON record per line: a metadata record (``sessionId``,
``kind``), messages (``{"id", "type": user|gemini|info|error|warning,
"content", "tokens", "model", "toolCalls"}``), ``{"$set": {...}}`` updates
(a ``messages`` list is a checkpoint) and ``{"$rewindTo": id}``.  Gemini
writes a model message once when it arrives and again, with the same id,
when its tool calls have run: usage is taken from the first copy, tool calls
from the copy where they are finished.  What becomes an event (contract in
:mod:`.agent_log`):

==========================================  ======================================
chat log                                     event (id key)
==========================================  ======================================
metadata record                              ``session.start``
``user`` message with text                   ``user.prompt`` (message id)
``gemini`` message with ``tokens``           ``llm.response`` (message id), with the
                                             cached tokens hook payloads drop
``gemini`` message with text                 ``assistant.message`` (message id)
a finished ``toolCalls`` entry               ``tool.call`` + ``tool.result`` or
                                             ``tool.error`` (``NAME#N``: the N-th
                                             call of that tool in the session,
                                             the key the hooks use, since Gemini's
                                             hook payloads carry no call id)
``$set`` of ``sessionId`` mid-log            ``context.compact`` (Gemini restarts
                                             its chat on the same file after it
                                             compressed the history)
``error`` message                            ``notification`` with status error
==========================================  ======================================

Usage: Gemini's ``promptTokenCount`` includes cached tokens and excludes
thought and tool-prompt tokens; ``input`` = prompt - cached + tool prompt,
``output`` = candidates + thoughts, ``cache_read`` = cached.
"""

from __future__ import annotations

from .. import event as ev
from .agent_log import ParsedLog, iso, num, records, text_of
from .transcript import CHUNK_BYTES

SOURCE = "gemini"
DONE = ("success", "error", "cancelled")


def parse_log(path: str, start: int = 0, *, final: bool = False, limit: int = CHUNK_BYTES) -> ParsedLog:
    """Events from byte ``start`` (contract in :mod:`.agent_log`); at most
    about ``limit`` bytes are read (memory stays flat), ``.end`` says where
    to go on."""
    st = _State()
    if start:
        # the part before ``start`` again, events dropped: call numbering and
        # the messages already turned into events go on where they were
        _parse(path, 0, st, ParsedLog(), stop_at=start)
    out = ParsedLog(start)
    _parse(path, start, st, out, limit=limit)
    out.session, out.cwd = st.session, st.cwd
    return out


def _parse(path: str, start: int, st: "_State", out: ParsedLog, stop_at: int | None = None,
           limit: int | None = None) -> None:
    for offset, rec in records(path, start, out):
        if stop_at is not None:
            if out.end > stop_at:
                break
            out.events.clear()  # only the state is wanted: memory stays flat
        elif limit is not None and offset - start >= limit:
            out.end = offset  # this record is the next parse's first
            break
        if "$set" in rec:
            upd = rec["$set"]
            if not isinstance(upd, dict):
                out.skipped += 1
                continue
            msgs = upd.get("messages")
            if isinstance(msgs, list):
                for m in msgs:
                    if isinstance(m, dict):
                        _message(st, out, m)
            if "sessionId" in upd and st.messages_seen:
                st.event(out, ev.COMPACT, iso(upd.get("lastUpdated")), "context.compact",
                         f"restart:{st.messages_seen}", name="ChatCompressed", data=upd)
        elif "$rewindTo" in rec:
            continue
        elif "type" in rec and "id" in rec:
            _message(st, out, rec)
        elif "sessionId" in rec:
            _metadata(st, out, rec)
        else:
            out.skipped += 1


class _State:
    def __init__(self):
        self.session: str | None = None
        self.cwd: str | None = None
        self.kind: str | None = None
        self.messages_seen = 0
        self.seen: set[tuple[str, str]] = set()  # message ids already turned into events (per part)
        self.calls: dict[str, str] = {}  # toolCall id -> its NAME#N key
        self.per_tool: dict[str, int] = {}

    def event(self, out: ParsedLog, etype: str, ts, kind: str | None, key: str | None, **fields):
        session = self.session or "unknown-session"
        if kind and key:
            fields["id"] = ev.derived_id(session, kind, key)
        out.events.append(ev.make_event(etype, session, SOURCE, ts=ts, **fields))

    def call_key(self, call: dict) -> str | None:
        cid, name = call.get("id"), call.get("name")
        if not isinstance(name, str):
            return None
        if isinstance(cid, str) and cid in self.calls:
            return self.calls[cid]
        n = self.per_tool.get(name, 0) + 1
        self.per_tool[name] = n
        key = call_key(name, n)
        if isinstance(cid, str):
            self.calls[cid] = key
        return key


def call_key(tool: str, n: int) -> str:
    """The id key of the ``n``-th call of ``tool`` in a Gemini session (hooks
    and this parser derive the same ``tool.call`` / ``tool.result`` ids)."""
    return f"{tool}#{n}"


def _metadata(st: _State, out: ParsedLog, rec: dict) -> None:
    first = st.session is None
    if isinstance(rec.get("sessionId"), str):
        st.session = rec["sessionId"]
    if isinstance(rec.get("kind"), str):
        st.kind = rec["kind"]
    if first:
        st.event(out, ev.SESSION_START, iso(rec.get("startTime")), "session.start", "chat-log",
                 name="chat-log", data=rec)


def _message(st: _State, out: ParsedLog, m: dict) -> None:
    mid, mtype = m.get("id"), m.get("type")
    if not isinstance(mid, str) or not isinstance(mtype, str):
        out.skipped += 1
        return
    st.messages_seen += 1
    ts = iso(m.get("timestamp"))
    content = m.get("content")
    if mtype == "user":
        text = text_of(content)
        if text and not text.startswith("<session_context>") and ("prompt", mid) not in st.seen:
            st.seen.add(("prompt", mid))
            st.event(out, ev.USER_PROMPT, ts, "user.prompt", mid, name="user", data={"prompt": text, "id": mid})
        return
    if mtype == "error":
        if ("error", mid) not in st.seen:
            st.seen.add(("error", mid))
            st.event(out, ev.NOTIFICATION, ts, "notification", mid, name="error", status=ev.ERROR,
                     error={"message": text_of(content) or "error"}, data=m)
        return
    if mtype != "gemini":
        return
    tokens = m.get("tokens")
    if isinstance(tokens, dict) and ("llm", mid) not in st.seen:
        st.seen.add(("llm", mid))
        st.event(out, ev.LLM_RESPONSE, ts, "llm.response", mid, name="chat-log", model=_str(m.get("model")),
                 usage=usage(tokens), status=ev.OK, data={"message_id": mid, "tokens": tokens})
    text = text_of(content)
    if text and ("text", mid) not in st.seen:
        st.seen.add(("text", mid))
        st.event(out, ev.ASSISTANT_MESSAGE, ts, "assistant.message", mid, name="gemini",
                 data={"text": text, "thoughts": m.get("thoughts")})
    calls = m.get("toolCalls")
    for call in calls if isinstance(calls, list) else ():
        if not isinstance(call, dict) or call.get("status") not in DONE:
            continue
        cid = call.get("id") if isinstance(call.get("id"), str) else None
        if cid and ("call", cid) in st.seen:
            continue
        key = st.call_key(call)
        if key is None:
            out.skipped += 1
            continue
        if cid:
            st.seen.add(("call", cid))
        _tool(st, out, call, key, ts)


def _tool(st: _State, out: ParsedLog, call: dict, key: str, ts) -> None:
    name = call["name"]
    st.event(out, ev.TOOL_CALL, ts, "tool.call", key, name="BeforeTool", tool=name, tool_use_id=key,
             data={"tool_input": call.get("args"), "call_id": call.get("id")})
    failed, message = tool_failed(call)
    fields = {"name": "AfterTool", "tool": name, "tool_use_id": key,
              "data": {"tool_response": call.get("result"), "result_display": call.get("resultDisplay"),
                       "status": call.get("status"), "call_id": call.get("id")}}
    done_ts = iso(call.get("timestamp")) or ts
    if failed:
        st.event(out, ev.TOOL_ERROR, done_ts, "tool.result", key, status=ev.ERROR, error={"message": message},
                 **fields)
    else:
        st.event(out, ev.TOOL_RESULT, done_ts, "tool.result", key, status=ev.OK, **fields)


def tool_failed(call: dict) -> tuple[bool, str | None]:
    if call.get("status") in ("error", "cancelled"):
        return True, _response_text(call.get("result")) or str(call.get("status"))
    text = _response_text(call.get("result"))
    code = shell_exit_code(text) if call.get("name") == "run_shell_command" else None
    if code:
        return True, f"exit code {code}"
    return False, None


def _response_text(result) -> str | None:
    for part in result if isinstance(result, list) else ():
        fr = part.get("functionResponse") if isinstance(part, dict) else None
        resp = fr.get("response") if isinstance(fr, dict) else None
        if isinstance(resp, dict):
            for k in ("output", "error"):
                if isinstance(resp.get(k), str):
                    return resp[k]
    return None


def _str(v) -> str | None:
    return v if isinstance(v, str) else None


def shell_exit_code(text) -> int | None:
    """The ``Exit Code: N`` line run_shell_command adds for a failed command."""
    if not isinstance(text, str):
        return None
    at = text.rfind("\nExit Code: ")
    if at == -1:
        return None
    digits = text[at + 12:].split("\n", 1)[0].strip()
    try:
        return int(digits)
    except ValueError:
        return None


def usage(t: dict) -> dict | None:
    inp, cached = num(t, "input"), num(t, "cached") or 0
    out = num(t, "output")
    return ev.usage(input=max(0, inp - cached) + (num(t, "tool") or 0) if inp is not None else None,
                    output=(out or 0) + (num(t, "thoughts") or 0) if out is not None else None,
                    cache_read=cached or None)
