"""Enforcement at PreToolUse: pause, then rules; fails closed.

Called by the hook after it tried to record the ``tool.call``.
:func:`enforce` returns a :class:`Verdict`: the JSON to print (or ``None`` to
let the call through silently) and what to record about it.  The caller
answers first and calls :meth:`Verdict.finish` after, so a full disk, a
read-only store or a broken ``AGENT_TRACE_DIR`` can lose the record but never
the decision.  Every decision is recorded as a ``rule.decision`` event; a stop
or kill also writes a ``postmortem`` (rule, totals, last events).
"""

from __future__ import annotations

import os

from .. import event as ev
from ..store.paths import Store
from . import agent_stop, pause
from .answer import hook_output
from .engine import STATUS, Decision, decide, decide_in_memory
from .policy import PolicyError, load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from ..analysis.summary import SessionSummary
    from ..event import EventDict
    from ..notify.hook import HookNotifier
    from ..store.sink import StoreSink
    from .engine import MemoryState
    from .policy import Policy

    Record = tuple[Decision, SessionSummary | None]  # a decision to record, with the summary it saw
    Kick = Callable[[HookNotifier], object]  # starts delivering a notifier's queued alerts

POSTMORTEM_EVENTS = 20


class Verdict:
    """What enforcement decided: ``out`` for the agent (None: let it run),
    ``records`` (decision, summary) to write once the agent has its answer,
    the decision itself (``decision``; None: no rule applied) and the notifier
    holding the alerts it queued."""

    __slots__ = ("out", "records", "decision", "notifier", "_where")

    def __init__(self, out: dict[str, Any] | None = None, records: Iterable[Record] = (),
                 decision: Decision | None = None, notifier: HookNotifier | None = None,
                 where: tuple[Store, StoreSink, str, EventDict, dict[str, Any]] | None = None) -> None:
        self.out, self.records, self.decision, self.notifier = out, list(records), decision, notifier
        self._where = where  # (store, sink, source, call, payload)

    @property
    def kill(self) -> bool:
        return self.decision is not None and self.decision.action == "kill"

    def finish(self, *, agent_pid: int | Callable[[], int | None] | None = None, kick: Kick | None = None) -> None:
        """After the answer is out: record the decisions (failing open), carry
        the decision out on the agent (:func:`agent_stop.act`: a kill, Codex's
        stop, Gemini's call pairing), and start delivering the queued alerts.
        ``agent_pid`` (a pid or a callable) and ``kick(notifier)`` are for a
        long-running caller (the daemon); a command hook finds the agent
        above itself and forks a sender."""
        if self._where is not None:
            store, sink, source, call, payload = self._where
            for d, summary in self.records:
                record(sink, call["session"], source, call, d, summary, self.notifier)
            if self.decision is not None:
                try:
                    agent_stop.act(store, source, self.decision, payload, call, pid=agent_pid)
                except OSError as e:
                    _say(f"could not act on the agent: {e}")
        _kick(self.notifier, kick)


def _say(msg: str) -> None:
    import sys

    try:
        sys.stderr.write(f"agent-strace hook: {msg}\n")
    except Exception:
        pass


def _kick(notifier: HookNotifier | None, kick: Kick | None) -> None:
    if notifier is None:
        return
    try:  # notifications fail open
        kick(notifier) if kick else notifier.kick()
    except Exception as e:
        _say(f"alert not sent: {type(e).__name__}: {e}")


def _record(sink: StoreSink, session: str, source: str, call: EventDict, d: Decision,
            summary: SessionSummary | None = None, notifier: HookNotifier | None = None) -> None:
    events = [ev.make_event(ev.RULE_DECISION, session, "agent-strace", name=d.rule, status=STATUS[d.action],
                            tool=call.get("tool"), tool_use_id=call.get("tool_use_id"), parent=call.get("id"),
                            agent_id=call.get("agent_id"),
                            data={"action": d.action, "rule": d.rule, "reason": d.reason, "agent": source})]
    try:
        sink.emit_many(events)
    finally:  # the alert goes out even when the store cannot take the record
        if notifier is not None:
            notifier.decision(events[0], summary)
    if d.action in ("stop", "kill"):
        write_postmortem(sink, sink.store, session, d, summary)


def record(sink: StoreSink, session: str, source: str, call: EventDict, d: Decision,
           summary: SessionSummary | None = None, notifier: HookNotifier | None = None) -> bool:
    """Record a decision, failing open: one stderr line when the store cannot
    take it (the decision itself has already been given)."""
    try:
        _record(sink, session, source, call, d, summary, notifier)
        return True
    except Exception as e:
        _say(f"decision given but not recorded ({d.action} by {d.rule}): {getattr(e, 'strerror', None) or e}")
        return False


def write_postmortem(sink: StoreSink, store: Store, session: str, d: Decision,
                     summary: SessionSummary | None = None) -> None:
    from collections import deque

    from ..render.strace import Formatter
    from ..store.reader import iter_events
    from ..analysis.summary import summarize

    path = store.path_for(session)
    last: deque[EventDict] = deque(maxlen=POSTMORTEM_EVENTS)
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


