"""Which parser reads which agent's log, for the importers.

Every parser has the shape ``parse_log(path, start=0, *, final=False) ->
ParsedLog`` (``.events``, ``.end``, ``.skipped``, ``.session``, ``.cwd``):

* Claude Code: :func:`agent_trace.capture.transcript.parse_log` (whole
  sessions; it also takes the session, the subagent id and resume state);
* Codex CLI: ``capture/codex_rollout.py`` and Gemini CLI:
  ``capture/gemini_chat.py`` (whole sessions, the same parsers the hooks'
  imports use).  The usage-only readers below are the fallback when those
  modules cannot be imported.
"""

from __future__ import annotations

import os

from .. import event as ev
from ..event.fastjson import loads
from . import discover, transcript


class _Parsed:
    __slots__ = ("events", "end", "skipped", "session", "cwd", "state", "unknown_types")

    def __init__(self, end: int):
        self.events: list[dict] = []
        self.end = end
        self.skipped = {"corrupt": 0, "torn": 0}
        self.session: str | None = None
        self.cwd: str | None = None
        self.state = None
        self.unknown_types: dict = {}


def _lines(path: str, start: int, final: bool, res: _Parsed):
    """(line start, parsed object) of the complete lines from ``start``."""
    offset = start
    with open(path, "rb") as f:
        f.seek(start)
        for raw in f:
            if raw[-1:] != b"\n":
                if final and raw.strip():
                    res.skipped["torn"] += 1
                    offset += len(raw)
                break
            line_start = offset
            offset += len(raw)
            try:
                obj = loads(raw)
            except ValueError:
                if raw.strip():
                    res.skipped["corrupt"] += 1
                continue
            if isinstance(obj, dict):
                yield line_start, obj
            else:
                res.skipped["corrupt"] += 1
    res.end = offset


def _num(d: dict, k: str) -> int:
    v = d.get(k)
    return v if type(v) is int else 0


def codex_usage_log(path: str, start: int = 0, *, final: bool = False) -> _Parsed:
    """Codex rollout -> session.start + one llm.response per ``token_count``
    (its ``last_token_usage``; OpenAI counts cached input inside input)."""
    res = _Parsed(start)
    model = None
    for pos, obj in _lines(path, start, final, res):
        t, p = obj.get("type"), obj.get("payload")
        if not isinstance(p, dict):
            continue
        if t == "session_meta":
            res.session = p.get("id") if isinstance(p.get("id"), str) else res.session
            res.cwd = p.get("cwd") if isinstance(p.get("cwd"), str) else res.cwd
            if res.session:
                res.events.append(ev.make_event(
                    ev.SESSION_START, res.session, "codex", id=ev.derived_id(res.session, "session.start", "rollout"),
                    ts=transcript.norm_ts(obj.get("timestamp")), name="rollout",
                    data={k: v for k, v in (("cwd", res.cwd), ("version", p.get("cli_version")),
                                            ("transcript", path)) if isinstance(v, str)}))
        elif t == "turn_context" and isinstance(p.get("model"), str):
            model = p["model"]
        elif t == "event_msg" and p.get("type") == "token_count":
            info = p.get("info")
            last = info.get("last_token_usage") if isinstance(info, dict) else None
            if not isinstance(last, dict):
                continue
            session = res.session or os.path.basename(path)[:-len(".jsonl")]
            cached = _num(last, "cached_input_tokens")
            usage = ev.usage(input=max(0, _num(last, "input_tokens") - cached), output=_num(last, "output_tokens"),
                             cache_read=cached, cache_write=_num(last, "cache_write_input_tokens"))
            res.events.append(ev.make_event(
                ev.LLM_RESPONSE, session, "codex", id=ev.derived_id(session, "llm.response", f"rollout@{pos}"),
                ts=transcript.norm_ts(obj.get("timestamp")), name="rollout", model=model, usage=usage,
                status=ev.OK, data={"usage": last}))
    return res


def gemini_usage_log(path: str, start: int = 0, *, final: bool = False) -> _Parsed:
    """Gemini chat log -> session.start + one llm.response per model message
    (its ``tokens``; input counts cached tokens, thoughts are billed as output).
    The log rewrites a message as it grows: its id keeps it one event."""
    res = _Parsed(start)
    for _pos, obj in _lines(path, start, final, res):
        if isinstance(obj.get("sessionId"), str) and "kind" in obj:
            res.session = obj["sessionId"]
            res.events.append(ev.make_event(
                ev.SESSION_START, res.session, "gemini", id=ev.derived_id(res.session, "session.start", "chat"),
                ts=transcript.norm_ts(obj.get("startTime")), name="chat", data={"transcript": path}))
            continue
        tok = obj.get("tokens")
        if obj.get("type") != "gemini" or not isinstance(tok, dict) or not isinstance(obj.get("id"), str):
            continue
        session = res.session or os.path.basename(path).rsplit(".", 1)[0]
        cached = _num(tok, "cached")
        usage = ev.usage(input=max(0, _num(tok, "input") - cached), output=_num(tok, "output") + _num(tok, "thoughts"),
                         cache_read=cached)
        res.events.append(ev.make_event(
            ev.LLM_RESPONSE, session, "gemini", id=ev.derived_id(session, "llm.response", obj["id"]),
            ts=transcript.norm_ts(obj.get("timestamp")), name="chat",
            model=obj.get("model") if isinstance(obj.get("model"), str) else None, usage=usage, status=ev.OK,
            data={"message_id": obj["id"], "tokens": tok}))
    return res


class _Counted:
    """A :class:`agent_trace.capture.agent_log.ParsedLog` as the importers read
    it: skipped lines by kind."""

    __slots__ = ("events", "end", "session", "cwd", "skipped", "state", "unknown_types")

    def __init__(self, res):
        self.events, self.end, self.session, self.cwd = res.events, res.end, res.session, res.cwd
        self.skipped = {"corrupt": res.skipped} if res.skipped else {}
        self.state = None
        self.unknown_types: dict = {}


def _full_parser(kind: str):
    try:
        if kind == discover.CODEX:
            from .codex_rollout import parse_log
        else:
            from .gemini_chat import parse_log
    except ImportError:
        return None
    return parse_log


def parser_for(kind: str):
    """The parse function for ``kind``, called as the importers call it:
    ``parse(path, start, final=..., session=..., agent_id=..., state=..., meta=...)``."""
    if kind == discover.CLAUDE:
        return transcript.parse_log
    full = _full_parser(kind)
    simple = full or (codex_usage_log if kind == discover.CODEX else gemini_usage_log)

    def parse(path, start=0, *, final=False, session=None, **_ignored):
        res = simple(path, start, final=final)
        if session:  # the caller's session (a hook's session_id): the file the events go to
            for e in res.events:
                e["session"] = session
        if isinstance(res.skipped, int):  # the agent-log parsers count lines; the importers keep kinds
            return _Counted(res)
        return res

    return parse
