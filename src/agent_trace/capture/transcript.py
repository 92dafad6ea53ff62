"""Claude Code transcripts -> whole sessions as events.

Claude Code writes every session to
``~/.claude/projects/<project>/<session>.jsonl`` (subagents under
``<session>/subagents/agent-<id>.jsonl``).  :func:`parse_log` turns a byte
range of one such file into the events the hooks would have recorded, plus
what hooks never see:

==========================  =================================================
transcript entry            event (id)
==========================  =================================================
first entry (main file)     ``session.start`` (derived from the session)
end of a final parse        ``session.end`` (the same)
user prompt                 ``user.prompt`` (``derived_id(.., promptId)``)
assistant message           one ``llm.response`` per API message, its blocks
                            merged (``llm_event_id(session, message id)``);
                            usage counted once (Claude repeats it per block)
``tool_use`` block          ``tool.call`` (``derived_id(.., tool_use_id)``)
``tool_result`` block       ``tool.result`` / ``tool.error`` (same key)
end of a turn               ``turn.end`` (``derived_id(.., promptId)``)
subagent file               ``subagent.start`` / ``subagent.stop`` (agent id)
compaction                  ``context.compact`` (derived from the entry uuid)
==========================  =================================================

The ids are the ones the hooks derive for the same happenings
(``docs/event-schema.md``, "Ids"), so importing a session the hooks already
recorded adds only what they could not see.

Parsing resumes from any byte offset with the ``state`` the previous parse
returned; an API message still being written is held back until it is
complete (or the parse is final).  Importing into a store (cursors, ids
already present) is :mod:`agent_trace.capture.log_import`.

Imported on the hook path (Stop, and PreToolUse when a budget rule is
active): standard library, no json, re, glob or datetime at import time.
"""

from __future__ import annotations

import os

from .. import event as ev
from ..event.fastjson import loads
from ..store.regular import open_regular

SOURCE = "claude-code"
NAME = "transcript"  # the ``name`` of every imported event

# Entry types Claude Code writes that carry nothing we map (context it
# injected, request bookkeeping, UI state).  They are skipped silently;
# any other type is counted as unknown and named once on stderr.
IGNORED_TYPES = frozenset({
    "attachment", "queue-operation", "atis-latch", "api-request-shape", "api-request-blob",
    "api-request", "tools-used", "last-prompt", "cost-state", "file-history-snapshot",
    "summary", "custom-title", "tag", "progress", "agent-name", "mode", "pr-link",
})
_PREFIX_SKIP = tuple(b'{"type":"' + t.encode() + b'"' for t in IGNORED_TYPES)
_MAPPED = (b'"type":"user"', b'"type":"assistant"', b'"type":"system"')
_ENDS_TURN = ("end_turn", "stop_sequence")
MAX_OPEN_CALLS = 2000  # tool names remembered for results in a later chunk
CHUNK_BYTES = 32 << 20  # one parse reads at most this much (memory stays flat)
# The longest line parsed.  A line records one API message or tool result and
# the API refuses requests over 32 MB (a screenshot is a few MB of base64), so
# a longer line is not Claude's: it is skipped (counted corrupt) without ever
# being held whole, and memory stays flat.
MAX_LINE = 32 << 20
MAX_META = 1 << 20  # a subagent's .meta.json is a few hundred bytes
MAX_UNKNOWN_TYPES = 20  # named per parse; more are counted under one name


