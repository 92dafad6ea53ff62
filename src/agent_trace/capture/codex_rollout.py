"""Codex CLI rollout files -> events (``~/.codex/sessions/**/rollout-*.jsonl``,
the ``transcript_path`` of every Codex hook payload).

A rollout is one JSON record per line, ``{"timestamp", "type", "payload"}``;
written by Codex 0.171 (see tests/fixtures and the e2e tests).  What becomes
an event (contract in :mod:`.agent_log`):

==============================================  ===============================
rollout record                                  event (id key)
==============================================  ===============================
``session_meta``                                ``session.start``; a subagent's
                                                rollout: ``subagent.start``
                                                (agent id)
``item_completed`` UserMessage / ``user_message``  ``user.prompt`` (turn id)
``message`` role assistant                      ``assistant.message`` (message id)
``function_call``, ``custom_tool_call``,        ``tool.call`` (call id), named as
``local_shell_call``                            Codex's hooks name it (``Bash``,
                                                ``apply_patch``, namespace+name)
``*_call_output``                               ``tool.result`` / ``tool.error``
                                                (call id): the exit code in the
                                                output's header decides
``token_usage_record``                          ``llm.response`` (response id,
                                                the same id as the LLM proxy's
                                                and the PostModelRequest hook's)
``token_count`` (rollouts without records)      ``llm.response`` (running total)
``task_complete``                               ``turn.end`` (turn id); a
                                                subagent: ``subagent.stop``
``turn_aborted``                                ``turn.end``, status error
``compacted``                                   ``context.compact``
==============================================  ===============================

A subagent writes its own rollout (``session_meta.source.subagent``): its
events carry the root session and ``agent_id`` = the subagent's thread id,
as the hooks do.  Usage is OpenAI-style (cached tokens inside the input
count), split into ``input`` and ``cache_read`` like the LLM proxy does.
"""

from __future__ import annotations

import os

from .. import event as ev
from ..event.fastjson import loads
from ..store.regular import open_regular
from .agent_log import ParsedLog, iso, num, records, text_of
from .transcript import CHUNK_BYTES, llm_event_id

SOURCE = "codex"
SHELL_CALLS = ("exec_command", "shell", "container.exec", "local_shell")


def parse_log(path: str, start: int = 0, *, final: bool = False, limit: int = CHUNK_BYTES) -> ParsedLog:
    """Events from byte ``start`` (contract in :mod:`.agent_log`); at most
    about ``limit`` bytes are read (memory stays flat), ``.end`` says where
    to go on."""
    out = ParsedLog(start)
    st = _State(path, start)
    for _offset, rec in records(path, start, out):
        kind, payload = rec.get("type"), rec.get("payload")
        if not isinstance(kind, str) or not isinstance(payload, dict):
            out.skipped += 1
            continue
        ts = iso(rec.get("timestamp"))
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(st, out, payload, ts)
        if out.end - start >= limit:
            break
    out.session, out.cwd, out.agent_id = st.session, st.cwd, st.agent_id
    return out


