"""Importing many agent logs at once: ``agent-strace import --all`` and ``import PATH``.

Each session goes to its home (``adr/0009-history-and-known-stores.md``):
the project store that already holds it (its hooks recorded it), else the
history store; or, when the caller names a store, that store.  Per log the
work is :func:`agent_trace.capture.log_import.import_log` (incremental,
idempotent, ids shared with the hooks).

A scan table (``state/scan.json`` in the history store) remembers the size
and modification time of every log seen, so a run with nothing new touches
no log and no cursor.  Logs still being written (changed within
:data:`LIVE_S`) are imported up to their last complete message; the rest
are imported to the end (a log modified in the future, beyond that much
skew, too: it would never stop looking live).

Failures stay per file: an unreadable log, a permission error or a log of a
newer agent with entry types unknown here costs one line through ``warn``
(unknown types: one line per type, however many files have it) and the
rest is imported.
"""

from __future__ import annotations

import os
import time

from ..event.fastjson import loads
from ..store import registry
from ..store.paths import Store, file_stem, stored_id
from ..store.regular import open_regular
from ..store.writer import write_json
from . import discover, log_import
from .log_parsers import parser_for

LIVE_S = 60.0
WARN_TYPES = 20  # unknown entry types named on stderr in one run
SCAN_VERSION = 1


