"""The ``list`` index: per-session summaries cached by file size.

The cache (``index/sessions.json``) maps a session file name to its size,
the byte offset read so far and the resumable :class:`SessionSummary` state.
On each listing, files that grew are read from their saved offset only; files
that shrank or changed identity are re-read whole; vanished files drop out.
The cache is written atomically (temp file + rename) and may be deleted at
any time: it is rebuilt from the session files.  It is never a source of
truth, so concurrent listers can only race to write equal content.
"""

from __future__ import annotations

import json
import os

from .summary import SessionSummary
from ..store.paths import SUFFIX, Store
from ..store.reader import ReadStats, iter_events
from ..store.writer import write_json

INDEX_VERSION = 3  # 2: git state and changed files; 3: also ``senders``


_STATE_TYPES: dict[str, type | tuple[type, ...]] = {
                "events": int, "tool_calls": int, "tool_errors": int, "llm_calls": int, "prompts": int,
                "cost_usd": (int, float), "tokens": dict, "models": dict, "tools": dict, "by_type": dict,
                "sources": list, "subagents": list, "unpriced": list, "decisions": dict, "durations": dict,
                "errors": dict, "_open_calls": list, "_llm_ids": list, "senders": list}


def _entry_ok(entry) -> bool:
    """An index entry this version wrote: anything else is recomputed from the file."""
    if not isinstance(entry, dict) or not isinstance(entry.get("state"), dict):
        return False
    if not all(isinstance(entry.get(k), int) and not isinstance(entry.get(k), bool) for k in ("size", "offset")):
        return False
    ident = entry.get("ident")
    if not (isinstance(ident, list) and len(ident) == 2 and all(isinstance(x, int) for x in ident)):
        return False
    state = entry["state"]
    for k, t in _STATE_TYPES.items():
        if k in state and (not isinstance(state[k], t) or isinstance(state[k], bool)):
            return False
    return all(state.get(k) is None or isinstance(state.get(k), str)
               for k in ("session", "title", "cwd", "started", "last", "end_reason", "last_error"))


def _load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict) and data.get("version") == INDEX_VERSION and isinstance(data.get("sessions"), dict):
            return {k: v for k, v in data["sessions"].items() if _entry_ok(v)}
    except (OSError, ValueError, RecursionError):
        pass
    return {}


