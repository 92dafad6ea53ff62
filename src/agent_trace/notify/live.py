"""Alerts from a stream of events: ``watch`` (sessions followed live) and
the collector (``agent-strace server``: every client's sessions).

:class:`LiveNotifier` turns events into alerts with the same ids the hooks
give them, so a decision seen by the hook and by ``watch`` (or by the
collector) is queued once per target.  Triggers:

* a ``rule.decision`` event: denied, stopped, killed, paused;
* the session's real usage passing a threshold of ``[budget]``;
* ``session.end`` (session_ended; session_failed when a rule stopped or killed
  it), a turn that ended on an error (session_failed);
* the collector: a user's or a project's spend per UTC day passing a
  threshold of ``[daily_budget]`` (team-wide);
* ``watch``: its own kill, and an agent that exits with a failure.

For the collector, :meth:`LiveNotifier.events_accepted` is the one entry
point: call it with the events an ingest just stored (new ones only), from
any storage backend.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict

from .. import event as ev
from ..analysis.summary import SessionSummary, prices
from . import alerts, queue

MAX_SESSIONS = 1024  # summaries kept in memory (least recently used dropped)
DAYS_KEPT = 3


def _plausible(e: dict) -> bool:
    """The fields the summary relies on have their types (a client may send
    anything the ingest accepts; one odd event must not poison a session's
    totals)."""
    return isinstance(e.get("ts") or "", str) and isinstance(e.get("model") or "", str) \
        and isinstance(e.get("usage") or {}, dict) and isinstance(e.get("tool") or "", str) \
        and all(isinstance(v, int) and not isinstance(v, bool) for v in (e.get("usage") or {}).values())


class LiveNotifier:
    def __init__(self, state_dir: str, targets: list[dict], *, budget: dict | None = None,
                 daily_budget: dict | None = None, trace_dir: str | None = None, summary_of=None,
                 start_sender: bool = True):
        """``summary_of(session)``: the stored session's summary (for the
        collector after a restart; ``None`` starts sessions from their next
        event).  ``budget``: ``{"usd", "tokens"}`` per session."""
        self.state_dir = state_dir
        self.targets = targets
        self.budget = {k: (budget or {}).get(k) for k in ("usd", "tokens")} if budget else None
        self.daily = daily_budget
        self.trace_dir = trace_dir
        self.summary_of = summary_of
        self._sessions: OrderedDict[str, SessionSummary] = OrderedDict()
        self._lock = threading.Lock()
        self._daily_path = os.path.join(queue.notify_dir(state_dir), "daily.json")
        self._day_totals = self._load_daily() if daily_budget else {}
        self.skipped = 0  # events that could not be looked at (malformed)
        self.sender = None
        if start_sender and targets:
            from .background import SenderThread

            self.sender = SenderThread(state_dir, targets)

    # -- inputs ------------------------------------------------------------------
    def feed(self, e: dict, summary: SessionSummary) -> None:
        """One event, ``summary`` already fed with it (``watch``)."""
        out = self._event_alerts(e, summary)
        if e.get("type") == ev.LLM_RESPONSE:
            out += self._budget_alerts(e["session"], summary)
        self._queue(out)

    def events_accepted(self, events: list[dict], user: str | None = None) -> None:
        """The collector's hook: ``events`` were just stored (duplicates
        already dropped).  ``user``: who sent them, when the server knows
        (a named token); else the session's git ``user.email``."""
        if not events:
            return
        out: list[dict] = []
        with self._lock:
            by_session: dict[str, list[dict]] = {}
            for e in events:
                if isinstance(e.get("session"), str):
                    by_session.setdefault(e["session"], []).append(e)
            daily_changed = False
            for session, group in by_session.items():
                s, fresh = self._summary(session)
                for e in group:
                    if not _plausible(e):
                        self.skipped += 1
                        continue
                    try:  # a client's odd event costs its own alert, never the batch's
                        if not fresh:
                            s.add(e)
                        out += self._event_alerts(e, s)
                    except Exception:
                        self.skipped += 1
                if any(e.get("type") == ev.LLM_RESPONSE for e in group):
                    out += self._budget_alerts(session, s)
                    if self.daily:
                        out += self._daily_alerts(session, s, group, user)
                        daily_changed = True
            if daily_changed:
                self._save_daily()
        self._queue(out)

    def killed(self, kill_event: dict, summary: SessionSummary | None) -> None:
        """``watch`` killed the agent (its ``rule.decision`` event)."""
        self._queue(self._event_alerts(kill_event, summary or SessionSummary(kill_event["session"])))

    def agent_failed(self, session: str | None, why: str, summary: SessionSummary | None) -> None:
        session = session or "watch"
        self._queue([alerts.session_failed(t, session, why, project=alerts.project_of(summary),
                                           summary=summary, trace_dir=self.trace_dir,
                                           agent=summary.agent if summary else None)
                     for t in self.targets if "session_failed" in t["on"]])

    # -- triggers ----------------------------------------------------------------
    def _event_alerts(self, e: dict, s: SessionSummary) -> list[dict]:
        t = e.get("type")
        out = []
        if t == ev.RULE_DECISION and e.get("status") in ("denied", "stopped", "killed", "paused"):
            for tg in self.targets:
                if e["status"] in tg["on"]:
                    out.append(alerts.decision(tg, e, project=alerts.project_of(s), summary=s,
                                               trace_dir=self.trace_dir))
        elif t == ev.SESSION_END or (t == ev.TURN_END and e.get("status") == ev.ERROR):
            failed = None
            if t == ev.TURN_END:
                err = e.get("error")
                failed = (err.get("message") if isinstance(err, dict) else None) or "the turn ended on an error"
            elif s.decisions.get("stopped") or s.decisions.get("killed"):
                failed = f"a rule stopped it (agent-strace postmortem {e['session']})"
            data = e.get("data") if isinstance(e.get("data"), dict) else {}
            for tg in self.targets:
                if failed and "session_failed" in tg["on"]:
                    out.append(alerts.session_failed(tg, e["session"], failed, project=alerts.project_of(s),
                                                     summary=s, trace_dir=self.trace_dir, agent=s.agent))
                if t == ev.SESSION_END and "session_ended" in tg["on"]:
                    # type-checker: narrowed by isinstance() on the same .get()
                    reason = data.get("reason")  # type: ignore[union-attr]
                    out.append(alerts.session_ended(tg, e["session"], reason=reason if isinstance(reason, str)
                                                    else None, project=alerts.project_of(s), summary=s,
                                                    trace_dir=self.trace_dir, agent=s.agent))
        return out

    def _budget_alerts(self, session: str, s: SessionSummary) -> list[dict]:
        if not self.budget:
            return []
        spent = {"usd": s.cost_usd, "tokens": sum(s.tokens.values())}
        out = []
        for tg in self.targets:
            if "budget" not in tg["on"]:
                continue
            for metric, pct, value, limit in alerts.budget_crossings(tg, spent, self.budget):
                aid = alerts.alert_id("budget", tg, session, f"{metric}:{pct:g}")
                if not queue.is_queued(self.state_dir, key=tg["key"], alert_id=aid):
                    out.append(alerts.budget(tg, session, metric, pct, value, limit, project=alerts.project_of(s),
                                             summary=s, trace_dir=self.trace_dir, agent=s.agent))
        return out

    def _daily_alerts(self, session: str, s: SessionSummary, group: list[dict], user: str | None) -> list[dict]:
        table = prices()
        names = {"user": user or (s.git or {}).get("user") or "unknown", "project": alerts.project_of(s)}
        touched = set()
        for e in group:
            if e.get("type") != ev.LLM_RESPONSE or not isinstance(e.get("usage"), dict) \
                    or not isinstance(e.get("model") or "", str):
                continue
            ts = e.get("ts")
            day = (ts if isinstance(ts, str) and len(ts) >= 10 else ev.now_iso())[:10]
            usd = table.cost(e.get("model") or "unknown", e["usage"]) or 0.0
            tokens = sum(v for v in e["usage"].values() if isinstance(v, int) and not isinstance(v, bool))
            for scope in self.daily["per"]:  # type: ignore[index]  # only called when a daily budget is configured
                k = f"{scope}\0{names[scope]}"
                rec = self._day_totals.setdefault(day, {}).setdefault(k, {"usd": 0.0, "tokens": 0})
                rec["usd"] += usd
                rec["tokens"] += tokens
                rec["last_session"] = session
                touched.add((day, scope, k))
        out = []
        for day, scope, k in sorted(touched):
            rec = self._day_totals[day][k]
            for tg in self.targets:
                if "budget" not in tg["on"]:
                    continue
                # type-checker: only called when a daily budget is configured
                for metric, pct, value, limit in alerts.budget_crossings(tg, rec, self.daily):  # type: ignore[arg-type]
                    name = k.split("\0", 1)[1]
                    out.append(alerts.daily_budget(tg, scope, name, day, metric, pct, value, limit,
                                                   last_session=session, trace_dir=self.trace_dir))
        return out

    # -- state -------------------------------------------------------------------
    def _summary(self, session: str) -> tuple[SessionSummary, bool]:
        """(summary, True when it was just loaded from the store with this
        batch already in it)."""
        s = self._sessions.get(session)
        if s is not None:
            self._sessions.move_to_end(session)
            return s, False
        fresh = False
        if self.summary_of is not None:
            try:
                s = self.summary_of(session)
                fresh = s is not None
            except Exception:
                s = None
        if s is None:
            s = SessionSummary(session)
        self._sessions[session] = s
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return s, fresh

    def _load_daily(self) -> dict:
        try:
            with open(self._daily_path, encoding="utf-8") as f:
                data = json.load(f)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save_daily(self) -> None:
        for day in sorted(self._day_totals)[:-DAYS_KEPT]:
            del self._day_totals[day]
        try:
            os.makedirs(os.path.dirname(self._daily_path), exist_ok=True)
            tmp = f"{self._daily_path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self._day_totals, f)
            os.replace(tmp, self._daily_path)
        except OSError:
            pass

    def _queue(self, items: list[dict]) -> None:
        if not items:
            return
        try:
            queued = queue.enqueue(self.state_dir, items)
        except OSError as e:
            import sys

            sys.stderr.write(f"agent-strace notify: alert not queued: {e.strerror or e}\n")
            return
        if queued and self.sender is not None:
            self.sender.kick()

    def close(self, timeout: float = 5.0) -> bool:
        """Deliver what is due (waiting up to ``timeout`` for retries), then stop."""
        if self.sender is None:
            return True
        done = self.sender.drain(timeout)
        self.sender.stop()
        if not done:
            import sys

            sys.stderr.write(f"agent-strace notify: alerts still queued in {queue.notify_dir(self.state_dir)}; "
                             "`agent-strace notify flush` (or the next hook) sends them\n")
        return done
