"""Enforcement at PreToolUse: pause, then rules; fails closed.

Called by the hook after it recorded the ``tool.call``.  Returns the JSON to
print (or ``None`` to let the call through silently).  Every decision is
recorded as a ``rule.decision`` event; a stop or kill also writes a
``postmortem`` (rule, totals, last events).
"""

from __future__ import annotations

import os

from .. import event as ev
from ..store.paths import Store
from . import pause
from .answer import hook_output
from .engine import STATUS, Decision, decide
from .policy import PolicyError, load

POSTMORTEM_EVENTS = 20


def _record(sink, session: str, source: str, call: dict, d: Decision, summary=None) -> None:
    events = [ev.make_event(ev.RULE_DECISION, session, "agent-strace", name=d.rule, status=STATUS[d.action],
                            tool=call.get("tool"), tool_use_id=call.get("tool_use_id"), parent=call.get("id"),
                            agent_id=call.get("agent_id"),
                            data={"action": d.action, "rule": d.rule, "reason": d.reason, "agent": source})]
    sink.emit_many(events)
    if d.action in ("stop", "kill"):
        write_postmortem(sink, sink.store, session, d, summary)


def write_postmortem(sink, store: Store, session: str, d: Decision, summary=None) -> None:
    from collections import deque

    from ..render.strace import Formatter
    from ..store.reader import iter_events
    from ..analysis.summary import summarize

    path = store.path_for(session)
    last = deque(maxlen=POSTMORTEM_EVENTS)
    if summary is None:
        events = list(iter_events(path)) if os.path.exists(path) else []
        summary = summarize(events)
        last.extend(events)
    elif os.path.exists(path):
        last.extend(iter_events(path))
    fmt = Formatter()
    lines = [x for x in (fmt.line(e) for e in last) if x]
    s = summary.to_dict()
    sink.emit(ev.make_event(ev.POSTMORTEM, session, "agent-strace", name=d.rule, status=STATUS[d.action],
                            data={"rule": d.rule, "action": d.action, "reason": d.reason,
                                  "totals": {k: s[k] for k in ("events", "tool_calls", "tool_errors", "llm_calls",
                                                               "tokens", "cost_usd", "duration_s")},
                                  "last_events": lines}))


def _agent_pid() -> int | None:
    """The agent process above this hook (``claude``/``codex``/``gemini``), via /proc."""
    pid = os.getppid()
    for _ in range(6):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{pid}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None
        if any(name in cmd for name in ("claude", "codex", "gemini")) and "agent_trace" not in cmd:
            return pid
        pid = ppid
        if pid <= 1:
            return None
    return None


def enforce(store: Store, sink, payload: dict, call: dict, source: str, event_name: str,
            rules_file: str | None):
    """``rules_file`` is what :func:`find_rules_file` found for this hook (or None)."""
    session = call["session"]
    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    policy = None
    if rules_file:
        try:
            policy = load(rules_file, store.subdir("state"))
        except PolicyError as e:
            d = Decision("deny", "rules-file", f"the rules file is broken, so calls are denied until it is "
                                               f"fixed: {e} (check it with: agent-strace rules check)")
            _record(sink, session, source, call, d)
            return hook_output(d, source, event_name)
    max_wait = (policy or {}).get("pause") or {}
    max_wait = max_wait.get("max_wait_s", pause.DEFAULT_MAX_WAIT_S)
    if pause.is_paused(store, session):
        _record(sink, session, source, call, Decision("pause", "pause", "paused by the user"))
        if not pause.wait_while_paused(store, session, max_wait):
            d = Decision("deny", "pause", "the session is paused (agent-strace resume to continue)")
            _record(sink, session, source, call, d)
            return hook_output(d, source, event_name)
    if policy is None:
        return None
    try:
        if policy.get("budget") and source == "claude-code" and isinstance(payload.get("transcript_path"), str):
            from ..capture import log_import  # usage up to this call, not just up to the last Stop

            log_import.import_session(store, sink, payload["transcript_path"], session, final=False, llm_only=True)
        d, summary = decide(store, policy, rules_file, session, call, cwd)
    except Exception as e:  # enforcement never silently turns off
        d, summary = Decision("deny", "rules-engine", f"rules could not be evaluated ({type(e).__name__}: {e}), "
                                                      "so the call is denied"), None
    if d is None:
        return None
    if d.action == "pause":
        _record(sink, session, source, call, d, summary)
        pause.set_paused(store, session, True)
        if pause.wait_while_paused(store, session, max_wait):
            return None
        d = Decision("deny", d.rule, d.reason + "; still paused (agent-strace resume to continue)")
    _record(sink, session, source, call, d, summary)
    out = hook_output(d, source, event_name)
    if d.action == "kill":
        pid = _agent_pid()
        if pid:
            os.kill(pid, 15)  # SIGTERM (the signal module would import enum: 5 ms on the hook path)
    return out
