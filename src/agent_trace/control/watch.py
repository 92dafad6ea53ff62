"""``watch``: a live view of sessions and a kill switch for the agent process.

Every 20 ms the watcher reads what was appended to the sessions it follows,
prints strace-style lines and keeps the shared summary per session.  Limits
(budget in money or tokens, tool calls, failure streak, time) are checked on
every event and on every tick, so a timeout fires even when nothing arrives.
On a violation it writes the decision and a post-mortem into the session,
sends SIGTERM to the agent's process group, and SIGKILL after the grace
period: the agent is gone within a second of the limit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from .. import event as ev
from ..render.strace import Formatter
from ..store.reader import ReadStats, iter_events
from ..analysis.summary import SessionSummary
from .engine import Decision

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

    from ..event import EventDict
    from ..store.paths import Store
    from ..store.sink import StoreSink
    from .policy import Policy

TICK_S = 0.02  # a new event shows within ~20 ms; a stat per followed session per tick


class Limits:
    def __init__(self, usd: float | None = None, tokens: float | None = None, tool_calls: int | None = None,
                 failures: int | None = None, timeout_s: float | None = None) -> None:
        self.usd, self.tokens, self.tool_calls = usd, tokens, tool_calls
        self.failures, self.timeout_s = failures, timeout_s

    @classmethod
    def from_policy(cls, policy: Policy, **override: float | None) -> "Limits":
        b, lim = policy.get("budget") or {}, policy.get("limits") or {}
        lm = cls(b.get("usd"), b.get("tokens"), lim.get("tool_calls"), lim.get("consecutive_failures"),
                 lim.get("duration_s"))
        for k, v in override.items():
            if v is not None:
                setattr(lm, k, v)
        return lm

    def any(self) -> bool:
        return any(v is not None for v in (self.usd, self.tokens, self.tool_calls, self.failures, self.timeout_s))

    def check(self, s: SessionSummary, fail_run: int) -> Decision | None:
        if self.usd is not None and s.cost_usd >= self.usd:
            return Decision("kill", "budget.usd", f"budget of ${self.usd:.2f} reached: ${s.cost_usd:.4f}")
        if self.tokens is not None and sum(s.tokens.values()) >= self.tokens:
            return Decision("kill", "budget.tokens", f"token budget of {self.tokens:,} reached")
        if self.tool_calls is not None and s.tool_calls > self.tool_calls:
            return Decision("kill", "limits.tool_calls", f"tool-call limit of {self.tool_calls} passed")
        if self.failures is not None and fail_run >= self.failures:
            return Decision("kill", "limits.consecutive_failures", f"{fail_run} tool calls failed in a row")
        return None


class Followed:
    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0
        self.summary = SessionSummary()
        self.fail_run = 0
        self.fmt = Formatter(color=sys.stdout.isatty())


class Watcher:
    def __init__(self, store: Store, limits: Limits, session_paths: list[str] | None = None,
                 since: float | None = None, out: TextIO = sys.stdout, quiet: bool = False) -> None:
        self.store = store
        self.limits = limits
        self.fixed = session_paths  # follow exactly these, or every session touched since `since`
        self.since = since
        self.out = out
        self.quiet = quiet
        self.followed: dict[str, Followed] = {}
        self.stats = ReadStats()
        self.started = time.monotonic()
        self.fired: Decision | None = None
        self.fired_session: str | None = None
        # called with (event, its session's summary) for every event read
        self.observer: Callable[[EventDict, SessionSummary], object] | None = None

    def newest(self) -> "Followed | None":
        """The followed session that has read the most (the agent's main one)."""
        return max(self.followed.values(), key=lambda f: f.offset) if self.followed else None

    def _discover(self) -> None:
        """New sessions at once (the folder's mtime changes), resumed ones
        within a second (a full scan, cheap enough at that rate)."""
        if self.fixed:
            paths = self.fixed
        else:
            try:
                dir_mtime = os.stat(self.store.sessions_dir).st_mtime_ns
            except OSError:
                return
            now = time.monotonic()
            if dir_mtime == getattr(self, "_dir_mtime", None) and now - getattr(self, "_scanned", 0) < 1.0:
                return
            self._dir_mtime, self._scanned = dir_mtime, now
            paths = [e.path for e in self.store.session_files() if e.stat().st_mtime >= (self.since or 0)]
        for p in paths:
            if p not in self.followed:
                self.followed[p] = Followed(p)

    def poll(self) -> Decision | None:
        """Read what is new; returns a decision when a limit is passed."""
        self._discover()
        if not self.followed and not self.quiet and not getattr(self, "_said_waiting", False):
            self._said_waiting = True
            what = "the session" if self.fixed else "a session to start or resume"
            self.out.write(f"waiting for {what} in {self.store.root} (Ctrl-C to stop)\n")
            self.out.flush()
        for f in self.followed.values():
            try:
                size = os.path.getsize(f.path)
            except OSError:
                continue
            if size <= f.offset:
                continue
            stats = ReadStats()
            for e in iter_events(f.path, stats, start=f.offset):
                f.summary.add(e)
                if self.observer is not None:
                    self.observer(e, f.summary)
                t = e.get("type")
                if t in (ev.TOOL_RESULT, ev.TOOL_ERROR):
                    f.fail_run = f.fail_run + 1 if (t == ev.TOOL_ERROR or e.get("status") == ev.ERROR) else 0
                if not self.quiet:
                    line = f.fmt.line(e)
                    if line:
                        self.out.write(line + "\n")
                d = self.limits.check(f.summary, f.fail_run)
                if d is not None and self.fired is None:
                    self.fired, self.fired_session = d, f.summary.session
            f.offset = stats.end
            if not self.quiet:
                s = f.summary
                self.out.write(f"  -- {s.events} events, {s.tool_calls} tool calls, {s.tool_errors} errors, "
                               f"{sum(s.tokens.values())} tokens, ${s.cost_usd:.4f}\n")
                self.out.flush()
        if self.fired is None and self.limits.timeout_s is not None \
                and time.monotonic() - self.started >= self.limits.timeout_s:
            self.fired = Decision("kill", "limits.duration", f"time limit of {self.limits.timeout_s:g}s reached")
            top = self.newest()
            if top is not None:
                self.fired_session = top.summary.session
        return self.fired


def stop_process(pid: int, group: bool, grace: float) -> str:
    """SIGTERM, then SIGKILL after ``grace`` seconds; returns how it ended."""
    def send(sig: int) -> bool:
        try:
            os.killpg(pid, sig) if group else os.kill(pid, sig)
            return True
        except ProcessLookupError:
            return False

    if not send(signal.SIGTERM):
        return "already gone"
    end = time.monotonic() + grace
    while time.monotonic() < end:
        if not _alive(pid):
            return "SIGTERM"
        time.sleep(0.02)
    send(signal.SIGKILL)
    return "SIGKILL"


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def record_kill(sink: StoreSink, store: Store, session: str | None, d: Decision, how: str, limit_at: float) -> None:
    if not session:
        return
    from .enforce import write_postmortem

    reason = f"{d.reason}; agent stopped by {how} {time.time() - limit_at:.2f}s after the limit"
    sink.emit(ev.make_event(ev.RULE_DECISION, session, "agent-strace", name=d.rule, status=ev.KILLED,
                            data={"action": "kill", "rule": d.rule, "reason": reason, "by": "watch", "signal": how}))
    write_postmortem(sink, store, session, Decision("kill", d.rule, reason))


def run_child(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, start_new_session=True)
