"""A store's readers' indexes together: ``list``, ``usage`` and ``search``.

Readers bring them up to date from the session files (each reads only what
the files gained).  A bulk writer (the history import) writes through
:meth:`StoreIndexes.write` instead, which appends the events and hands them
to every index at once, so a first report after importing a year of
history reads nothing back.

A bulk writer split over processes (:mod:`agent_trace.capture.history_split`)
keeps one :class:`IndexSet` per process: each worker hands the parent what
it added (:meth:`StoreIndexes.part`: its session files' entries and the
usage keys it counted), the parent merges it (:meth:`StoreIndexes.merge`)
and saves once.  Entries are per session file and the workers write
different files, so the merge is a union; the one store-wide thing, the
usage keys that make a response count once, is checked: a response two
workers both counted (a session copied into two projects) makes the usage
index count everything again at its next read.
"""

from __future__ import annotations

import os

from ..event.encode import encode_event
from ..event.truncate import max_field_chars
from ..store.paths import Store
from ..store.writer import append_lines
from .search_index import SearchIndex
from .session_index import ListIndex
from ..usage.index import UsageIndex


class StoreIndexes:
    def __init__(self, store: Store):
        self.store = store
        self.list = ListIndex(store)
        self.usage = UsageIndex(store).load()
        self.search = SearchIndex(store).load()
        self._ready = False
        self.names: set[str] = set()  # session files this process wrote
        self._loaded_keys: frozenset[int] | None = None  # usage keys before a split import counted any

    def write(self, session_path: str, events: list[dict]) -> None:
        """Append ``events`` to one session file (redacted, capped, encoded
        like every write) and hand them to the indexes."""
        if not self._ready:
            self.store.ensure()
            self._ready = True
        cap = max_field_chars()  # once per batch: the environment is not read per event
        lines = [encode_event(e, cap) for e in events]
        data = b"".join(lines)
        try:
            before = os.path.getsize(session_path)
        except FileNotFoundError:
            before = 0
        append_lines(session_path, data)
        after = os.path.getsize(session_path)
        if after != before + len(data):
            return  # another writer, or a torn line mended: the indexes read it back later
        name = os.path.basename(session_path)
        self.names.add(name)
        lengths = [len(x) for x in lines]
        self.list.advance(name, before, after, events)
        self.usage.advance(name, before, after, events, lengths)
        self.search.advance(name, before, after, events, lengths)

    def close(self) -> None:
        self.list.save()
        self.usage.save()
        self.search.save()

    # -- a split import ------------------------------------------------------------
    def mark(self) -> None:
        """Remember the usage keys counted so far (before a split import's
        processes count any): what a process counted is what came after."""
        self._loaded_keys = frozenset(self.usage.keys())

    def _new_keys(self) -> set[int]:
        keys = self.usage.keys()
        return keys - self._loaded_keys if self._loaded_keys is not None else set()

    def part(self) -> dict:
        """What this process added (a worker's share, for the parent); the
        search records are appended to the store's record file here."""
        self.search.flush()
        names = self.names
        return {"list": {n: e for n, e in self.list.cached.items() if n in names},
                "search": {n: e for n, e in self.search.files.items() if n in names},
                "usage": {n: e for n, e in self.usage.files.items() if n in names},
                "keys": self._new_keys()}

    def merge(self, part: dict) -> None:
        """Take a worker's :meth:`part`; a response counted by two processes
        makes the usage index recount at its next read."""
        if self._loaded_keys is None:
            self.mark()
        self.names.update(part["list"], part["search"], part["usage"])
        self.list.cached.update(part["list"])
        self.list.dirty = True
        self.search.files.update(part["search"])
        self.search.dirty = True
        twice = not part["keys"].isdisjoint(self._new_keys())
        self.usage.files.update(part["usage"])
        self.usage.keys().update(part["keys"])
        self.usage.dirty = True
        if twice:
            self.usage._rebuild()


class IndexSet:
    """The :class:`StoreIndexes` of every store one bulk writer writes to."""

    def __init__(self):
        self.by_root: dict[str, StoreIndexes] = {}
        self._split = False

    def splitting(self) -> None:
        """A split import starts: every store's indexes remember their usage
        keys from now on (:meth:`StoreIndexes.mark`), before any are counted."""
        self._split = True
        for idx in self.by_root.values():
            idx.mark()

    def get(self, store: Store) -> StoreIndexes:
        idx = self.by_root.get(store.root)
        if idx is None:
            idx = self.by_root[store.root] = StoreIndexes(store)
            if self._split:
                idx.mark()
        return idx

    def writer_for(self, store: Store):
        return self.get(store).write

    def parts(self) -> dict[str, dict]:
        return {root: idx.part() for root, idx in self.by_root.items() if idx.names}

    def merge(self, parts: dict[str, dict]) -> None:
        for root, part in parts.items():
            self.get(Store(root)).merge(part)

    def close(self) -> None:
        for idx in self.by_root.values():
            idx.close()
