"""Notifications from the hook: queue an alert, fork a sender, return.

The hook's added work when ``[[notify]]`` is configured: a few comparisons
per PreToolUse (budget thresholds against the summary the rules engine
already keeps), and only when something happened, building the alert,
creating its ``queued`` marker, one append, and a fork.  The network is never
touched on the agent's path.  Everything here fails open: a notification
problem is one line on stderr and never changes a decision.
"""

from __future__ import annotations

import os
import sys

from . import alerts, queue


def _say(msg: str) -> None:
    try:
        sys.stderr.write(f"agent-strace notify: {msg}\n")
    except Exception:
        pass


class HookNotifier:
    def __init__(self, store, policy: dict, cwd: str | None = None):
        self.store = store
        self.policy = policy
        self.targets: list[dict] = policy.get("notify") or []
        self.state_dir = store.subdir("state")
        self.cwd = cwd
        root = policy.get("root")
        self.project = os.path.basename(root.rstrip("/")) if isinstance(root, str) and root.strip("/") else \
            (os.path.basename(cwd.rstrip("/")) if cwd else "-")
        default = os.path.join(os.path.abspath(cwd or os.getcwd()), ".agent-traces")
        self.trace_dir = None if os.path.abspath(store.root) == default else store.root
        self.queued = 0

    def _project(self, summary) -> str:
        return alerts.project_of(summary, self.project) if summary is not None else self.project

    def _queue(self, items: list[dict]) -> None:
        if items:
            self.queued += len(queue.enqueue(self.state_dir, items))

    def decision(self, event: dict, summary=None) -> None:
        """A ``rule.decision`` event the hook just recorded."""
        try:
            status = event.get("status")
            self._queue([alerts.decision(t, event, project=self._project(summary), summary=summary,
                                         trace_dir=self.trace_dir)
                         for t in self.targets if status in t["on"]])
        except Exception as e:
            _say(f"alert not queued: {type(e).__name__}: {e}")

    def budget(self, session: str, summary) -> None:
        """Thresholds of ``[budget]`` that the session's real usage reached."""
        b = self.policy.get("budget")
        if not b or summary is None:
            return
        try:
            spent = {"usd": summary.cost_usd, "tokens": sum(summary.tokens.values())}
            out = []
            for t in self.targets:
                if "budget" not in t["on"]:
                    continue
                for metric, pct, value, limit in alerts.budget_crossings(t, spent, b):
                    aid = alerts.alert_id("budget", t, session, f"{metric}:{pct:g}")
                    if queue.is_queued(self.state_dir, key=t["key"], alert_id=aid):
                        continue  # the common case past a threshold: one stat, nothing built
                    out.append(alerts.budget(t, session, metric, pct, value, limit,
                                             project=self._project(summary), summary=summary,
                                             trace_dir=self.trace_dir, agent=summary.agent))
            self._queue(out)
        except Exception as e:
            _say(f"alert not queued: {type(e).__name__}: {e}")

    def session_event(self, session: str, name: str, payload: dict, summary) -> None:
        """SessionEnd (session_ended, and session_failed when a rule stopped
        or killed it) and StopFailure (session_failed: the turn ended on an
        API error)."""
        try:
            out = []
            project = self._project(summary)
            failed = None
            if name == "StopFailure":
                err = payload.get("error") or payload.get("reason") or "the turn ended on an error"
                failed = err if isinstance(err, str) else str(err)
            elif summary is not None and (summary.decisions.get("stopped") or summary.decisions.get("killed")):
                failed = "a rule stopped it (agent-strace postmortem " + session + ")"
            for t in self.targets:
                if failed and "session_failed" in t["on"]:
                    out.append(alerts.session_failed(t, session, failed, project=project, summary=summary,
                                                     trace_dir=self.trace_dir, agent=summary and summary.agent))
                if name == "SessionEnd" and "session_ended" in t["on"]:
                    reason = payload.get("reason")
                    out.append(alerts.session_ended(t, session, reason=reason if isinstance(reason, str) else None,
                                                    project=project, summary=summary, trace_dir=self.trace_dir,
                                                    agent=summary and summary.agent))
            self._queue(out)
            if name == "SessionEnd":
                self.budget(session, summary)
        except Exception as e:
            _say(f"alert not queued: {type(e).__name__}: {e}")

    def kick(self) -> None:
        """Fork a sender when alerts wait (queued now, or left by an earlier
        sender that gave up for a while) and none is alive."""
        try:
            if not self.targets:
                return
            if self.queued or queue.has_pending(self.state_dir, [t["key"] for t in self.targets]):
                from .sender import send_detached

                send_detached(self.state_dir, self.targets)
        except Exception as e:
            _say(f"no sender started: {type(e).__name__}: {e}")
