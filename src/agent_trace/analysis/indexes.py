"""A store's readers' indexes together: ``list``, ``usage`` and ``search``.

Readers bring them up to date from the session files (each reads only what
the files gained).  A bulk writer (the history import) writes through
:meth:`StoreIndexes.write` instead, which appends the events and hands them
to every index at once, so a first report after importing a year of
history reads nothing back.
"""

from __future__ import annotations

import os

from ..event.encode import encode_event
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

    def write(self, session_path: str, events: list[dict]) -> None:
        """Append ``events`` to one session file (redacted, capped, encoded
        like every write) and hand them to the indexes."""
        if not self._ready:
            self.store.ensure()
            self._ready = True
        lines = [encode_event(e) for e in events]
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
        lengths = [len(x) for x in lines]
        self.list.advance(name, before, after, events)
        self.usage.advance(name, before, after, events, lengths)
        self.search.advance(name, before, after, events, lengths)

    def close(self) -> None:
        self.list.save()
        self.usage.save()
        self.search.save()