class Totals:
    __slots__ = ("files", "skipped_files", "failed", "bytes", "events", "sessions", "skipped", "unknown_types",
                 "stores")

    def __init__(self):
        self.files = self.skipped_files = self.failed = self.bytes = self.events = 0
        self.sessions: set[str] = set()
        self.skipped = {"corrupt": 0, "torn": 0, "unknown": 0}
        self.unknown_types: dict[str, int] = {}
        self.stores: dict[str, int] = {}  # store root -> events written there

    def add(self, other: "Totals") -> None:
        """Count in what another process of the same run did (a split import)."""
        self.files += other.files
        self.skipped_files += other.skipped_files
        self.failed += other.failed
        self.bytes += other.bytes
        self.events += other.events
        self.sessions |= other.sessions
        for mine, theirs in ((self.skipped, other.skipped), (self.unknown_types, other.unknown_types),
                             (self.stores, other.stores)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v

    def as_dict(self) -> dict:
        return {"files": self.files, "unchanged": self.skipped_files, "failed": self.failed, "bytes": self.bytes,
                "events": self.events, "sessions": len(self.sessions), "skipped": dict(self.skipped),
                "unknown_types": dict(self.unknown_types), "stores": dict(self.stores)}


PEEK_MAX = 4 << 20  # bytes of a log's first lines read for its session id, at most


def _peek_session(log: discover.LogFile) -> str | None:
    """The session a log belongs to, from its first lines (logs whose layout
    does not say: Codex rollouts, Gemini chats, older Claude subagents),
    else from a Codex rollout's name (``rollout-<time>-<uuid>.jsonl``: its
    first line, with the agent's instructions, may be longer than we read).
    Raises ``OSError`` when the log cannot be read or is no regular file
    (opened non-blocking: a FIFO never hangs the run)."""
    with open_regular(log.path) as f:
        left = PEEK_MAX
        for _ in range(50):
            raw = f.readline(left)
            left -= len(raw)
            sid = _session_in(raw)
            if sid or not raw or left <= 0:
                break
    if sid is None and log.kind == discover.CODEX:
        uuid = os.path.basename(log.path)[-len(".jsonl") - 36:-len(".jsonl")]
        if len(uuid) == 36 and uuid.count("-") == 4 and all(c in "0123456789abcdef-" for c in uuid):
            sid = uuid
    return sid


def _session_in(raw: bytes) -> str | None:
    try:
        obj = loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    payload = obj.get("payload")
    if obj.get("type") == "session_meta" and isinstance(payload, dict) and isinstance(payload.get("id"), str):
        return payload["id"]
    for k in ("sessionId", "session_id"):
        if isinstance(obj.get(k), str) and obj[k]:
            return obj[k]
    return None


def _scan_key(path: str) -> str:
    """A log's row in the scan table: its path, unless the path holds a
    secret (a log named after one): then the path redacted plus a hash."""
    from ..event.secret_scan import present_markers

    if not present_markers(path):
        return path
    from ..event.redact import sub_secrets

    safe, n = sub_secrets(path)
    if not n:
        return path
    import hashlib

    return f"{safe}#{hashlib.sha256(path.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


class HistoryImport:
    """One run over many logs.  ``writer_for(store)`` gives the function that
    appends events to a session file of that store (and keeps its indexes)."""

    def __init__(self, writer_for, *, target: Store | None = None, warn=None, progress=None,
                 now: float | None = None):
        self.writer_for = writer_for
        self.target = target
        self.warn = warn or (lambda msg: None)
        self.progress = progress
        self.now = time.time() if now is None else now
        self.history = Store(registry.history_root())
        self.scan_path = os.path.join((target or self.history).subdir("state"), "scan.json")
        self.scan = self._load_scan()
        self.scan_changed = False
        self.homes = self._homes() if target is None else {}
        self.totals = Totals()
        self._warned_types: set[str] = set()
        self._stores: dict[str, Store] = {}
        self._known: dict = {}  # what the session file written last holds (log_import's ``known``)
        self._unreadable: dict[str, str] = {}  # log path -> why its session could not be read

    # -- where sessions live ------------------------------------------------
    def _homes(self) -> dict[str, str]:
        """Session file name -> root of the project store holding it."""
        homes: dict[str, str] = {}
        for root in registry.known_roots():
            if root == self.history.root:
                continue
            for e in Store(root).session_files():
                homes.setdefault(e.name, root)
        return homes

    def home(self, session: str) -> Store:
        if self.target is not None:
            return self.target
        root = self.homes.get(file_stem(session) + ".jsonl", self.history.root)
        store = self._stores.get(root)
        if store is None:
            store = self._stores[root] = Store(root)
        return store

    # -- the scan table ------------------------------------------------------
    def _load_scan(self) -> dict:
        try:
            with open(self.scan_path, "rb") as f:
                data = loads(f.read())
            if data.get("version") == SCAN_VERSION and isinstance(data.get("logs"), dict):
                return data["logs"]
        except (OSError, ValueError, AttributeError):
            pass
        return {}

    def save_scan(self) -> None:
        if not self.scan_changed:
            return
        try:
            os.makedirs(os.path.dirname(self.scan_path), exist_ok=True)
            write_json(self.scan_path, {"version": SCAN_VERSION, "logs": self.scan})
            self.scan_changed = False
        except (OSError, ValueError) as e:
            self.warn(f"cannot save the scan table {self.scan_path}: {getattr(e, 'strerror', None) or e}")

    def unchanged(self, log: discover.LogFile) -> bool:
        """Seen before at this size and time, imported to its end, and still
        where it went."""
        seen = self.scan.get(_scan_key(log.path))
        if not (isinstance(seen, list) and len(seen) == 5 and seen[0] == log.size and seen[1] == log.mtime_ns
                and seen[4]):
            return False
        home = seen[3]
        if self.target is not None or home == self.history.root:
            return True
        return os.path.exists(Store(home).path_for(seen[2]))

    # -- the run -------------------------------------------------------------
    def run(self, logs: list[discover.LogFile], jobs: int = 1, indexes=None) -> Totals:
        """Import what is new in ``logs``.  With ``jobs`` > 1 and ``indexes``
        (the :class:`agent_trace.analysis.indexes.IndexSet` behind
        ``writer_for``), a big import is split over that many processes
        (:mod:`.history_split`)."""
        t = self.totals
        todo = [log for log in logs if not self.unchanged(log)]
        t.skipped_files = len(logs) - len(todo)
        todo.sort(key=lambda x: x.path)  # a session's own log, then its subagents'
        from . import history_split

        if indexes is not None and history_split.worth_it(todo, jobs):
            history_split.run(self, todo, jobs, indexes)
        else:
            self.run_share(todo)
        self.save_scan()
        return t

    def run_share(self, todo: list[discover.LogFile], count=None, *, save: bool = True) -> None:
        """Import ``todo`` in order; ``count(files, bytes)`` (when given)
        says how far this process got and returns the run's totals so far,
        for the progress bar; ``save``: save the scan table now and then."""
        total_bytes = sum(x.size for x in todo)
        n_total = len(todo)
        done_bytes = 0
        last_save = time.monotonic()
        for i, log in enumerate(todo):
            self._one(log)
            done_bytes += log.size
            files, got = count(i + 1, done_bytes) if count else (i + 1, done_bytes)
            if self.progress:
                self.progress(files, count.files if count else n_total, got,
                              count.bytes if count else total_bytes)
            if save and time.monotonic() - last_save > 30:
                self.save_scan()
                last_save = time.monotonic()

    def warn_type(self, name: str, msg: str) -> None:
        """Say ``msg`` about an unknown entry type, once per type in the run,
        for the first :data:`WARN_TYPES` types; then one line says more are
        skipped (hostile logs can hold thousands of made-up types)."""
        if name in self._warned_types or len(self._warned_types) > WARN_TYPES:
            return
        self._warned_types.add(name)
        if len(self._warned_types) > WARN_TYPES:
            self.warn("more entry types not known to this version of agent-strace: their lines are skipped "
                      "and counted (import --json lists them), not named here")
            return
        self.warn(msg)

    def session_of(self, log: discover.LogFile) -> str | None:
        if log.session is None and log.path not in self._unreadable:
            try:
                log.session = _peek_session(log)  # once: a split import asks before it starts
            except OSError as e:
                self._unreadable[log.path] = e.strerror or str(e)
        session = log.session
        if session is None and log.kind == discover.CLAUDE and log.agent_id is None:
            session = os.path.basename(log.path)[: -len(".jsonl")]
        return session

    def _one(self, log: discover.LogFile) -> None:
        t = self.totals
        session = self.session_of(log)
        if session is None:
            why = self._unreadable.get(log.path)
            self.warn(f"{log.path}: {why}: skipped" if why else f"{log.path}: no session id found in it: skipped")
            t.failed += 1
            return
        store = self.home(session)
        age = self.now - log.mtime_ns / 1e9
        final = not -LIVE_S <= age <= LIVE_S  # modified in the future (a wrong clock, a restored backup): not live
        try:
            counts = log_import.import_log(store, None, log.path, session, log.agent_id, final=final,
                                           write=self.writer_for(store), parse=parser_for(log.kind),
                                           known=self._known)
        except OSError as e:
            self.warn(f"{log.path}: {e.strerror or e}: skipped")
            t.failed += 1
            return
        except Exception as e:  # a log we cannot make sense of: say so, go on with the others
            self.warn(f"{log.path}: not imported ({type(e).__name__}: {e})")
            t.failed += 1
            return
        t.files += 1
        t.bytes += counts.bytes
        t.events += counts.events
        t.sessions.add(session)
        if counts.events:
            t.stores[store.root] = t.stores.get(store.root, 0) + counts.events
        for k, v in counts.skipped.items():
            t.skipped[k] = t.skipped.get(k, 0) + v
        for name, n in counts.unknown_types.items():
            t.unknown_types[name] = t.unknown_types.get(name, 0) + n
            self.warn_type(name, f"{log.path}: entry type {name!r} is not known to this version of "
                                 "agent-strace (a newer agent?): such lines are skipped")
        self.scan[_scan_key(log.path)] = [log.size, log.mtime_ns, stored_id(session), store.root, final]
        self.scan_changed = True