def enforce(store: Store, sink: StoreSink, payload: dict[str, Any], call: EventDict, source: str, event_name: str,
            rules_file: str | None, *, memory: MemoryState | None = None, policy: Policy | None = None) -> Verdict:
    """The hook's answer for ``call``: ``rules_file`` is what
    :func:`find_rules_file` found for this hook (or None).  Nothing about the
    final decision is recorded here: the caller answers, then calls
    :meth:`Verdict.finish`.

    A long-running caller (the daemon) passes ``memory`` (an
    :class:`~.engine.MemoryState`: rule state kept in memory, not in the
    state file) and may pass the ``policy`` it already loaded from
    ``rules_file``."""
    box: dict[str, HookNotifier | None] = {}
    d, records = judge(store, sink, payload, call, source, rules_file, box, memory=memory, policy=policy)
    out = hook_output(d, source, event_name) if d is not None else None
    return Verdict(out, records, d, box.get("notifier"), (store, sink, source, call, payload))


def decide_call(store: Store, sink: StoreSink, payload: dict[str, Any], call: EventDict, source: str,
                rules_file: str | None, *, memory: MemoryState | None = None, policy: Policy | None = None,
                kick: Kick | None = None) -> Decision | None:
    """Pause, then rules, for the ``tool.call`` event ``call``: the decision
    (recorded as a ``rule.decision``, failing open) or ``None`` to let it
    through.  In-process callers (framework integrations) act on it
    themselves; a ``kill`` is theirs to carry out.  With ``[[notify]]`` in the
    rules file, decisions and budget thresholds queue alerts and a sender is
    started on the way out (never waited for)."""
    box: dict[str, HookNotifier | None] = {}
    try:
        d, records = judge(store, sink, payload, call, source, rules_file, box, memory=memory, policy=policy)
        for rd, summary in records:
            record(sink, call["session"], source, call, rd, summary, box.get("notifier"))
        return d
    finally:
        _kick(box.get("notifier"), kick)


def _notifier(store: Store, policy: Policy, cwd: str | None) -> HookNotifier | None:
    if not policy.get("notify"):
        return None
    try:  # notifications fail open: enforcement goes on without them
        from ..notify.hook import HookNotifier

        return HookNotifier(store, policy, cwd)
    except Exception as e:
        import sys

        sys.stderr.write(f"agent-strace notify: notifications off for this call: {type(e).__name__}: {e}\n")
        return None


def judge(store: Store, sink: StoreSink, payload: dict[str, Any], call: EventDict, source: str,
          rules_file: str | None, box: dict[str, HookNotifier | None], *, memory: MemoryState | None = None,
          policy: Policy | None = None) -> tuple[Decision | None, list[Record]]:
    """(decision or None, [(decision, summary) to record]).  Only the pause
    decision (the agent waits) is recorded before the answer, failing open.
    Anything that goes wrong while deciding denies.  ``box["notifier"]`` is
    set to the notifier the rules ask for (or None)."""
    d: Decision | None
    summary: SessionSummary | None
    session = call["session"]
    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    if rules_file and policy is None:
        try:
            policy = load(rules_file, store.subdir("state"))
        except PolicyError as e:
            d = Decision("deny", "rules-file", f"the rules file is broken, so calls are denied until it is "
                                               f"fixed: {e} (check it with: agent-strace rules check)")
            return d, [(d, None)]
    notifier = box["notifier"] = _notifier(store, policy, cwd) if policy else None
    max_wait = (policy or {}).get("pause") or {}
    max_wait = max_wait.get("max_wait_s", pause.DEFAULT_MAX_WAIT_S)
    if pause.is_paused(store, session):
        record(sink, session, source, call, Decision("pause", "pause", "paused by the user"), None, notifier)
        if not pause.wait_while_paused(store, session, max_wait):
            d = Decision("deny", "pause", "the session is paused (agent-strace resume to continue)")
            return d, [(d, None)]
    if policy is None:
        return None, []
    held = agent_stop.stopped_turn(store, session, payload)
    if held is not None:  # a stop rule ended this turn (Codex): nothing more of it runs
        d = Decision("deny", held.get("rule") or "stop", f"the turn was stopped: {held.get('reason')}")
        return d, [(d, None)]
    try:
        if policy.get("budget"):
            from ..capture.agent_import import sync_usage  # usage up to this call, not just up to the last Stop

            try:
                sync_usage(store, sink, payload, session, source)
            except OSError:
                pass  # an unwritable store: the budget counts what the log already holds
        if memory is not None:
            d, summary = decide_in_memory(store, policy, rules_file, session, call, cwd, memory)
        else:
            d, summary = decide(store, policy, rules_file, session, call, cwd)
    except Exception as e:  # enforcement never silently turns off
        d, summary = Decision("deny", "rules-engine", f"rules could not be evaluated ({type(e).__name__}: {e}), "
                                                      "so the call is denied"), None
    if notifier is not None:
        try:
            notifier.budget(session, summary)
        except Exception as e:  # notifications fail open
            _say(f"budget alert not queued: {type(e).__name__}: {e}")
    if d is None:
        return None, []
    if d.action == "pause":
        record(sink, session, source, call, d, summary, notifier)
        try:
            pause.set_paused(store, session, True)
            if pause.wait_while_paused(store, session, max_wait):
                return None, []
        except OSError:
            pass  # the flag cannot be written, so nobody can resume: deny
        d = Decision("deny", d.rule, d.reason + "; still paused (agent-strace resume to continue)")
    return d, [(d, summary)]
