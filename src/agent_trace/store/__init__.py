"""The append-only JSONL store: one file per session under ``.agent-traces/``.

Layout (see ``adr/0002-store-layout.md``)::

    .agent-traces/
      .gitignore            "*": the store ignores itself in git
      sessions/<id>.jsonl   one append-only file per session
      index/                rebuildable caches (session summaries for ``list``)
      state/                rebuildable cursors (transcript import offsets ...)

Writers only ever append whole lines (:mod:`.writer`); readers stream
(:mod:`.reader`); nothing is read-modify-written except caches that can be
deleted at any time and rebuilt from the session files.
"""

from .paths import Store, StoreError, SessionNotFound, resolve_root

__all__ = ["Store", "StoreError", "SessionNotFound", "resolve_root"]
