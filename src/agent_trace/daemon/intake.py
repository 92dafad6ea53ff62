"""A hook payload in, the store written, the answer out: what the command
hook does (``cli/hook_cmds.py``), done by the daemon.

* mapping: :func:`~agent_trace.capture.hooks.events_from_hook`, unchanged;
* where: the store the command hook would pick, from the payload's ``cwd``
  and the ``AGENT_TRACE_DIR`` the session registered (:mod:`.registry`);
* writing: the same sink (encoder, redaction, caps, remote delivery),
  failing open;
* PreToolUse: pause and rules through
  :func:`~agent_trace.control.enforce.enforce` with the rule state held in
  memory (:mod:`.live`), failing closed;
* Stop, SubagentStop, StopFailure, SessionEnd: the transcript import and
  recovery (:mod:`.recovery`), after the answer.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict

from .. import event as ev
from ..capture.hooks import GIT_EVENTS, TRANSCRIPT_EVENTS, events_from_hook
from ..capture.sink import open_sink
from ..store.paths import DEFAULT_DIRNAME, Store, resolve_root
from ..capture.claims import emit_live
from . import registry
from .files import DaemonFiles
from .live import Live, LiveSession
from .recovery import Job, Recoverer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_SINKS = 64
MAX_SENDERS = 8
MAX_REGISTRATIONS = 1024


class _DecisionTap:
    """A sink that passes events on and remembers the last rule decision."""

    def __init__(self, sink, ls: LiveSession, live: Live):
        self.sink, self.store, self.ls, self.live = sink, sink.store, ls, live

    def emit(self, event: dict) -> None:
        self.emit_many([event])

    def emit_many(self, events) -> None:
        events = list(events)
        self.sink.emit_many(events)
        for e in events:
            if e.get("type") == ev.RULE_DECISION:
                data = e.get("data") or {}
                self.ls.decision = {"action": data.get("action"), "rule": data.get("rule"),
                                    "reason": data.get("reason"), "tool": e.get("tool"), "ts": e.get("ts")}
                self.live.changed(self.ls)


class Intake:
    def __init__(self, files: DaemonFiles, live: Live, recoverer: Recoverer, port: int | None = None):
        self.files, self.live, self.recoverer, self.port = files, live, recoverer, port
        self._sinks: OrderedDict[str, Any] = OrderedDict()
        self._regs: OrderedDict[str, tuple] = OrderedDict()  # session -> (path, mtime, entry)
        self._policies: dict[str, tuple] = {}  # rules file -> (stat key, policy)
        self._senders: OrderedDict[tuple, Any] = OrderedDict()  # alert senders (threads, never forks)
        self._lock = threading.Lock()
        self.failures = 0  # payloads not recorded (disk full ...)

    # -- where --------------------------------------------------------------
    def registration(self, session: str) -> dict | None:
        """The session's registration, re-read when its file changes (a resumed
        session registers again with a new agent pid)."""
        with self._lock:
            cached = self._regs.get(session)
        path = cached[0] if cached else registry.path_for(self.files, session)
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            mtime = None
        if cached is not None and cached[1] == mtime:
            with self._lock:
                self._regs.move_to_end(session)
            return cached[2]
        entry = registry.load(self.files, session) if mtime is not None else None
        with self._lock:
            self._regs[session] = (path, mtime, entry)
            while len(self._regs) > MAX_REGISTRATIONS:
                self._regs.popitem(last=False)
        return entry

    def agent_env(self, reg: dict | None, sent: dict | None) -> dict | None:
        """The agent's environment as far as recording goes: what its HTTP hook
        sent in headers, else what its SessionStart hook registered, else
        None (unknown: our own environment stands in)."""
        if sent is not None:
            env = dict(sent)
            if reg and reg.get("cwd"):  # not in Claude Code's own environment, so not sendable
                env.setdefault("CLAUDE_PROJECT_DIR", reg["cwd"])
            return env
        return dict(reg.get("env") or {}) if reg is not None else None

    def store_for(self, cwd: str | None, env: dict | None, reg: dict | None = None) -> Store:
        """The store a command hook in the agent's environment would use."""
        if env is None:
            return Store(resolve_root(None, cwd))
        if env.get("AGENT_TRACE_DIR"):
            return Store(os.path.abspath(env["AGENT_TRACE_DIR"]))
        base = cwd or (reg or {}).get("cwd") or os.getcwd()
        return Store(os.path.join(os.path.abspath(base), DEFAULT_DIRNAME))

    def sink_for(self, store: Store):
        with self._lock:
            sink = self._sinks.get(store.root)
            if sink is None:
                sink = self._sinks[store.root] = open_sink(store)
                while len(self._sinks) > MAX_SINKS:
                    _, old = self._sinks.popitem(last=False)
                    old.close()
            else:
                self._sinks.move_to_end(store.root)
            return sink

    def close(self) -> None:
        with self._lock:
            for sink in self._sinks.values():
                try:
                    sink.close()
                except Exception:
                    pass
            self._sinks.clear()
            senders = list(self._senders.values())
            self._senders.clear()
        for sender in senders:
            sender.stop()

    # -- one payload ----------------------------------------------------------
    def hook(self, payload: dict, cli: str = "claude", event: str | None = None,
             peer_port: int | None = None, sent_env: dict | None = None) -> dict | None:
        """Record one payload; returns the JSON answer (None: nothing to say).
        ``sent_env``: the agent environment its hook sent in headers."""
        source = "claude-code" if cli in ("claude", "claude-code") else cli
        session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
        reg = self.registration(session) if session else None
        env = self.agent_env(reg, sent_env)
        if reg is None and session and sent_env is not None:
            # type-checker: agent_env() returns a dict when the hook sent its environment
            reg = self._register(payload, session, env)  # type: ignore[arg-type]
        cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
        store = self.store_for(cwd, env, reg)
        sink = self.sink_for(store)
        events = events_from_hook(payload, event, source)
        if not emit_live(store, sink, events, "agent-strace daemon"):
            self.failures += 1
        first = events[0]
        name = first.get("name")
        ls = self.live.session(store.root, first["session"])
        self.live.heard(ls, name)
        if name == "PreToolUse":
            return self._enforce(store, sink, payload, first, source, env, reg, ls, peer_port)
        if name in TRANSCRIPT_EVENTS and source == "claude-code":
            self._schedule_import(store, sink, payload, first["session"], name, ls)
        return None

    def _register(self, payload: dict, session: str, env: dict) -> dict | None:
        """A session heard of before its SessionStart hook registered it: written
        down, so that a crash of ours is followed by its recovery."""
        if not isinstance(payload.get("transcript_path"), str):
            return None
        try:
            entry = registry.register(self.files, payload, None, env)
        except OSError as e:
            sys.stderr.write(f"agent-strace daemon: session {session} not registered: {e}\n")
            return None
        with self._lock:
            self._regs.pop(session, None)  # re-read (with its mtime) next time
        return entry

    def _enforce(self, store, sink, payload, call, source, env, reg, ls: LiveSession, peer_port):
        from ..control import pause
        from ..control.policy import find_rules_file

        if env is None:
            env = {k: os.environ[k] for k in registry.ENV_KEYS if os.environ.get(k)}
        cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
        rules_file = find_rules_file(cwd, env)
        if not rules_file and not pause.is_paused(store, call["session"]):
            return None
        from ..control.enforce import enforce

        policy = None
        if rules_file:
            policy = self._policy(rules_file, store)
            ls.policy, ls.policy_key, ls.rules_file = policy, rules_file, rules_file

        def agent_pid():
            pid = None
            if peer_port and self.port:
                from .peers import pid_of_peer

                pid = pid_of_peer(peer_port, self.port)
            return pid or (reg or {}).get("agent_pid")

        with ls.enforce_lock:
            verdict = enforce(store, _DecisionTap(sink, ls, self.live), payload, call, source,
                              payload.get("hook_event_name") or "PreToolUse", rules_file,
                              memory=ls.rules, policy=policy)
            verdict.finish(agent_pid=agent_pid, kick=self._kick_sender)  # fails open: the answer stands
            return verdict.out

    def _kick_sender(self, notifier) -> None:
        """Alerts the rules queued: delivered by a thread of ours (a command hook
        forks a sender; a daemon with threads must not fork)."""
        try:
            from ..notify import queue
            from ..notify.background import SenderThread

            keys = tuple(t["key"] for t in notifier.targets)
            if not keys or not (notifier.queued or queue.has_pending(notifier.state_dir, list(keys))):
                return
            old = None
            with self._lock:
                sender = self._senders.get((notifier.state_dir, keys))
                if sender is None:
                    sender = self._senders[(notifier.state_dir, keys)] = SenderThread(notifier.state_dir,
                                                                                      notifier.targets)
                    if len(self._senders) > MAX_SENDERS:
                        _, old = self._senders.popitem(last=False)
            sender.kick()
            if old is not None:
                old.stop()
        except Exception as e:  # notifications fail open
            sys.stderr.write(f"agent-strace daemon: alert not sent: {type(e).__name__}: {e}\n")

    def _policy(self, rules_file: str, store: Store):
        """The parsed rules file, kept in memory while the file is unchanged;
        None when it cannot be read or parsed (enforce() then denies, saying why)."""
        from ..control.policy import PolicyError, load

        try:
            st = os.stat(rules_file)
        except OSError:
            return None
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        cached = self._policies.get(rules_file)
        if cached and cached[0] == key:
            return cached[1]
        try:
            policy = load(rules_file, store.subdir("state"))
        except PolicyError:
            return None
        if len(self._policies) > MAX_SINKS:
            self._policies.clear()
        self._policies[rules_file] = (key, policy)
        return policy

    def _schedule_import(self, store, sink, payload, session, name, ls: LiveSession) -> None:
        sub = payload.get("agent_transcript_path")
        subagent = (sub, payload.get("agent_id")) if isinstance(sub, str) else None
        final = name == "SessionEnd"
        on_done = (lambda: registry.forget(self.files, session)) if final else None
        before = []
        if name in GIT_EVENTS:  # what changed in the repository: git runs after the answer, not before
            from ..capture.git_info import git_events

            cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
            before.append(lambda: sink.emit_many(git_events(store, session, cwd, GIT_EVENTS[name])))
        self.recoverer.schedule(Job(store, sink, session, payload.get("transcript_path"), subagent,
                                    final=final, at=name, on_done=on_done, before=before))

    def on_recovered(self, job: Job, result: dict) -> None:
        if result["recovered"]:
            ls = self.live.session(job.store.root, job.session)
            ls.recovered += result["recovered"]
            self.live.changed(ls)
            sys.stderr.write(f"agent-strace daemon: recovered {result['recovered']} event(s) of {job.session} "
                             f"from {', '.join(result['from'])} at {job.at}\n")

    def open_registered(self, entry: dict):
        store = self.store_for(entry.get("cwd"), entry.get("env") or {}, entry)
        return store, self.sink_for(store)