class _State:
    def __init__(self, path: str, start: int):
        self.path = path
        self.start = start
        self.session: str | None = None
        self.agent_id: str | None = None
        self.cwd: str | None = None
        self.model: str | None = None
        self.has_records: bool | None = None
        self.calls: dict[str, str] = {}  # call id -> tool name, for the results
        self.outcomes: dict[str, dict] = {}  # call id -> item_completed (status, exit code)
        self.seen_prompts: set[str] = set()
        if start:
            self._resume()

    def _resume(self) -> None:
        """What the part before ``start`` left: session, cwd and model, each
        call's tool (for its result), the calls' outcomes and the prompts
        seen, so a parse going on after a read limit (or a hook's import of
        what is new) reads as one parse of the whole.  No event is built:
        this runs on the hook path."""
        head = ParsedLog()
        for _o, rec in records(self.path, 0, head):
            if head.end > self.start:
                break
            kind, p = rec.get("type"), rec.get("payload")
            if not isinstance(p, dict):
                continue
            if kind == "session_meta":
                self._meta(p)
            elif kind == "turn_context":
                _turn_context(self, head, p, None)
            elif kind == "response_item" and p.get("type") in CALL_ITEMS:
                call_id = _call_id(p)
                if call_id is not None:
                    self.calls[call_id] = tool_and_input(p)[0]
            elif kind == "event_msg":  # as _event_msg and _prompt keep them
                t, item = p.get("type"), p.get("item")
                item = item if isinstance(item, dict) else {}
                if t == "user_message" or t == "item_completed" and item.get("type") == "UserMessage":
                    if isinstance(p.get("turn_id"), str):
                        self.seen_prompts.add(p["turn_id"])
                elif t == "item_completed":
                    _outcome(self, item)

    def _meta(self, p: dict) -> None:
        sid, tid = p.get("session_id"), p.get("id")
        self.session = sid if isinstance(sid, str) and sid else tid if isinstance(tid, str) else None
        if isinstance(tid, str) and tid and tid != self.session:
            self.agent_id = tid
        if isinstance(p.get("cwd"), str):
            self.cwd = p["cwd"]

    def event(self, out: ParsedLog, etype: str, ts, kind: str | None = None, key: str | None = None, **fields):
        session = self.session or "unknown-session"
        if kind and key:
            fields["id"] = ev.derived_id(session, kind, key)
        fields.setdefault("agent_id", self.agent_id)
        out.events.append(ev.make_event(etype, session, SOURCE, ts=ts, **fields))

    def usage_records(self) -> bool:
        """Whether this rollout has per-response ``token_usage_record``s
        (Codex 0.171): then ``token_count`` totals are not counted again."""
        if self.has_records is None:
            import mmap

            try:
                with open_regular(self.path) as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                    self.has_records = m.find(b'"token_usage_record"') != -1
            except (OSError, ValueError):
                self.has_records = False
        return self.has_records


def _session_meta(st: _State, out: ParsedLog, p: dict, ts) -> None:
    st._meta(p)
    data = {k: v for k, v in p.items() if k != "base_instructions"}
    if st.agent_id:
        st.event(out, ev.SUBAGENT_START, ts, "subagent.start", st.agent_id, name="rollout",
                 agent_type=_agent_role(p), data=data)
    else:
        st.event(out, ev.SESSION_START, ts, "session.start", "rollout", name="rollout", data=data)


def _agent_role(p: dict):
    src = p.get("source")
    spawn = src.get("subagent", {}).get("thread_spawn") if isinstance(src, dict) and isinstance(
        src.get("subagent"), dict) else None
    role = spawn.get("agent_role") if isinstance(spawn, dict) else None
    return role if isinstance(role, str) else None


def _turn_context(st: _State, out: ParsedLog, p: dict, ts) -> None:
    if isinstance(p.get("model"), str):
        st.model = p["model"]
    if isinstance(p.get("cwd"), str) and not st.cwd:
        st.cwd = p["cwd"]


def _response_item(st: _State, out: ParsedLog, p: dict, ts) -> None:
    t = p.get("type")
    if t == "message":
        if p.get("role") == "assistant":
            text: str | None = text_of(p.get("content"))
            st.event(out, ev.ASSISTANT_MESSAGE, ts, "assistant.message", p.get("id") if isinstance(
                p.get("id"), str) else None, name="assistant", data={"text": text, "item": p})
        return
    if t in CALL_ITEMS:
        call_id = _call_id(p)
        if call_id is None:
            out.skipped += 1
            return
        tool, tool_input = tool_and_input(p)
        st.calls[call_id] = tool
        st.event(out, ev.TOOL_CALL, ts, "tool.call", call_id, name="PreToolUse", tool=tool,
                 tool_use_id=call_id, data={"tool_input": tool_input, "item": p})
        return
    if t in ("function_call_output", "custom_tool_call_output", "local_shell_call_output"):
        call_id = p.get("call_id")
        if not isinstance(call_id, str):
            out.skipped += 1
            return
        output = p.get("output")
        text = output if isinstance(output, str) else text_of(output) if isinstance(output, list) else None
        failed, exit_code = output_failed(text, st.outcomes.get(call_id))
        fields = {"name": "PostToolUse", "tool": st.calls.get(call_id), "tool_use_id": call_id,
                  "data": {"tool_response": output, "exit_code": exit_code, "item": p}}
        if failed:
            msg = f"exit code {exit_code}" if exit_code is not None else (text or "tool failed")[:500]
            st.event(out, ev.TOOL_ERROR, ts, "tool.result", call_id, status=ev.ERROR,
                     error={"message": msg}, **fields)
        else:
            st.event(out, ev.TOOL_RESULT, ts, "tool.result", call_id, status=ev.OK, **fields)


