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
from .agent_process import agent_process
from .answer import hook_output
from .engine import STATUS, Decision, decide, decide_in_memory
from .policy import PolicyError, load

POSTMORTEM_EVENTS = 20


def _record(sink, session: str, source: str, call: dict, d: Decision, summary=None, notifier=None) -> None:
    events = [ev.make_event(ev.RULE_DECISION, session, "agent-strace", name=d.rule, status=STATUS[d.action],
                            tool=call.get("tool"), tool_use_id=call.get("tool_use_id"), parent=call.get("id"),
                            agent_id=call.get("agent_id"),
                            data={"action": d.action, "rule": d.rule, "reason": d.reason, "agent": source})]
    sink.emit_many(events)
    if notifier is not None:
        notifier.decision(events[0], summary)
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


def enforce(store: Store, sink, payload: dict, call: dict, source: str, event_name: str,
            rules_file: str | None, *, memory=None, agent_pid=None, policy=None, kick=None):
    """``rules_file`` is what :func:`find_rules_file` found for this hook (or None).

    A long-running caller (the daemon) passes ``memory`` (an
    :class:`~.engine.MemoryState`: rule state kept in memory, not in the
    state file), ``agent_pid`` (a command hook finds the agent above itself;
    the daemon is nobody's child), may pass the ``policy`` it already loaded
    from ``rules_file``, and ``kick(notifier)`` to deliver alerts from a
    thread of its own instead of a forked sender."""
    d = decide_call(store, sink, payload, call, source, rules_file, memory=memory, policy=policy, kick=kick)
    if d is None:
        return None
    out = hook_output(d, source, event_name)
    if d.action == "kill":
        pid = agent_pid() if callable(agent_pid) else agent_pid or agent_process()
        if pid:
            os.kill(pid, 15)  # SIGTERM (the signal module would import enum: 5 ms on the hook path)
    return out


def decide_call(store: Store, sink, payload: dict, call: dict, source: str, rules_file: str | None, *,
                memory=None, policy=None, kick=None):
    """Pause, then rules, for the ``tool.call`` event ``call``: the decision
    (recorded as a ``rule.decision``) or ``None`` to let it through.  In-process
    callers (framework integrations) act on it themselves; a ``kill`` is theirs
    to carry out.  With ``[[notify]]`` in the rules file, decisions and budget
    thresholds queue alerts and a sender is forked on the way out (never
    waited for)."""
    box: dict = {}
    try:
        return _decide(store, sink, payload, call, source, rules_file, box, memory, policy)
    finally:
        if box.get("notifier") is not None:
            kick(box["notifier"]) if kick else box["notifier"].kick()


def _notifier(store: Store, policy: dict, cwd: str | None):
    if not policy.get("notify"):
        return None
    try:  # notifications fail open: enforcement goes on without them
        from ..notify.hook import HookNotifier

        return HookNotifier(store, policy, cwd)
    except Exception as e:
        import sys

        sys.stderr.write(f"agent-strace notify: notifications off for this call: {type(e).__name__}: {e}\n")
        return None


def _decide(store: Store, sink, payload: dict, call: dict, source: str, rules_file: str | None, box: dict,
            memory=None, policy=None):
    session = call["session"]
    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    if rules_file and policy is None:
        try:
            policy = load(rules_file, store.subdir("state"))
        except PolicyError as e:
            d = Decision("deny", "rules-file", f"the rules file is broken, so calls are denied until it is "
                                               f"fixed: {e} (check it with: agent-strace rules check)")
            _record(sink, session, source, call, d)
            return d
    notifier = box["notifier"] = _notifier(store, policy, cwd) if policy else None
    max_wait = (policy or {}).get("pause") or {}
    max_wait = max_wait.get("max_wait_s", pause.DEFAULT_MAX_WAIT_S)
    if pause.is_paused(store, session):
        _record(sink, session, source, call, Decision("pause", "pause", "paused by the user"), None, notifier)
        if not pause.wait_while_paused(store, session, max_wait):
            d = Decision("deny", "pause", "the session is paused (agent-strace resume to continue)")
            _record(sink, session, source, call, d, None, notifier)
            return d
    if policy is None:
        return None
    try:
        if policy.get("budget") and source == "claude-code" and isinstance(payload.get("transcript_path"), str):
            from ..capture import log_import  # usage up to this call, not just up to the last Stop

            log_import.import_session(store, sink, payload["transcript_path"], session, final=False, llm_only=True)
        if memory is not None:
            d, summary = decide_in_memory(store, policy, rules_file, session, call, cwd, memory)
        else:
            d, summary = decide(store, policy, rules_file, session, call, cwd)
    except Exception as e:  # enforcement never silently turns off
        d, summary = Decision("deny", "rules-engine", f"rules could not be evaluated ({type(e).__name__}: {e}), "
                                                      "so the call is denied"), None
    if notifier is not None:
        notifier.budget(session, summary)
    if d is None:
        return None
    if d.action == "pause":
        _record(sink, session, source, call, d, summary, notifier)
        pause.set_paused(store, session, True)
        if pause.wait_while_paused(store, session, max_wait):
            return None
        d = Decision("deny", d.rule, d.reason + "; still paused (agent-strace resume to continue)")
    _record(sink, session, source, call, d, summary, notifier)
    return d
