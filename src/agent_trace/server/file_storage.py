"""The file backend: the ordinary store (one JSONL file per session), as
``agent-strace server`` has always kept it; every CLI command reads it.

Queries read the files: the sessions list through the ``list`` index, search
by scanning sessions newest first, trends from per-session rollups cached in
memory and brought up to date from each file's new bytes only.  Right for
one collector on one machine; for more, use PostgreSQL (``docs/server.md``).
"""

from __future__ import annotations

import os
import threading

from ..analysis import search_text, trends
from ..analysis.compare import compare
from ..analysis.session_index import list_sessions
from ..analysis.session_view import status_of
from ..event import iso_to_epoch
from ..store.paths import Store
from ..store.reader import ReadStats, iter_events
from . import api
from .ingest import Ingestor, stamp_sender
from .query_params import SessionFilters, TrendParams, iso, limit
from .tokens import FileTokens


class FileStorage:
    kind = "files"

    def __init__(self, store: Store, *, ingest: bool = True):
        self.store = store
        self.where = store.root
        self.ingestor = Ingestor(store, self._accepted) if ingest else None
        self.on_accepted = None  # (events, sender): the collector's notifier
        self.tokens = FileTokens(store.root)
        self._rollups: dict[str, tuple] = {}  # file name -> (ident, offset, Rollup)
        self._rollup_lock = threading.Lock()

    # -- ingest ---------------------------------------------------------------
    def ingest(self, events: list[dict], sender: str | None) -> dict:
        stamp_sender(events, sender)
        # type-checker: the collector ingests only into a storage built with ingest=True
        return self.ingestor.add_events(events)  # type: ignore[union-attr]

    def _accepted(self, events: list[dict]) -> None:
        if self.on_accepted is not None and events:
            self.on_accepted(events, events[0].get("sender"))  # one batch, one sender (stamp_sender)

    def waiter(self, interval: float):
        """``wait(timeout)``: returns early when the store changes (the daemon's change feed)."""
        from ..daemon.client import ChangeWaiter

        return ChangeWaiter(self.store.root, interval)

    # -- reads ----------------------------------------------------------------
    def sessions(self, params: dict) -> dict:
        return api.sessions(self.store, params)

    def session(self, ref: str) -> dict:
        return api.session(self.store, ref)

    def events_page(self, ref: str, cursor: int, limit_: int) -> dict:
        return api.events_page(self.store, ref, cursor, limit_)

    def follower(self, ref: str):
        """``poll(cursor)`` -> a page of new events, or None."""
        path = self.store.resolve(ref)

        def poll(cursor: int):
            try:
                size = os.path.getsize(path)
            except OSError:
                return None
            if size <= cursor:
                return None
            page = api.events_page(self.store, ref, cursor, api.PAGE)
            return page if page["next"] > cursor else None

        return poll

    def signature(self) -> tuple:
        return api.store_signature(self.store)

    def compare(self, a: str, b: str, tolerance: float) -> dict:
        return compare(self.store.resolve(a), self.store.resolve(b), tolerance)

    def _matching_rows(self, f: SessionFilters) -> list[dict]:
        rows = []
        for r in list_sessions(self.store):
            r["project"] = trends.project_of(r.get("cwd"))
            if f.agent and r.get("agent") != f.agent:
                continue
            if f.user and f.user not in (r.get("senders") or []):
                continue
            if f.project and r["project"] != f.project:
                continue
            # type-checker: iso() of a number (not None) is a str
            if f.since is not None and (r.get("last") or "") < iso(f.since):  # type: ignore[operator]
                continue
            if f.until is not None and (r.get("started") or "") >= iso(f.until):  # type: ignore[operator]
                continue
            rows.append(r)
        return rows

    def search(self, params: dict) -> dict:
        """Events whose text matches, newest sessions first (a scan: the
        database backend answers from an index)."""
        terms = search_text.parse_query(params.get("q") or "")
        f = SessionFilters({**params, "q": ""})
        kind = params.get("type") or ""
        n = limit(params.get("limit"), 50, 500)
        hits, scanned = [], 0
        if terms:
            for r in self._matching_rows(f):
                found = []
                for end, e in iter_events(r["file"], positions=True):
                    scanned += 1
                    if kind and e.get("type") != kind:
                        continue
                    ts = e.get("ts") or ""
                    # type-checker: iso() of a number (not None) is a str
                    if (f.since is not None and ts < iso(f.since)) or (f.until is not None and ts >= iso(f.until)):  # type: ignore[operator]
                        continue
                    text = search_text.event_text(e)
                    if text and search_text.matches(search_text.words(text), terms):
                        found.append(hit(r, e, end, text, terms))
                hits.extend(reversed(found))
                if len(hits) >= n:
                    break
        hits.sort(key=lambda h: h["ts"] or "", reverse=True)
        return {"q": params.get("q") or "", "terms": terms, "hits": hits[:n], "more": len(hits) > n,
                "scanned_events": scanned}

    def _rollup(self, path: str, name: str) -> trends.Rollup:
        st = os.stat(path)
        ident = (st.st_ino, st.st_dev)
        with self._rollup_lock:
            cached = self._rollups.get(name)
        if cached and cached[0] == ident and cached[1] == st.st_size:
            return cached[2]
        if cached and cached[0] == ident and cached[1] < st.st_size:
            roll, start = trends.Rollup.from_dict(cached[2].to_dict()), cached[1]
        else:
            roll, start = trends.Rollup(), 0
        stats = ReadStats()
        for e in iter_events(path, stats, start=start):
            roll.add(e)
        with self._rollup_lock:
            self._rollups[name] = (ident, stats.end, roll)
        return roll

    def trends(self, params: dict) -> dict:
        p = TrendParams(params)
        agg: dict[tuple, list] = {}
        day_sessions: dict[str, set] = {}
        seen = set()
        for entry in self.store.session_files():
            seen.add(entry.name)
            try:
                roll = self._rollup(entry.path, entry.name)
            except (FileNotFoundError, ValueError):
                continue
            s = roll.summary
            project, agent = trends.project_of(s.cwd), s.agent
            if (p.project and project != p.project) or (p.agent and agent != p.agent):
                continue
            for bucket, model, sender, *counts in roll.rows():
                if not (p.start <= bucket < p.end) or (p.user and sender != p.user):
                    continue
                day = trends.day_of(bucket, p.tz)
                key = {"user": sender, "project": project, "model": model, "agent": agent}[p.by]
                row = agg.get((day, key, model))
                if row is None:
                    row = agg[(day, key, model)] = [0] * len(trends.COUNTS)
                for i, v in enumerate(counts):
                    row[i] += v
                day_sessions.setdefault(day, set()).add(entry.name)
        with self._rollup_lock:
            for name in set(self._rollups) - seen:
                del self._rollups[name]
        return trends.report([(*k, *v) for k, v in agg.items()], trends.day_range(p.since_date, p.until_date), p.by,
                             {d: len(s) for d, s in day_sessions.items()}, **p.meta())

    # -- tokens ---------------------------------------------------------------
    def token_add(self, name: str) -> str:
        return self.tokens.add(name)

    def token_list(self) -> list[dict]:
        return self.tokens.list()

    def token_revoke(self, name: str) -> bool:
        return self.tokens.revoke(name)

    def active_tokens(self, fresh: bool = False) -> dict[str, str]:
        # a read-only dashboard (``ui``, loopback) is the owner's own view
        return self.tokens.active(fresh) if self.ingestor is not None else {}

    # -- maintenance ----------------------------------------------------------
    def retain(self, cutoff: float) -> int:
        """Delete sessions whose last event is older than ``cutoff``.  A file
        is unlinked under the writers' lock; a writer that opened it before
        re-opens a new one (``store.writer``)."""
        import fcntl

        deleted = 0
        for r in list_sessions(self.store):
            last = r.get("last")
            try:
                if not last or iso_to_epoch(last) >= cutoff:
                    continue
            except ValueError:
                continue
            path = r["file"]
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_size == r["bytes"]:  # nothing new arrived since it was summarised
                    os.unlink(path)
                    deleted += 1
            finally:
                os.close(fd)
        return deleted

    def close(self) -> None:
        pass


def hit(row: dict, e: dict, cursor: int, text: str, terms) -> dict:
    """One search result (both backends)."""
    return {"session": e.get("session"), "cursor": cursor, "id": e.get("id"), "ts": e.get("ts"),
            "type": e.get("type"), "tool": e.get("tool"), "sender": e.get("sender"),
            "agent": row.get("agent"), "title": row.get("title"), "project": row.get("project"),
            "status": status_of(row) if "decisions" in row else row.get("status"),
            "snippet": search_text.snippet(text, terms)}