def llm_event_id(session: str, message_id: str) -> str:
    import hashlib

    return hashlib.sha256(f"{session}\0{message_id}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


TS_MIN, TS_END = "1971", "9999"  # the years norm_ts keeps: TS_MIN <= ts < TS_END


def norm_ts(ts) -> str | None:
    """Claude's ``2026-11-21T19:02:19.308Z`` -> the store's microsecond form.

    Only years 1971 to 9998 are kept (else ``None``, as if missing): a clock
    at zero or at the end of time is no real one, and a report shifting it by
    a time zone would leave the years a date can hold."""
    if not isinstance(ts, str):
        return None
    if len(ts) == 24 and ts[19] == "." and ts[23] == "Z" and ts[10] == "T":
        return ts[:23] + "000Z" if TS_MIN <= ts < TS_END else None
    if len(ts) == 27 and ts[19] == "." and ts[26] == "Z":
        return ts if TS_MIN <= ts < TS_END else None
    from ..event.timefmt import parse_iso

    try:
        ts = ev.now_iso(parse_iso(ts))
    except (ValueError, OverflowError, OSError):
        return None
    return ts if TS_MIN <= ts < TS_END else None


def _num(u: dict, k: str):
    v = u.get(k)
    return v if ev.is_token_count(v) else None


def usage_of(u) -> dict | None:
    if not isinstance(u, dict):
        return None
    return ev.usage(input=_num(u, "input_tokens"), output=_num(u, "output_tokens"),
                    cache_read=_num(u, "cache_read_input_tokens"),
                    cache_write=_num(u, "cache_creation_input_tokens"))


def _usage_total(u) -> int:
    if not isinstance(u, dict):
        return -1
    return sum(v for k, v in u.items() if type(v) is int and k.endswith("_tokens"))


def _text_of(content) -> str:
    """The text of a message's content (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for b in content:
        if isinstance(b, dict):
            t = b.get("type")
            if t == "text" and isinstance(b.get("text"), str):
                parts.append(b["text"])
            elif t == "image":
                parts.append("[image]")
        elif isinstance(b, str):
            parts.append(b)
    return "\n".join(parts)


def _lean_block(b):
    """A content block for ``llm.response``: the tool input lives in the
    ``tool.call`` event and a thinking signature is opaque, so both are left out."""
    if not isinstance(b, dict):
        return b
    t = b.get("type")
    if t == "tool_use":
        name = b.get("name")
        return {"type": "tool_use", "id": b.get("id"), "name": name if isinstance(name, str) else None}
    if t in ("thinking", "redacted_thinking") and "signature" in b:
        return {k: v for k, v in b.items() if k != "signature"}
    return b


class ParsedLog:
    """What one parse of a byte range produced.

    ``events`` in file order; ``end`` the offset to resume from; ``skipped``
    counts (``corrupt``, ``torn``, ``unknown``); ``unknown_types`` the entry
    types not known to this version; ``session``/``cwd`` as the file names
    them; ``state`` what the next parse from ``end`` needs."""

    __slots__ = ("events", "end", "skipped", "session", "cwd", "state", "unknown_types", "last_ts")

    def __init__(self, end: int, state: dict):
        self.events: list[dict] = []
        self.end = end
        self.skipped = {"corrupt": 0, "torn": 0, "unknown": 0}
        self.session: str | None = None
        self.cwd: str | None = None
        self.state = state
        self.unknown_types: dict[str, int] = {}
        self.last_ts: str | None = None


class _Parser:
    def __init__(self, path: str, session: str | None, agent_id, state: dict, meta: dict | None):
        self.path = path
        # type-checker: None only until parse_log names it, before the first entry is handled
        self.session: str = session  # type: ignore[assignment]
        self.agent_id = agent_id
        self.st = state
        self.meta = meta or {}
        self.out: list[dict] = []
        self.group: list[dict] = []  # entries of the API message being read
        self.group_at = 0
        self.snapshot: dict = state

    # -- events -----------------------------------------------------------
    def emit(self, etype: str, id_: str, ts, **fields) -> None:
        self.out.append(ev.make_event(etype, self.session, SOURCE, id=id_, ts=ts, name=NAME,
                                      agent_id=self.agent_id, **fields))

    def start_session(self, entry: dict) -> None:
        self.st["started"] = True
        ts = norm_ts(entry.get("timestamp"))
        if self.agent_id:
            self.emit(ev.SUBAGENT_START, ev.derived_id(self.session, "subagent.start", self.agent_id), ts,
                      agent_type=self.meta.get("agentType") if isinstance(self.meta.get("agentType"), str) else None,
                      data={k: v for k, v in (("agent_id", self.agent_id),
                                              ("description", self.meta.get("description")),
                                              ("tool_use_id", self.meta.get("toolUseId")),
                                              ("prompt", _text_of((entry.get("message") or {}).get("content"))
                                               if entry.get("type") == "user" else None),
                                              ("transcript", self.path)) if v is not None})
            return
        data = {"cwd": entry.get("cwd"), "git_branch": entry.get("gitBranch"), "version": entry.get("version"),
                "entrypoint": entry.get("entrypoint"), "transcript": self.path}
        self.emit(ev.SESSION_START, ev.derived_id(self.session, "session.start", "transcript"), ts,
                  data={k: v for k, v in data.items() if isinstance(v, str)})

    def user(self, entry: dict, msg: dict) -> None:
        content = msg.get("content")
        pid = entry.get("promptId")
        if isinstance(pid, str) and pid and not self.agent_id:
            self.st["prompt"] = pid
        if isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result"
                                             for b in content):
            for b in content:
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    self.result(entry, b, len(content) == 1)
            return
        if self.agent_id or entry.get("isMeta") or entry.get("isSidechain"):
            return  # a subagent's task prompt is on subagent.start; meta lines are Claude's own
        ts = norm_ts(entry.get("timestamp"))
        text = _text_of(content)
        if entry.get("isCompactSummary"):
            uid = entry.get("uuid") or ts
            self.emit(ev.COMPACT, ev.derived_id(self.session, "context.compact", f"summary:{uid}"), ts,
                      data={"summary": text, "uuid": entry.get("uuid")})
            return
        if text.startswith("<local-command-stdout>") or text.startswith("<local-command-stderr>"):
            return
        key = pid if isinstance(pid, str) and pid else f"uuid:{entry.get('uuid')}"
        data = {"prompt": text, "prompt_id": pid if isinstance(pid, str) else None, "uuid": entry.get("uuid")}
        for k_in, k_out in (("promptSource", "prompt_source"), ("permissionMode", "permission_mode")):
            if isinstance(entry.get(k_in), str):
                data[k_out] = entry[k_in]
        self.emit(ev.USER_PROMPT, ev.derived_id(self.session, "user.prompt", key), ts,
                  data={k: v for k, v in data.items() if v is not None})

    def result(self, entry: dict, block: dict, only: bool) -> None:
        tid = block.get("tool_use_id")
        if not isinstance(tid, str) or not tid:
            return
        ts = norm_ts(entry.get("timestamp"))
        call = self.st["calls"].pop(tid, None)
        tool = call[0] if call else None
        duration = None
        if call and call[1] and ts:
            duration = max(0, round((ev.iso_to_epoch(ts) - call[1]) * 1000))
        content = block.get("content")
        response = entry.get("toolUseResult") if only and isinstance(entry.get("toolUseResult"), (dict, list)) \
            else content
        data = {"tool_name": tool, "tool_use_id": tid, "tool_response": response}
        fields = {"tool": tool, "tool_use_id": tid, "duration_ms": duration,
                  "data": {k: v for k, v in data.items() if v is not None}}
        eid = ev.derived_id(self.session, "tool.result", tid)
        if block.get("is_error"):
            text = _text_of(content) or "tool failed"
            err: dict[str, object] = {"message": text}
            if text.startswith("[Request interrupted by user"):
                err["is_interrupt"] = True
            self.emit(ev.TOOL_ERROR, eid, ts, status=ev.ERROR, error=err, **fields)
        else:
            self.emit(ev.TOOL_RESULT, eid, ts, status=ev.OK, **fields)

    def open_group(self, entry: dict, final: bool) -> None:
        """The first entry of an API message: remember where its
        ``llm.response`` goes and (unless the parse is final) the state to go
        back to if it is held back."""
        self.group = [entry]
        self.group_at = len(self.out)
        if not final:
            self.snapshot = {"calls": dict(self.st["calls"]), "prompt": self.st.get("prompt"),
                             "started": self.st["started"], "last_ts": self.st.get("last_ts")}
        self.calls(entry)

    def calls(self, entry: dict) -> None:
        """``tool.call`` for the tool_use blocks of one assistant entry."""
        msg = entry["message"]
        blocks = msg.get("content")
        if not isinstance(blocks, list):
            return
        ts = None
        for b in blocks:
            if not (isinstance(b, dict) and b.get("type") == "tool_use" and isinstance(b.get("id"), str)):
                continue
            if ts is None:
                ts = norm_ts(entry.get("timestamp"))
            tid, name = b["id"], b.get("name")
            if not isinstance(name, str):
                name = None  # a name that is not text is no tool's: the call is kept, unnamed
            calls = self.st["calls"]
            if len(calls) >= MAX_OPEN_CALLS:
                del calls[next(iter(calls))]
            calls[tid] = [name, ev.iso_to_epoch(ts) if ts else None]
            data = {"tool_name": name, "tool_input": b.get("input"), "tool_use_id": tid,
                    "message_id": msg.get("id")}
            self.emit(ev.TOOL_CALL, ev.derived_id(self.session, "tool.call", tid), ts,
                      tool=name, tool_use_id=tid,
                      data={k: v for k, v in data.items() if v is not None})

    def close_group(self) -> None:
        group, self.group = self.group, []
        if not group:
            return
        first, last = group[0], group[-1]
        msg, last_msg = first["message"], last["message"]
        usage, blocks = msg.get("usage"), []
        for entry in group:
            m = entry["message"]
            if len(group) > 1 and _usage_total(m.get("usage")) > _usage_total(usage):
                usage = m.get("usage")
            c = m.get("content")
            if isinstance(c, list):
                blocks.extend(c)
            elif c is not None:
                blocks.append(c)
        session, ts = self.session, norm_ts(first.get("timestamp"))
        model = msg.get("model")
        if model != "<synthetic>":  # Claude's own notes (API errors ...), not an API response
            data = {
                "message_id": msg.get("id"),
                "role": msg.get("role"),
                "stop_reason": last_msg.get("stop_reason"),
                "stop_sequence": last_msg.get("stop_sequence"),
                "content": [_lean_block(b) for b in blocks],
                "usage": usage,
                "request_id": first.get("requestId"),
                "request_ref": first.get("requestRef"),
                "requested_model": first.get("requestedModel"),
                "is_sidechain": first.get("isSidechain"),
            }
            self.out.insert(self.group_at, ev.make_event(
                ev.LLM_RESPONSE, session, SOURCE, id=llm_event_id(session, str(msg.get("id"))), ts=ts, name=NAME,
                agent_id=self.agent_id, model=model if isinstance(model, str) else None, usage=usage_of(usage),
                status=ev.OK, data={k: v for k, v in data.items() if v is not None}))
        prompt = self.st.get("prompt")
        if last_msg.get("stop_reason") in _ENDS_TURN and prompt and not self.agent_id:
            self.emit(ev.TURN_END, ev.derived_id(session, "turn.end", prompt), norm_ts(last.get("timestamp")),
                      status=ev.OK, data={"prompt_id": prompt,
                                          "last_assistant_message": _text_of(blocks)})

    def system(self, entry: dict) -> None:
        if entry.get("subtype") != "compact_boundary":
            return
        # type-checker: narrowed by isinstance() on the same .get()
        meta: dict = entry.get("compactMetadata") if isinstance(entry.get("compactMetadata"), dict) else {}  # type: ignore[assignment]
        ts = norm_ts(entry.get("timestamp"))
        self.emit(ev.COMPACT, ev.derived_id(self.session, "context.compact", f"boundary:{entry.get('uuid')}"), ts,
                  data={k: v for k, v in (("trigger", meta.get("trigger")), ("pre_tokens", meta.get("preTokens")),
                                          ("uuid", entry.get("uuid"))) if v is not None})


def parse_log(path: str, start: int = 0, *, final: bool = False, session: str | None = None,
              agent_id: str | None = None, state: dict | None = None, meta: dict | None = None,
              limit: int = CHUNK_BYTES) -> ParsedLog:
    """Events from byte ``start`` of a Claude Code transcript.

    ``session`` defaults to the entries' ``sessionId`` (else the file name);
    ``agent_id`` marks a subagent's own transcript (``meta`` is its
    ``.meta.json``).  ``state`` is the ``.state`` of the parse that ended at
    ``start`` (tool names of calls still open, the current prompt id).  At most
    about ``limit`` bytes are read; ``.end`` says where to go on.  A message
    still being written (the last one, with no stop reason yet) is held back
    unless ``final``: ``.end`` is then its first line and ``.state`` the
    state from there.
    """
    state = {"calls": {}, "prompt": None, "started": False, "last_ts": None} if state is None else dict(state)
    state["calls"] = dict(state.get("calls") or {})
    res = ParsedLog(start, state)
    p = _Parser(path, session, agent_id, state, meta)
    group_start = offset = start
    skipped = res.skipped
    at_end = True
    with open_regular(path) as f:  # a FIFO swapped in after the importer looked never hangs the parse
        f.seek(start)
        readline = f.readline
        while True:
            raw = readline(MAX_LINE)
            if not raw:
                break
            line_start = offset
            offset += len(raw)
            if raw[-1:] != b"\n":  # a line still being written (or torn by a crash), or one over MAX_LINE
                rest, ended = rest_of_line(f) if len(raw) == MAX_LINE else (0, False)
                if ended:  # too long to be Claude's: skipped, never held whole
                    offset += rest
                    skipped["corrupt"] += 1
                    continue
                offset = line_start
                if final and raw.strip():
                    skipped["torn"] += 1
                    offset = line_start + len(raw) + rest
                break
            if raw.startswith(_PREFIX_SKIP) or (b'"type":"attachment"' in raw and not any(m in raw for m in _MAPPED)):
                continue  # Claude's own bookkeeping: not worth a parse
            try:
                entry = loads(raw)
            except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
                if raw.strip():
                    skipped["corrupt"] += 1
                continue
            if type(entry) is not dict:
                skipped["corrupt"] += 1
                continue
            t = entry.get("type")
            if t != "assistant" and t != "user" and t != "system":
                if type(t) is not str or t not in IGNORED_TYPES:
                    skipped["unknown"] += 1
                    _count_unknown(res.unknown_types, t)
                continue
            if p.session is None:
                sid = entry.get("sessionId")
                p.session = sid if isinstance(sid, str) and sid else os.path.basename(path).rsplit(".", 1)[0]
            if res.cwd is None and isinstance(entry.get("cwd"), str):
                res.cwd = entry["cwd"]
            if isinstance(entry.get("timestamp"), str):
                state["last_ts"] = entry["timestamp"]
            if not state["started"]:
                p.start_session(entry)
            msg = entry.get("message")
            if t == "assistant":
                if not isinstance(msg, dict) or not msg.get("id"):
                    continue
                if p.group and p.group[0]["message"]["id"] != msg["id"]:
                    p.close_group()
                if not p.group:
                    res.events.extend(p.out)
                    p.out.clear()
                    group_start = line_start
                    p.open_group(entry, final)
                else:
                    p.group.append(entry)
                    p.calls(entry)
                if msg.get("stop_reason") is not None:  # the message is complete
                    p.close_group()
            elif t == "user":
                if isinstance(msg, dict):
                    p.user(entry, msg)
            else:
                p.system(entry)
            if not p.group:
                res.events.extend(p.out)
                p.out.clear()
                if offset - start >= limit:
                    at_end = not f.peek(1)  # the limit met at the last line: the parse still ends the file
                    break
    if p.group and not final:  # hold the open message (and what followed it) back: re-read next time
        offset = group_start
        res.state = p.snapshot
    else:
        p.close_group()
        res.events.extend(p.out)
    res.end = offset
    res.session = p.session
    last_ts = res.state.get("last_ts")
    res.last_ts = norm_ts(last_ts)
    sess = p.session or session
    if final and at_end and not agent_id and sess and last_ts and state["started"]:
        res.events.append(ev.make_event(ev.SESSION_END, sess, SOURCE, id=ev.derived_id(sess, "session.end", NAME),
                                        ts=norm_ts(last_ts), name=NAME, data={"reason": "transcript ended"}))
    if final and agent_id and sess and meta and meta.get("finished") and last_ts:
        res.events.append(ev.make_event(ev.SUBAGENT_STOP, sess, SOURCE,
                                        id=ev.derived_id(sess, "subagent.stop", agent_id),
                                        ts=norm_ts(last_ts), name=NAME, agent_id=agent_id,
                                        agent_type=meta.get("agentType") if isinstance(meta.get("agentType"), str)
                                        else None, data={"agent_id": agent_id}))
    return res


def rest_of_line(f) -> tuple[int, bool]:
    """Read on to the end of a line over :data:`MAX_LINE` a megabyte at a
    time, holding none of it: (bytes read, whether a newline ended it)."""
    n = 0
    while True:
        chunk = f.readline(1 << 20)
        n += len(chunk)
        if not chunk or chunk[-1:] == b"\n":
            return n, bool(chunk)


def _count_unknown(types: dict, t) -> None:
    """Count an entry of unknown type under its name (a type that is not text
    under its kind).  At most :data:`MAX_UNKNOWN_TYPES` names per parse, the
    rest under one: each name is said once on stderr."""
    name = t[:40] if type(t) is str else f"({type(t).__name__})"
    if name not in types and len(types) >= MAX_UNKNOWN_TYPES:
        name = "(other types)"
    types[name] = types.get(name, 0) + 1


def read_responses(path: str, session: str, agent_id=None, start: int = 0, final: bool = False):
    """(llm.response events, resume offset) of a transcript: the LLM turns only."""
    res = parse_log(path, start, final=final, session=session, agent_id=agent_id, limit=1 << 62)
    return [e for e in res.events if e["type"] == ev.LLM_RESPONSE], res.end


# -- files beside a transcript --------------------------------------------------

def subagent_dir(main_transcript: str, session: str) -> str:
    return os.path.join(os.path.dirname(main_transcript), session, "subagents")


def subagent_transcripts(main_transcript: str, session: str) -> list[tuple[str, str]]:
    """(agent id, path) of the subagent transcripts beside a main transcript."""
    base = subagent_dir(main_transcript, session)
    try:
        names = sorted(n for n in os.listdir(base) if n.startswith("agent-") and n.endswith(".jsonl"))
    except OSError:
        return []
    return [(n[len("agent-"):-len(".jsonl")], os.path.join(base, n)) for n in names]


def read_meta(transcript: str) -> dict:
    """A subagent transcript's ``.meta.json`` (agent type, description, finished).

    Read only if it is a regular file of at most :data:`MAX_META` bytes,
    opened without blocking: a FIFO or a device in its place must neither
    hang the import nor be read without end.  Anything else (not JSON, nested
    past the parser's depth) reads as no meta."""
    try:
        with open_regular(transcript[: -len(".jsonl")] + ".meta.json") as f:
            data = f.read(MAX_META + 1)
        meta = loads(data) if len(data) <= MAX_META else None
    except (OSError, ValueError, RecursionError):
        return {}
    return meta if isinstance(meta, dict) else {}