CALL_ITEMS = ("function_call", "custom_tool_call", "local_shell_call")


def _call_id(p: dict) -> str | None:
    cid = p.get("call_id") if isinstance(p.get("call_id"), str) else p.get("id")
    return cid if isinstance(cid, str) else None


def _outcome(st: _State, item: dict) -> None:
    """Keep a call's completion record (status, exit code) for its output."""
    if isinstance(item.get("id"), str) and ("status" in item or "exit_code" in item):
        st.outcomes[item["id"]] = item


def tool_and_input(item: dict) -> tuple[str, dict]:
    """The tool name and input as Codex's PreToolUse hook reports them."""
    # type-checker: narrowed by isinstance() on the same .get()
    name: str = item.get("name") if isinstance(item.get("name"), str) else ""  # type: ignore[assignment]
    if item.get("type") == "custom_tool_call":
        raw = item.get("input")
        return name, {"command": raw} if name == "apply_patch" else {"input": raw}
    if item.get("type") == "local_shell_call":
        # type-checker: narrowed by isinstance() on the same .get()
        action: dict = item.get("action") if isinstance(item.get("action"), dict) else {}  # type: ignore[assignment]
        return "Bash", {"command": _command_text(action.get("command"))}
    try:
        args = loads(item.get("arguments") or "{}") if isinstance(item.get("arguments"), str) else {}
    except ValueError:
        args = {"arguments": item.get("arguments")}
    if not isinstance(args, dict):
        args = {"arguments": args}
    if name in SHELL_CALLS:
        return "Bash", {"command": _command_text(args.get("cmd", args.get("command")))}
    if name == "apply_patch":
        return name, {"command": args.get("input", args.get("patch"))}
    ns = item.get("namespace")
    return (ns + name if isinstance(ns, str) else name), args


def _command_text(cmd):
    if isinstance(cmd, list):
        words = [str(c) for c in cmd]
        if len(words) == 3 and words[1] in ("-lc", "-c"):
            return words[2]
        return " ".join(words)
    return cmd


BLOCKED = "blocked by PreToolUse hook"
ABORTED = "aborted by user"


def output_failed(text: str | None, outcome: dict | None) -> tuple[bool, int | None]:
    """(failed, exit code) from the item's completion record when seen, else
    from the header Codex puts before the output ("Process exited with code
    N" for commands, "Exit code: N" for apply_patch; "Command blocked by
    PreToolUse hook: ..." and "aborted by user" for calls that did not run).
    Only the header is read: a command printing those words cannot fake it."""
    if outcome is not None:
        code = num(outcome, "exit_code")
        return outcome.get("status") in ("failed", "declined") or bool(code), code
    if not text:
        return False, None
    head = text.split("\nOutput:", 1)[0] if "\nOutput:" in text else text[:200]
    if BLOCKED in head.split("\n", 1)[0] or head.rstrip().endswith(ABORTED):
        return True, None
    for marker in ("Process exited with code ", "Exit code: "):
        at = head.find(marker)
        if at != -1:
            digits = ""
            for c in head[at + len(marker):]:
                if not (c.isdigit() or (c == "-" and not digits)):
                    break
                digits += c
            try:
                code = int(digits)
            except ValueError:
                continue
            return code != 0, code
    return False, None


def _event_msg(st: _State, out: ParsedLog, p: dict, ts) -> None:
    t = p.get("type")
    if t == "item_completed":
        # type-checker: narrowed by isinstance() on the same .get()
        item: dict = p.get("item") if isinstance(p.get("item"), dict) else {}  # type: ignore[assignment]
        if item.get("type") == "UserMessage":
            _prompt(st, out, p.get("turn_id"), text_of(item.get("content")), ts, p)
        else:
            _outcome(st, item)
    elif t == "user_message":
        # type-checker: narrowed by isinstance() on the same .get()
        _prompt(st, out, p.get("turn_id"), p.get("message") if isinstance(p.get("message"), str) else "", ts, p)  # type: ignore[arg-type]
    elif t == "token_count" and not st.usage_records():
        # type-checker: narrowed by isinstance() on the same .get()
        info: dict = p.get("info") if isinstance(p.get("info"), dict) else {}  # type: ignore[assignment]
        last, total = info.get("last_token_usage"), info.get("total_token_usage")
        if isinstance(last, dict) and isinstance(total, dict) and num(total, "total_tokens") is not None:
            _llm(st, out, f"total:{total['total_tokens']}", last, ts, p, derived=True)
    elif t == "task_complete":
        turn = p.get("turn_id")
        data = {k: p.get(k) for k in ("last_agent_message", "duration_ms", "time_to_first_token_ms") if k in p}
        if st.agent_id:
            st.event(out, ev.SUBAGENT_STOP, ts, "subagent.stop", st.agent_id, name="rollout", data=data)
        elif isinstance(turn, str):
            st.event(out, ev.TURN_END, ts, "turn.end", turn, name="Stop", data=data)
    elif t == "turn_aborted":
        turn = p.get("turn_id")
        st.event(out, ev.TURN_END, ts, "turn.end", turn if isinstance(turn, str) else None, name="TurnAborted",
                 status=ev.ERROR, error={"message": str(p.get("reason") or "turn aborted")}, data=p)


