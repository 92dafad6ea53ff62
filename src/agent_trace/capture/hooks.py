"""Agent CLI hook payloads -> events.

One table per agent maps the hook event name to an event type.  The payload
is kept whole under ``data`` (lossless: fields this version does not know pass
through), and the fields every reader needs are lifted to first-class fields.
Unknown hook events become ``generic`` events carrying the original name.

Imported on the hook hot path: standard library, cheap modules only.
"""

from __future__ import annotations

from .. import event as ev

# Claude Code (2.1.x).  Events not listed here are stored as ``generic``.
CLAUDE_EVENTS = {
    "SessionStart": ev.SESSION_START,
    "SessionEnd": ev.SESSION_END,
    "UserPromptSubmit": ev.USER_PROMPT,
    "PreToolUse": ev.TOOL_CALL,
    "PostToolUse": ev.TOOL_RESULT,
    "PostToolUseFailure": ev.TOOL_ERROR,
    "Stop": ev.TURN_END,
    "StopFailure": ev.TURN_END,
    "SubagentStart": ev.SUBAGENT_START,
    "SubagentStop": ev.SUBAGENT_STOP,
    "Notification": ev.NOTIFICATION,
    "PreCompact": ev.COMPACT,
    "PostCompact": ev.COMPACT,
}

# Claude Code events at which the session's transcripts are imported: the
# agent waits for their hooks, and they end a turn, a subagent or the session.
TRANSCRIPT_EVENTS = ("Stop", "SubagentStop", "SessionEnd", "StopFailure")
# Claude Code events at which the project's git state is recorded (capture/git_info.py).
GIT_EVENTS = {"SessionStart": "start", "SessionEnd": "end"}

# Every Claude Code hook event known when this was written, for the kebab-case
# spelling of the ``hook`` argument and for ``setup``.  Others still work.
CLAUDE_ALL = (
    "SessionStart", "Setup", "InstructionsLoaded", "UserPromptSubmit",
    "UserPromptExpansion", "PreToolUse", "PermissionRequest", "PermissionDenied",
    "PostToolUse", "PostToolUseFailure", "PostToolBatch", "Notification",
    "SubagentStart", "SubagentStop", "TaskCreated", "TaskCompleted",
    "TeammateIdle", "Stop", "StopFailure", "PreCompact", "PostCompact",
    "Elicitation", "ElicitationResult", "ConfigChange", "CwdChanged",
    "FileChanged", "DirectoryAdded", "WorktreeCreate", "WorktreeRemove",
    "PreModelSwitch", "PostModelSwitch", "MessageDisplay", "SessionEnd",
)

# Gemini CLI hook names -> the Claude-style name with the same meaning.
GEMINI_ALIASES = {
    "BeforeTool": "PreToolUse",
    "AfterTool": "PostToolUse",
    "BeforeAgent": "UserPromptSubmit",
    "AfterAgent": "Stop",
    "PreCompress": "PreCompact",
}

# Events with no Claude Code twin, per agent; their fields are filled in by
# the agent's own module (``refine``), which also drops what is not an event.
GEMINI_EVENTS = {
    "BeforeModel": ev.GENERIC,
    "AfterModel": ev.GENERIC,
    "PreCompact": ev.GENERIC,  # PreCompress: a check before every model call, not a compaction
}
CODEX_EVENTS = {
    "PreModelRequest": ev.LLM_REQUEST,
    "PostModelRequest": ev.LLM_RESPONSE,
    "Interrupt": ev.TURN_END,
}
# OpenCode: the agent-strace plugin sends Claude Code names, plus this one.
OPENCODE_EVENTS = {"ModelResponse": ev.LLM_RESPONSE}
SOURCE_EVENTS = {"gemini": GEMINI_EVENTS, "codex": CODEX_EVENTS, "opencode": OPENCODE_EVENTS}


def canonical_name(name: str) -> str:
    """``pre-tool-use`` / ``pre_tool_use`` / ``PreToolUse`` -> ``PreToolUse``."""
    if "-" in name or "_" in name or name.islower():
        parts = name.replace("_", "-").split("-")
        joined = "".join(p[:1].upper() + p[1:] for p in parts if p)
        for known in CLAUDE_ALL:
            if known.lower() == joined.lower():
                return known
        return joined
    return name


