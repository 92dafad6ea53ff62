"""Claude Agent SDK (Python): our hooks, in-process, merged into its options.

    from agent_trace.integrations import claude_agent_sdk_options
    options = claude_agent_sdk_options(allowed_tools=["Read", "Bash"], cwd=project)
    async for message in query(prompt="...", options=options): ...

The SDK drives the Claude Code engine, which calls hooks registered in
``ClaudeAgentOptions.hooks`` back into this process.  Each hook payload goes
through the same mapping as the ``agent-strace hook`` command
(:func:`agent_trace.capture.hooks.events_from_hook`, source ``claude-code``),
so an SDK session and a CLI session record the same events with the same ids.
PreToolUse goes through the same enforcement (:func:`agent_trace.control.
enforce.decide_call`) and answers with the same hook output: a denied tool
does not run.  At Stop and SubagentStop the transcripts are imported, so model
calls carry their usage (ids shared with the LLM proxy: counted once).

Capture fails open (one stderr line, ``{}`` returned); enforcement fails
closed (any failure is a deny with the reason).  Our matchers come first;
hooks you pass in ``hooks=`` keep running after them.
"""

from __future__ import annotations

import os

from .recorder import say

FRAMEWORK = "claude-agent-sdk"
# The hook events the SDK can register (claude_agent_sdk.types.HookEvent).
EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure", "UserPromptSubmit", "Stop", "SubagentStart",
          "SubagentStop", "PreCompact", "Notification")
TRANSCRIPT_EVENTS = ("Stop", "SubagentStop")


def _store_for(payload: dict, trace_dir: str | None):
    from ..store.paths import Store, resolve_root

    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    return Store(resolve_root(trace_dir, cwd))


def _deny(reason: str) -> dict:
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                   "permissionDecisionReason": f"agent-strace: {reason}"}}


def handle(payload: dict, trace_dir: str | None = None) -> dict:
    """One hook call: record, enforce at PreToolUse, import transcripts at
    Stop.  Returns the hook's answer."""
    name = payload.get("hook_event_name")
    try:
        from ..capture.hooks import events_from_hook
        from ..capture.sink import open_sink
        from ..store.sink import emit_fail_open

        store = _store_for(payload, trace_dir)
        sink = open_sink(store)
        events = events_from_hook(payload, None, "claude-code")
        recorded = emit_fail_open(sink, events, f"agent-strace ({FRAMEWORK})")
    except Exception as e:
        if name == "PreToolUse":  # enforcement fails closed
            return _deny(f"the call could not be recorded, so rules could not be checked "
                         f"({type(e).__name__}: {e})")
        say(FRAMEWORK, "could not record a hook event", e)
        return {}
    try:
        if name == "PreToolUse":
            return _enforce(store, sink, payload, events[0], recorded)
        if name in TRANSCRIPT_EVENTS:
            _import_transcripts(store, sink, payload)
        return {}
    finally:
        try:
            sink.close()
        except Exception:
            pass


def _enforce(store, sink, payload, call, recorded: bool) -> dict:
    try:
        from ..control.answer import hook_output
        from ..control.enforce import decide_call
        from ..control.pause import is_paused
        from ..control.policy import find_rules_file

        cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
        rules_file = find_rules_file(cwd)
        if not rules_file and not is_paused(store, call["session"]):
            return {}
        if not recorded:
            return _deny("the call could not be recorded, so rules could not be checked")
        d = decide_call(store, sink, payload, call, "claude-code", rules_file)
        if d is None:
            return {}
        out = hook_output(d, "claude-code", "PreToolUse")  # a kill is a stop: there is no process of ours to end
        if "continue" in out:  # the SDK spells it continue_
            out["continue_"] = out.pop("continue")
        return out
    except Exception as e:
        return _deny(f"rules could not be evaluated ({type(e).__name__}: {e}), so the call is denied")


def _import_transcripts(store, sink, payload: dict) -> None:
    from ..capture import log_import as transcript

    session = payload.get("session_id")
    if not isinstance(session, str):
        return
    try:
        sub = payload.get("agent_transcript_path")
        if isinstance(sub, str) and os.path.isfile(sub):
            transcript.import_transcript(store, sink, sub, session, payload.get("agent_id"), False)
        main = payload.get("transcript_path")
        if isinstance(main, str) and os.path.isfile(main):
            transcript.import_session(store, sink, main, session, False)
    except Exception as e:
        say(FRAMEWORK, "transcript not imported", e)


def hook_matchers(trace_dir: str | None = None) -> dict:
    """``{event: [HookMatcher]}`` with our callback for every event."""
    from claude_agent_sdk import HookMatcher

    async def agent_strace_hook(input_data, tool_use_id, context):
        payload = dict(input_data or {})
        if tool_use_id and not payload.get("tool_use_id"):
            payload["tool_use_id"] = tool_use_id
        return handle(payload, trace_dir)

    return {name: [HookMatcher(matcher=None, hooks=[agent_strace_hook])] for name in EVENTS}


def options_with_hooks(trace_dir: str | None = None, **options):
    """``ClaudeAgentOptions(**options)`` with our hooks first in every event."""
    from claude_agent_sdk import ClaudeAgentOptions

    theirs = dict(options.pop("hooks", None) or {})
    try:
        ours = hook_matchers(trace_dir)
    except Exception as e:  # never breaks the host program: options without our hooks
        say(FRAMEWORK, "hooks not added", e)
        ours = {}
    merged = {k: [*ours.get(k, []), *theirs.get(k, [])] for k in {*ours, *theirs}}
    return ClaudeAgentOptions(hooks=merged or None, **options)
