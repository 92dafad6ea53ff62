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

The CLI waits for each callback, so a callback only answers: it judges the
rules and hands recording and the transcript import to one background thread
(:mod:`.background`), which writes in order, is waited for before the rules
engine reads the log, and is drained at interpreter exit (:func:`flush` waits
for it in the same process).  The ids are the CLI hooks' derived ids, so
whatever the order, every source's copy of an event is kept once.

Capture fails open (one stderr line, ``{}`` returned); enforcement fails
closed (any failure is a deny with the reason).  Our matchers come first;
hooks you pass in ``hooks=`` keep running after them.
"""

from __future__ import annotations

import os

from .background import Worker

FRAMEWORK = "claude-agent-sdk"
# The hook events the SDK can register (claude_agent_sdk.types.HookEvent).
EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure", "UserPromptSubmit", "Stop", "SubagentStart",
          "SubagentStop", "PreCompact", "Notification")
TRANSCRIPT_EVENTS = ("Stop", "SubagentStop")
FLUSH_WAIT_S = 30.0  # how long rules wait for earlier events to reach the log before denying
# What the callbacks and the worker import, loaded on the worker while the CLI starts.
WARM_MODULES = ("agent_trace.capture.hooks", "agent_trace.capture.sink", "agent_trace.store.sink",
                "agent_trace.control.policy", "agent_trace.control.pause", "agent_trace.control.enforce",
                "agent_trace.control.answer", "agent_trace.capture.log_import")

WORKER = Worker("claude-agent-sdk-log")


def say(what: str, exc: BaseException | None = None) -> None:
    from .recorder import say as say_once

    say_once(FRAMEWORK, what, exc)


def flush(timeout: float | None = None) -> bool:
    """Wait until every event the hooks handed over so far is written (and
    the transcripts imported at Stop).  Run at interpreter exit anyway; call
    it to read the session in the same process right after a run."""
    return WORKER.flush(timeout)


def warm_up() -> None:
    """Import what the callbacks need, on the worker: the first hook then
    answers without paying for the imports."""
    import importlib

    def load() -> None:
        for name in WARM_MODULES:
            importlib.import_module(name)

    WORKER.submit(load)


def _store_for(payload: dict, trace_dir: str | None):
    from ..store.paths import Store, resolve_root

    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    return Store(resolve_root(trace_dir, cwd))


def _deny(reason: str) -> dict:
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                   "permissionDecisionReason": f"agent-strace: {reason}"}}


def handle(payload: dict, trace_dir: str | None = None) -> dict:
    """One hook call: the answer, as fast as it can be given.  PreToolUse is
    judged here (pause, then rules: a deny reaches the agent before anything
    is written); recording, and importing the transcripts at Stop, are
    handed to the worker (:func:`flush` waits for them).  When rules or a
    pause apply, the log is brought up to date and the call recorded before
    the engine judges it, as the CLI hook does."""
    name = payload.get("hook_event_name")
    try:
        from ..capture.hooks import events_from_hook

        store = _store_for(payload, trace_dir)
        events = events_from_hook(payload, None, "claude-code")
    except Exception as e:
        if name == "PreToolUse":  # enforcement fails closed
            return _deny(f"the call could not be recorded, so rules could not be checked "
                         f"({type(e).__name__}: {e})")
        say("could not record a hook event", e)
        return {}
    if name == "PreToolUse":
        return _pre_tool_use(store, payload, events)
    WORKER.submit(lambda: _record(store, payload, events, name in TRANSCRIPT_EVENTS))
    return {}


def _record(store, payload: dict, events: list, transcripts: bool) -> None:
    """On the worker: write the hook's events, then import the transcripts
    (Stop, SubagentStop).  Fails open."""
    from ..capture.claims import emit_live
    from ..capture.sink import open_sink

    try:
        sink = open_sink(store)
    except Exception as e:
        say("could not record a hook event", e)
        return
    try:
        emit_live(store, sink, events, f"agent-strace ({FRAMEWORK})")
        if transcripts:
            _import_transcripts(store, sink, payload)
    finally:
        _close(sink)


def _close(sink) -> None:
    try:
        sink.close()
    except Exception:  # what could be written was; capture fails open
        pass


def _pre_tool_use(store, payload: dict, events: list) -> dict:
    try:
        call = events[0]
        from ..control.pause import is_paused
        from ..control.policy import find_rules_file

        cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
        rules_file = find_rules_file(cwd)
        if not rules_file and not is_paused(store, call["session"]):
            WORKER.submit(lambda: _record(store, payload, events, False))
            return {}
    except Exception as e:
        return _deny(f"rules could not be evaluated ({type(e).__name__}: {e}), so the call is denied")
    # the engine reads the session log: what came before this call is written first
    if not WORKER.flush(FLUSH_WAIT_S):
        return _deny("earlier events of the session are still being written, so rules could not be checked")
    try:
        from ..capture.claims import emit_live
        from ..capture.sink import open_sink

        sink = open_sink(store)
        recorded = emit_live(store, sink, events, f"agent-strace ({FRAMEWORK})")
    except Exception as e:
        return _deny(f"the call could not be recorded, so rules could not be checked ({type(e).__name__}: {e})")
    try:
        return _enforce(store, sink, payload, call, recorded, rules_file)
    finally:
        _close(sink)


def _enforce(store, sink, payload, call, recorded: bool, rules_file: str | None) -> dict:
    try:
        from ..control.answer import hook_output
        from ..control.enforce import decide_call

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
        say("transcript not imported", e)


def hook_matchers(trace_dir: str | None = None) -> dict:
    """``{event: [HookMatcher]}`` with our callback for every event."""
    from claude_agent_sdk import HookMatcher

    async def agent_strace_hook(input_data, tool_use_id, context):
        payload = dict(input_data or {})
        if tool_use_id and not payload.get("tool_use_id"):
            payload["tool_use_id"] = tool_use_id
        return handle(payload, trace_dir)

    matchers = {name: [HookMatcher(matcher=None, hooks=[agent_strace_hook])] for name in EVENTS}
    warm_up()
    return matchers


def options_with_hooks(trace_dir: str | None = None, **options):
    """``ClaudeAgentOptions(**options)`` with our hooks first in every event."""
    from claude_agent_sdk import ClaudeAgentOptions

    theirs = dict(options.pop("hooks", None) or {})
    try:
        ours = hook_matchers(trace_dir)
    except Exception as e:  # never breaks the host program: options without our hooks
        say("hooks not added", e)
        ours = {}
    merged = {k: [*ours.get(k, []), *theirs.get(k, [])] for k in {*ours, *theirs}}
    return ClaudeAgentOptions(hooks=merged or None, **options)
