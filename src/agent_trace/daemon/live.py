"""What the daemon keeps in memory, bounded whatever it is fed.

* one :class:`LiveSession` per (store, session) recently heard from, at most
  :data:`MAX_SESSIONS`, and together holding at most :data:`MAX_HELD_EVENTS`
  events' worth of state (a session's summary grows with its events up to
  its id window, ~200 bytes an event: 128 long sessions would hold ~30 MiB,
  and the daemon's memory would climb until they were all there).  Least
  recently used ones are dropped; their state is rebuilt from the session
  file if they come back;
* each holds the rules engine's state (:class:`~agent_trace.control.engine.MemoryState`:
  offset into the session file, the shared summary, failure streak, loop
  state), so a PreToolUse reads only what was appended since the last one,
  and a reader's question is answered from the same state;
* a change feed: a sequence number bumped on every event, the last
  :data:`MAX_CHANGES` changes, and a condition readers wait on (``watch``,
  ``ui``), so nobody polls.

The summary comes from the session file (which every source writes: hooks,
the wire proxy, MCP proxies, transcript import), so the daemon's answer and
a reader's own answer from the file are the same numbers.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from ..analysis.summary import RECENT_IDS
from ..control.engine import MemoryState
from ..store.paths import Store

MAX_SESSIONS = 128
MAX_HELD_EVENTS = 16 * RECENT_IDS  # ~13 MiB of summaries, whatever the sessions' lengths
MAX_CHANGES = 1024
# The held total is a sum over the live sessions: taken when a session is new
# and every this many payloads, not on each one.
HELD_CHECK_EVERY = 32


class LiveSession:
    __slots__ = ("root", "session", "rules", "enforce_lock", "policy", "policy_key", "rules_file",
                 "hooks", "last_hook", "last_hook_ts", "decision", "recovered")

    def __init__(self, root: str, session: str):
        self.root, self.session = root, session
        self.rules = MemoryState()
        self.enforce_lock = threading.Lock()  # one PreToolUse of a session at a time (pause waits in it)
        self.policy: dict | None = None  # the policy last enforced, so readers catch up with the same state
        self.policy_key: str | None = None
        self.rules_file: str | None = None
        self.hooks = 0
        self.last_hook: str | None = None
        self.last_hook_ts: float | None = None
        self.decision: dict | None = None
        self.recovered = 0

    def weight(self) -> int:
        """Events' worth of state held (a summary's memory stops growing at
        its id window, so a longer session weighs no more than that)."""
        summary = self.rules.summary
        return 1 + (min(summary.events, RECENT_IDS) if summary is not None else 0)

    def snapshot(self) -> dict:
        """The session as readers see it, caught up to the end of its file."""
        store = Store(self.root)
        with self.rules.lock:
            self.rules.catch_up(store, self.session, self.policy, self.policy_key)
            summary = self.rules.summary.to_dict()  # type: ignore[union-attr]  # catch_up set it
            fail_run = self.rules.st["fail_run"]  # type: ignore[index]  # catch_up set it
        out = {"session": self.session, "store": self.root, "summary": summary,
               "hooks": self.hooks, "last_hook": self.last_hook, "last_hook_at": self.last_hook_ts,
               "rules_file": self.rules_file, "fail_run": fail_run, "decision": self.decision,
               "recovered": self.recovered}
        budget = (self.policy or {}).get("budget")
        if budget:
            out["budget"] = {"usd": budget.get("usd"), "tokens": budget.get("tokens"),
                             "spent_usd": summary["cost_usd"], "tokens_used": sum(summary["tokens"].values())}
        return out


class Live:
    def __init__(self, max_sessions: int = MAX_SESSIONS, max_held: int = MAX_HELD_EVENTS):
        self.max_sessions, self.max_held = max_sessions, max_held
        self._asked = 0
        self._sessions: OrderedDict[tuple[str, str], LiveSession] = OrderedDict()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._changes: deque = deque(maxlen=MAX_CHANGES)
        self.seq = 0
        self.received = 0  # hook payloads taken in
        self.started = time.time()

    def session(self, root: str, session: str) -> LiveSession:
        key = (root, session)
        with self._lock:
            ls = self._sessions.get(key)
            self._asked += 1
            if ls is None:
                ls = self._sessions[key] = LiveSession(root, session)
                while len(self._sessions) > self.max_sessions:
                    self._sessions.popitem(last=False)
                self._evict_held()
            else:
                self._sessions.move_to_end(key)
                if self._asked % HELD_CHECK_EVERY == 0:
                    self._evict_held()
            return ls

    def _evict_held(self) -> None:  # with _lock held; never the session just asked for (the newest)
        sessions = self._sessions
        held = self._held()
        while held > self.max_held and len(sessions) > 1:
            _, old = sessions.popitem(last=False)
            held -= old.weight()

    def held(self) -> int:
        """Events' worth of state the live sessions hold (see :data:`MAX_HELD_EVENTS`)."""
        with self._lock:
            return self._held()

    def _held(self) -> int:  # with _lock held
        return sum(ls.weight() for ls in self._sessions.values())

    def find(self, session: str, root: str | None = None) -> LiveSession | None:
        with self._lock:
            for (r, s), ls in reversed(self._sessions.items()):
                if s == session and (root is None or r == root):
                    return ls
        return None

    def sessions(self, root: str | None = None) -> list[LiveSession]:
        with self._lock:
            return [ls for (r, _), ls in reversed(self._sessions.items()) if root is None or r == root]

    def heard(self, ls: LiveSession, hook_name: str | None) -> None:
        """A hook payload for ``ls`` was taken in."""
        now = time.time()
        with self._lock:
            ls.hooks += 1
            ls.last_hook, ls.last_hook_ts = hook_name, now
            self.received += 1
            self._bump(ls)

    def changed(self, ls: LiveSession) -> None:
        with self._lock:
            self._bump(ls)

    def _bump(self, ls: LiveSession) -> None:  # with _lock held
        self.seq += 1
        self._changes.append((self.seq, ls.root, ls.session))
        self._changed.notify_all()

    def changes(self, since: int, root: str | None = None, timeout: float = 0.0) -> dict:
        """Sessions changed after ``since`` (waiting up to ``timeout`` for one).
        ``complete`` is False when the feed no longer reaches back to ``since``."""
        end = time.monotonic() + max(0.0, timeout)
        with self._lock:
            while True:
                hits = [(r, s) for q, r, s in self._changes if q > since and (root is None or r == root)]
                left = end - time.monotonic()
                if hits or left <= 0:
                    break
                self._changed.wait(left)
            oldest = self._changes[0][0] if self._changes else self.seq + 1
            seen, sessions = set(), []
            for r, s in hits:
                if (r, s) not in seen:
                    seen.add((r, s))
                    sessions.append({"store": r, "session": s})
            return {"seq": self.seq, "sessions": sessions, "complete": since + 1 >= oldest or since >= self.seq}