def _str(v):
    return v if isinstance(v, str) and v else None


def _tool_error(payload: dict):
    """``{"message", "is_interrupt"}`` from a failure payload."""
    err = payload.get("error")
    if err is None:
        resp = payload.get("tool_response")
        if isinstance(resp, dict) and resp.get("error"):
            err = resp.get("error")
    if err is None:
        return {"message": "tool failed"}
    out: dict[str, object] = {"message": err if isinstance(err, str) else _compact(err)}
    if "is_interrupt" in payload:
        out["is_interrupt"] = bool(payload["is_interrupt"])
    return out


def _compact(obj) -> str:
    from ..event.fastjson import dumps

    return dumps(obj)[:2000]


def events_from_hook(payload: dict, hook_name: str | None, source: str) -> list[dict]:
    """Map one hook payload to the events it stands for (usually one)."""
    name = _str(payload.get("hook_event_name")) or hook_name or "Unknown"
    name = canonical_name(name)
    if source == "gemini":
        name = GEMINI_ALIASES.get(name, name)
    own = SOURCE_EVENTS.get(source)
    etype = (own.get(name) if own else None) or CLAUDE_EVENTS.get(name) or ev.GENERIC
    session = _str(payload.get("session_id")) or _str(payload.get("sessionId")) or "unknown-session"
    fields = {
        "name": name,
        "agent_id": _str(payload.get("agent_id")),
        "agent_type": _str(payload.get("agent_type")),
        "tool": _str(payload.get("tool_name")),
        "tool_use_id": _str(payload.get("tool_use_id")) or _str(payload.get("tool_call_id")),
        "data": payload,
    }
    d = payload.get("duration_ms")
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        fields["duration_ms"] = d
    refine = _REFINE.get(source)
    if refine is not None:
        etype = refine(payload, name, etype, fields)
        if etype is None:
            return []  # not an event (a streamed chunk ...)
    if etype == ev.TOOL_RESULT and "status" not in fields:
        fields["status"] = ev.OK
    if etype == ev.TOOL_ERROR:
        fields["status"] = ev.ERROR
        fields.setdefault("error", _tool_error(payload))
    elif name == "StopFailure":
        fields["status"] = ev.ERROR
        err = payload.get("error") or payload.get("reason")
        fields["error"] = {"message": err if isinstance(err, str) else _compact(err)} if err else None
    key_kind = _ID_KINDS.get(etype)
    if key_kind is not None and "id" not in fields:
        key = _id_key(etype, payload, fields)
        if key:
            fields["id"] = ev.derived_id(session, key_kind, key)
    return [ev.make_event(etype, session, source, **fields)]


def _refine_codex(payload, name, etype, fields):
    from .codex_hooks import refine

    return refine(payload, name, etype, fields)


def _refine_gemini(payload, name, etype, fields):
    from .gemini_hooks import refine

    return refine(payload, name, etype, fields)


def _refine_opencode(payload, name, etype, fields):
    from .opencode_hooks import refine

    return refine(payload, name, etype, fields)


_REFINE = {"codex": _refine_codex, "gemini": _refine_gemini, "opencode": _refine_opencode}


# Event types whose id is derived from the agent's own ids (see
# ``event.derived_id``), so hooks, transcript import and the daemon's recovery
# agree on them.  A result and an error share one id: a call has one of them.
_ID_KINDS = {
    ev.TOOL_CALL: "tool.call",
    ev.TOOL_RESULT: "tool.result",
    ev.TOOL_ERROR: "tool.result",
    ev.USER_PROMPT: "user.prompt",
    ev.TURN_END: "turn.end",
    ev.SUBAGENT_START: "subagent.start",
    ev.SUBAGENT_STOP: "subagent.stop",
}


def _id_key(etype: str, payload: dict, fields: dict) -> str | None:
    if etype in (ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR):
        return fields.get("tool_use_id")
    if etype in (ev.SUBAGENT_START, ev.SUBAGENT_STOP):
        return fields.get("agent_id")
    if etype == ev.USER_PROMPT or (etype == ev.TURN_END and not fields.get("agent_id")):
        # Claude Code: prompt_id; Codex: turn_id.  Gemini has neither.
        return _str(payload.get("prompt_id")) or _str(payload.get("turn_id"))
    return None