def _prompt(st: _State, out: ParsedLog, turn, text: str, ts, p: dict) -> None:
    key = turn if isinstance(turn, str) else None
    if key in st.seen_prompts:
        return
    if key:
        st.seen_prompts.add(key)
    st.event(out, ev.USER_PROMPT, ts, "user.prompt", key, name="UserPromptSubmit",
             data={"prompt": text, "turn_id": turn})


def _usage_record(st: _State, out: ParsedLog, p: dict, ts) -> None:
    rid = p.get("response_id")
    if isinstance(rid, str) and isinstance(p.get("usage"), dict):
        _llm(st, out, rid, p["usage"], ts, p)


def _llm(st: _State, out: ParsedLog, key: str, u: dict, ts, p: dict, derived: bool = False) -> None:
    session = st.session or "unknown-session"
    eid = ev.derived_id(session, "llm.response", key) if derived else llm_event_id(session, key)
    data = {"usage": u, "turn_id": p.get("turn_id")}
    if not derived:
        data["response_id"] = key
    out.events.append(ev.make_event(ev.LLM_RESPONSE, session, SOURCE, id=eid, ts=ts, name="rollout",
                                    agent_id=st.agent_id, model=st.model, usage=usage(u), status=ev.OK,
                                    data=data))


def usage(u: dict) -> dict | None:
    """Codex token usage (cached tokens counted inside ``input_tokens``)."""
    inp, cached, written = num(u, "input_tokens"), num(u, "cached_input_tokens"), num(u, "cache_write_input_tokens")
    return ev.usage(input=max(0, inp - (cached or 0) - (written or 0)) if inp is not None else None,
                    output=num(u, "output_tokens"), cache_read=cached or None, cache_write=written or None)


def _compacted(st: _State, out: ParsedLog, p: dict, ts) -> None:
    msg = p.get("message")
    st.event(out, ev.COMPACT, ts, "context.compact", f"{ts}:{len(msg) if isinstance(msg, str) else 0}",
             name="compacted", data={"summary": msg} if isinstance(msg, str) else {})


_HANDLERS = {
    "session_meta": _session_meta,
    "turn_context": _turn_context,
    "response_item": _response_item,
    "event_msg": _event_msg,
    "token_usage_record": _usage_record,
    "compacted": _compacted,
}


def call_outcome(path: str, call_id: str, max_bytes: int = 8 << 20) -> dict | None:
    """The completion record (``item_completed``: status, exit code) of one
    call, read backwards from the end of the rollout: Codex writes it just
    before it runs the PostToolUse hook.  ``None`` when not found within the
    last ``max_bytes``."""
    needle = f'"id":"{call_id}"'.encode()
    try:
        size = os.path.getsize(path)
        with open_regular(path) as f:
            pos, tail = size, b""
            while pos > 0 and size - pos < max_bytes:
                step = min(1 << 16, pos)
                pos -= step
                f.seek(pos)
                tail = f.read(step) + tail
                lines = tail.split(b"\n")
                if pos > 0:
                    tail, lines = lines[0], lines[1:]
                for raw in reversed(lines):
                    if needle in raw and b'"item_completed"' in raw:
                        rec = loads(raw.decode("utf-8", "surrogateescape"))
                        item = rec.get("payload", {}).get("item")
                        if isinstance(item, dict) and item.get("id") == call_id:
                            return item
                if pos == 0:
                    break
    except (OSError, ValueError, AttributeError):
        return None
    return None