def _save(path: str, sessions: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json(path, {"version": INDEX_VERSION, "sessions": sessions})


def summarize_file(path: str, entry: dict | None = None) -> dict:
    """Bring one index entry up to date with the file at ``path``."""
    st = os.stat(path)
    ident = [st.st_ino, st.st_dev]
    if entry and entry.get("ident") == ident and entry.get("offset", 0) <= st.st_size:
        if entry.get("size") == st.st_size:
            return entry
        summary = SessionSummary.from_dict(entry["state"])
        start = entry["offset"]
    else:
        summary, start = SessionSummary(), 0
    stats = ReadStats()
    for e in iter_events(path, stats, start=start):
        summary.add(e)
    if summary.session is None:
        summary.session = os.path.basename(path)[: -len(SUFFIX)]
    skipped = dict(entry.get("skipped", {})) if entry and start else {}
    for k, v in stats.as_dict().items():
        if k not in ("events", "torn", "duplicates") and v:
            skipped[k] = skipped.get(k, 0) + v
    return {
        "ident": ident,
        "size": st.st_size,
        "offset": stats.end,
        "mtime": st.st_mtime,
        "state": summary.to_dict(resumable=True),
        "skipped": skipped,
    }


def session_row(entry: dict, path: str) -> dict:
    """An index entry as reports show it: the summary without its resume
    state, plus the file, its size and what reading it skipped."""
    row = {k: v for k, v in entry["state"].items() if not k.startswith("_")}
    row["file"] = path
    row["bytes"] = entry["size"]
    row["skipped"] = entry.get("skipped", {})
    return row


def summarize_cached(store: Store, path: str) -> dict:
    """One session's index entry, brought up to date from its cached state
    (only the bytes appended since are read), and saved back.  What
    ``inspect`` uses, so asking about a growing session again and again (the
    VS Code extension does, while the agent works) stays cheap."""
    index_path = os.path.join(store.subdir("index"), "sessions.json")
    cached = _load(index_path)
    name = os.path.basename(path)
    old = cached.get(name)
    entry = summarize_file(path, old)
    if entry is not old:
        cached[name] = entry
        try:
            _save(index_path, cached)
        except OSError:
            pass
    return entry


def list_sessions(store: Store, *, write_cache: bool = True) -> list[dict]:
    """Summaries of every session, newest first (by last event time)."""
    index_path = os.path.join(store.subdir("index"), "sessions.json")
    cached = _load(index_path)
    fresh: dict[str, dict] = {}
    changed = False
    for entry in store.session_files():
        old = cached.get(entry.name)
        st = entry.stat()
        if old and old.get("size") == st.st_size and old.get("ident") == [st.st_ino, st.st_dev]:
            fresh[entry.name] = old
            continue
        try:
            fresh[entry.name] = summarize_file(entry.path, old)
        except FileNotFoundError:
            continue
        changed = True
    if len(fresh) != len(cached):
        changed = True
    if changed and write_cache:
        try:
            _save(index_path, fresh)
        except OSError:
            pass  # a read-only store still lists, just slower next time
    rows = [session_row(entry, os.path.join(store.sessions_dir, name)) for name, entry in fresh.items()]
    rows.sort(key=lambda r: (r.get("last") or "", r.get("session") or ""), reverse=True)
    return rows


def list_everywhere(stores) -> list[dict]:
    """Rows of every session in every store, newest first, each with its
    ``store`` and its ``project`` (the session's working folder, else the
    folder of the project store holding it)."""
    from ..store.registry import project_of

    rows = []
    for store in stores:
        home = project_of(store.root)
        for row in list_sessions(store):
            row["store"] = store.root
            row["project"] = row.get("cwd") or home
            rows.append(row)
    rows.sort(key=lambda r: (r.get("last") or "", r.get("session") or ""), reverse=True)
    return rows


def by_project(rows: list[dict]) -> list[dict]:
    """``[{"project": path, "sessions": [rows]}]``, the most recently active project first."""
    groups: dict = {}
    for r in rows:  # rows come newest first, so groups are made in that order
        groups.setdefault(r.get("project"), []).append(r)
    return [{"project": p, "sessions": rs} for p, rs in groups.items()]


class ListIndex:
    """The ``list`` index held open by a writer that hands over what it
    appends (the history import), so listing after a big import reads
    nothing back.  Same entries and rules as :func:`summarize_file`: an entry
    advances only when it had read exactly up to where the append began."""

    def __init__(self, store: Store):
        self.store = store
        self.path = os.path.join(store.subdir("index"), "sessions.json")
        self.cached = _load(self.path)
        self.dirty = False

    def advance(self, name: str, before: int, after: int, events: list[dict], lengths=None) -> bool:
        entry = self.cached.get(name)
        if entry is None:
            if before != 0:
                return False
            summary, skipped = SessionSummary(), {}
        elif entry.get("offset") != before or entry.get("size") != before:
            return False
        else:
            summary, skipped = SessionSummary.from_dict(entry["state"]), entry.get("skipped", {})
        for e in events:
            summary.add(e)
        if summary.session is None:
            summary.session = name[: -len(SUFFIX)]
        try:
            st = os.stat(os.path.join(self.store.sessions_dir, name))
        except OSError:
            return False
        self.cached[name] = {"ident": [st.st_ino, st.st_dev], "size": after, "offset": after,
                             "mtime": st.st_mtime, "state": summary.to_dict(resumable=True), "skipped": skipped}
        self.dirty = True
        return True

    def save(self) -> None:
        if self.dirty:
            try:
                _save(self.path, self.cached)
            except OSError:
                pass
            self.dirty = False
