"""Writing received events into the server's store exactly once.

Clients re-send a batch whenever they did not see it acknowledged, so the
server keeps, per session file, the set of event ids the file holds.  The set
is built by reading the file the first time the session is touched (so a
restarted server knows everything already stored) and is brought up to date
from the file's tail whenever something else appended to it.  Each received
event goes through the same encoder as local capture (redaction, field caps),
so a client that did not redact cannot put a secret on the server's disk.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict

from ..event.encode import encode_event
from ..event.fastjson import loads
from ..event.validate import problem
from ..store.paths import Store
from ..store.writer import append_lines

_ID = re.compile(rb'"id":"((?:[^"\\]|\\.)*)"')
MAX_OPEN_SESSIONS = 1024


class _SessionIds:
    __slots__ = ("ids", "size", "lock")

    def __init__(self):
        self.ids: set[str] = set()
        self.size = 0  # bytes of the file already folded into ``ids``
        self.lock = threading.Lock()


class Ingestor:
    def __init__(self, store: Store, on_accepted=None):
        """``on_accepted(events)``: called with the events each batch newly
        stored (per session, in order, while that session is locked), e.g.
        :meth:`agent_trace.notify.live.LiveNotifier.events_accepted`."""
        self.store = store
        self.on_accepted = on_accepted
        self.store.ensure()
        self._sessions: OrderedDict[str, _SessionIds] = OrderedDict()
        self._lock = threading.Lock()

    def _state(self, path: str) -> _SessionIds:
        with self._lock:
            st = self._sessions.get(path)
            if st is None:
                st = self._sessions[path] = _SessionIds()
                while len(self._sessions) > MAX_OPEN_SESSIONS:
                    self._sessions.popitem(last=False)
            else:
                self._sessions.move_to_end(path)
            return st

    @staticmethod
    def _catch_up(st: _SessionIds, path: str) -> None:
        try:
            size = os.path.getsize(path)
        except FileNotFoundError:
            st.size = 0
            return
        if size < st.size:  # replaced or truncated: start over
            st.ids.clear()
            st.size = 0
        if size == st.size:
            return
        with open(path, "rb") as f:
            f.seek(st.size)
            data = f.read(size - st.size)
        end = data.rfind(b"\n") + 1  # an unfinished line is read next time
        for line in data[:end].splitlines():
            m = _ID.search(line, 0, 200)
            if m is not None and line.startswith(b'{"v":'):
                st.ids.add(m.group(1).decode("utf-8", "replace"))
                continue
            try:
                obj = loads(line)
            except (ValueError, RecursionError):
                continue  # a torn or corrupt line holds no event
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                st.ids.add(obj["id"])
        st.size += end

    def add_events(self, events: list[dict]) -> dict:
        """Store ``events``; one that is not a usable event (see
        :mod:`agent_trace.event.validate`) is rejected and counted.  Each is
        encoded (sanitized, capped, redacted: the session id too) before its
        file is chosen."""
        counts = {"accepted": 0, "duplicates": 0, "rejected": 0}
        by_path: dict[str, list[tuple[dict, bytes]]] = {}
        for e in events:
            if problem(e) is not None:
                counts["rejected"] += 1
                continue
            try:
                line = encode_event(e)
            except (ValueError, TypeError, RecursionError):  # not JSON-serialisable: refuse it, keep the rest
                counts["rejected"] += 1
                continue
            by_path.setdefault(self.store.path_for(e["session"]), []).append((e, line))
        for path, group in by_path.items():
            st = self._state(path)
            with st.lock:
                self._catch_up(st, path)
                lines, accepted = [], []
                for e, line in group:
                    if e["id"] in st.ids:
                        counts["duplicates"] += 1
                        continue
                    st.ids.add(e["id"])
                    lines.append(line)
                    accepted.append(e)  # encode_event redacted and capped it in place: what is stored
                if lines:
                    data = b"".join(lines)
                    before = st.size
                    append_lines(path, data)
                    if os.path.getsize(path) == before + len(data):
                        st.size = before + len(data)  # nobody else wrote: no need to re-read ours
                    counts["accepted"] += len(lines)
                    if self.on_accepted is not None:
                        try:
                            self.on_accepted(accepted)
                        except Exception as exc:  # a notification problem never fails an ingest
                            import sys

                            sys.stderr.write(f"agent-strace server: notification: {type(exc).__name__}: {exc}\n")
        return counts

    def add_lines(self, body: bytes) -> dict:
        """Store a JSONL batch; lines that are not events are counted as
        rejected and the rest is kept."""
        events, rejected = parse_batch(body)
        counts = self.add_events(events)
        counts["rejected"] += rejected
        return counts


def parse_batch(body: bytes) -> tuple[list[dict], int]:
    """The events of a JSONL batch, and how many lines were not usable events
    (torn, binary, not an object, wrong-typed fields: :mod:`agent_trace.event.validate`)."""
    events, rejected = [], 0
    for line in body.split(b"\n"):
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except (ValueError, RecursionError):
            rejected += 1
            continue
        if problem(obj) is not None:
            rejected += 1
            continue
        events.append(obj)
    return events, rejected


def stamp_sender(events: list[dict], sender: str | None) -> None:
    """Attribute ``events`` to the token that delivered them: ``sender`` is
    the collector's word, never the client's."""
    for e in events:
        if sender:
            e["sender"] = sender
        else:
            e.pop("sender", None)
