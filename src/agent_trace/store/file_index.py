"""A reader's index over a store's session files, kept up to date incrementally.

Contract shared by the usage and search indexes (the ``list`` index in
:mod:`.session_index` follows the same rules):

* the index keeps, per session file, its identity (inode, device), the size
  seen and the byte offset read; bringing it up to date reads only what each
  file gained since (:meth:`FileIndex.update`);
* a file that shrank, changed identity or vanished makes the index rebuild
  from scratch (appends are the only change a store makes, so this is rare);
* a writer that appends to a session file and holds the events it wrote can
  hand them over (:meth:`FileIndex.advance`) instead of having them read
  back, provided nobody else wrote in between (the offsets must meet);
* the index lives under ``index/`` and may be deleted at any time.
"""

from __future__ import annotations

import os

from ..event.fastjson import loads
from .paths import SUFFIX, Store
from .reader import ReadStats, iter_events
from .writer import write_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

    from ..event import EventDict

    Entry = dict[str, Any]  # one file's entry: ident, size, offset and the subclass's own keys
    Item = tuple[int, int, EventDict]  # (line start, line end, event)


class FileIndex:
    FILE = "index.json"
    VERSION = 1

    def __init__(self, store: Store) -> None:
        self.store = store
        self.dir = store.subdir("index")
        self.path = os.path.join(self.dir, self.FILE)
        self.files: dict[str, Entry] = {}
        self.dirty = False
        self.loaded = False

    # -- persistence ----------------------------------------------------------
    def load(self) -> "FileIndex":
        try:
            with open(self.path, "rb") as f:
                data = loads(f.read())
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and data.get("version") == self.VERSION and isinstance(data.get("files"), dict):
            self.files = data["files"]
            self.load_extra(data)
        else:
            self.files = {}
            self.reset()
        self.loaded = True
        return self

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            os.makedirs(self.dir, exist_ok=True)
            # lone surrogates (from a log's odd text) written as escapes: read back the same
            write_json(self.path, {"version": self.VERSION, "files": self.files, **self.extra()})
            self.dirty = False
        except (OSError, ValueError):
            pass  # a read-only store (or a value JSON cannot hold) still answers, just slower next time

    # -- hooks for subclasses ----------------------------------------------------
    def load_extra(self, data: dict[str, Any]) -> None:
        pass

    def extra(self) -> dict[str, Any]:
        return {}

    def reset(self) -> None:
        """Forget everything (subclasses drop their own data too)."""
        self.files = {}

    def new_entry(self, name: str) -> Entry:
        return {}

    def feed(self, name: str, entry: Entry, items: Iterable[Item]) -> None:
        """Take ``(line start, line end, event)`` of one file, in order."""
        raise NotImplementedError

    # -- keeping up -------------------------------------------------------------
    def update(self) -> bool:
        """Read what every session file gained; returns True when anything changed."""
        if not self.loaded:
            self.load()
        files = self.store.session_files()
        names = {e.name for e in files}
        if any(name not in names for name in self.files):
            self._rebuild()
        changed = False
        for e in files:
            try:
                st = e.stat()
            except FileNotFoundError:
                continue
            entry = self.files.get(e.name)
            ident = [st.st_ino, st.st_dev]
            if entry is not None and entry["ident"] == ident and entry["size"] == st.st_size:
                continue
            if entry is not None and (entry["ident"] != ident or st.st_size < entry["offset"]):
                self._rebuild()
                return self.update()
            if entry is None:
                entry = self.files[e.name] = {"ident": ident, "size": 0, "offset": 0, **self.new_entry(e.name)}
            self._read(e.name, e.path, entry, st.st_size)
            changed = True
        return changed

    def _rebuild(self) -> None:
        self.reset()
        self.files = {}
        self.dirty = True

    def _read(self, name: str, path: str, entry: Entry, size: int) -> None:
        stats = ReadStats()
        start = entry["offset"]

        def items() -> Iterator[Item]:
            prev = start
            for end, event in iter_events(path, stats, start=start, positions=True):
                yield prev, end, event
                prev = end

        self.feed(name, entry, items())
        entry["offset"] = max(stats.end, start)
        entry["size"] = size
        self.dirty = True

    def advance(self, name: str, before: int, after: int, events: list[EventDict], lengths: list[int]) -> bool:
        """Take events just appended to ``name`` (its size went from ``before``
        to ``after``; ``lengths`` are their encoded line lengths).  Refuses
        (returns False) unless the index had read exactly up to ``before``."""
        entry = self.files.get(name)
        if entry is None:
            if before != 0:
                return False
            try:
                st = os.stat(os.path.join(self.store.sessions_dir, name))
            except OSError:
                return False
            entry = self.files[name] = {"ident": [st.st_ino, st.st_dev], "size": 0, "offset": 0,
                                        **self.new_entry(name)}
        elif entry["offset"] != before or entry["size"] != before:
            return False

        def items() -> Iterator[Item]:
            pos = before
            for e, n in zip(events, lengths):
                yield pos, pos + n, e
                pos += n

        self.feed(name, entry, items())
        entry["offset"] = entry["size"] = after
        self.dirty = True
        return True


def session_name(path: str) -> str:
    return os.path.basename(path)


def stem(name: str) -> str:
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
