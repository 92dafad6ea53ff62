"""Importing an agent's own log into a store: incrementally, idempotently.

The reusable core of every log import: the Stop hook (the session's own
transcript), ``agent-strace import`` and the history import (``import
--all``), and the hook daemon's recovery of events it missed.  One call
imports what is new in one log file:

* a cursor per (store, log file) under ``state/transcripts/`` keeps the byte
  offset reached and the little state a resumed parse needs (rebuildable:
  losing it costs a rescan, never a duplicate);
* the parser (:func:`agent_trace.capture.transcript.parse_log` for Claude
  Code; any function with its signature for other agents) turns the new
  bytes into events with ids derived from the agent's own ids;
* events whose id the session file already holds are not written again, nor
  events of the types a live source (a hook) records with random ids when
  the file already holds that type;
* one import per (store, log file) at a time (a lock file beside the cursor).

Imported on the hook path: standard library, no json or re at import time.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat

from .. import event as ev
from ..event.fastjson import dumps, loads
from ..store.paths import Store
from ..store.regular import open_regular
from ..store.writer import write_json
from . import claims, transcript

NAME = transcript.NAME

_ID_AT = b'{"v":1,"id":"'
# Types live sources (hooks) record with random ids: an import adds none of
# them to a session file that already holds one from such a source.
_LIVE_TYPES = (b'"type":"session.start"', b'"type":"session.end"', b'"type":"context.compact"')


class Present:
    """Ids in a session file, and the event types a live source (a hook, not
    an import) recorded there with random ids; ``seen``: the offset scanned
    to (None: not scanned, the caller trusts its cursor)."""

    __slots__ = ("ids", "live_types", "seen")

    def __init__(self):
        self.ids: set[str] = set()
        self.live_types: set[str] = set()
        self.seen: int | None = None


def present_in(path: str, into: Present | None = None) -> Present:
    """Scan a session file for what it holds (from ``into.seen`` on, adding to
    ``into``, when given): bytes only for our own lines (the id sits at a
    fixed place), a parse for anything else."""
    out = into if into is not None else Present()
    start = out.seen or 0
    out.seen = start
    try:  # a FIFO where the session file goes never hangs us (the write refuses it)
        f = open_regular(path)
    except FileNotFoundError:
        return out
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
        return out
    ids, live = out.ids, out.live_types
    with f:
        if start:
            f.seek(start)
        for line in f:
            if not line.endswith(b"\n"):
                break  # being written: read it next time
            out.seen += len(line)
            if line.startswith(_ID_AT):
                ids.add(line[13:45].decode("ascii", "replace"))
                if b'"name":"transcript"' not in line:
                    for t in _LIVE_TYPES:
                        if t in line:
                            live.add(t[8:-1].decode())
                continue
            try:
                obj = loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                ids.add(obj["id"])
                if obj.get("name") != NAME and obj.get("type") in ("session.start", "session.end",
                                                                     "context.compact"):
                    live.add(obj["type"])
    return out


def new_events(events: list[dict], present: Present) -> list[dict]:
    """The events a session file does not hold yet (by id; for the types a
    live source records with random ids, by type)."""
    out = []
    ids = present.ids
    for e in events:
        if e["id"] in ids or e["type"] in present.live_types:
            continue
        ids.add(e["id"])
        out.append(e)
    return out


# -- import into a store ------------------------------------------------------------

class ImportCounts:
    """What one import did: events written, bytes read, lines skipped."""

    __slots__ = ("events", "bytes", "end", "skipped", "unknown_types", "session")

    def __init__(self):
        self.events = self.bytes = self.end = 0
        self.skipped = {"corrupt": 0, "torn": 0, "unknown": 0}
        self.unknown_types: dict[str, int] = {}
        self.session: str | None = None

    def add(self, other: "ImportCounts") -> None:
        self.events += other.events
        self.bytes += other.bytes
        for k, v in other.skipped.items():
            self.skipped[k] = self.skipped.get(k, 0) + v
        for k, v in other.unknown_types.items():
            self.unknown_types[k] = self.unknown_types.get(k, 0) + v


def cursor_path(store: Store, path: str, session: str, mode: str = "full") -> str:
    import zlib  # a C module: cheap to import on the hook path, unlike hashlib

    from ..store.paths import file_stem

    ident = f"{session}\0{os.path.abspath(path)}\0{mode}".encode("utf-8", "surrogatepass")
    key = f"{file_stem(session)[:60]}-{zlib.crc32(ident):08x}-{zlib.adler32(ident):08x}"
    return os.path.join(store.subdir(os.path.join("state", "transcripts")), key + ".json")


def _read_cursor(path: str):
    try:
        with open(path, "rb") as f:
            cur = loads(f.read())
    except (OSError, ValueError):
        return None
    return cur if isinstance(cur, dict) and isinstance(cur.get("offset"), int) else None


def _write_cursor(path: str, cursor: dict) -> None:
    """Save a cursor, with no secret in it: the parser's resume state holds
    raw values of the log (open tool calls' ids and names, the prompt id, the
    last timestamp) and the log's path may name a secret.  Such a value is
    saved redacted: at worst a resumed parse cannot pair that one tool call
    with its result.  A session id that is redacted is not saved (a resume
    reads it from the log again: a redacted one would derive other ids)."""
    from ..event.redact import redact_value, walk_markers

    markers = walk_markers(dumps(cursor))  # the encoder's check: None when redaction can change nothing
    if markers is not None:
        session = cursor.get("session")
        cursor = redact_value(cursor, [0], markers=markers)
        if cursor.get("session") != session:
            cursor["session"] = None
    write_json(path, cursor)


def _regular_size(path: str) -> int:
    """The size of a log that is a regular file (``OSError`` otherwise: a
    FIFO would block the parser's read for ever, a device never end)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a regular file", path)
    return st.st_size


def import_log(store: Store, sink, path: str, session: str | None = None, agent_id=None, *,
               final: bool = False, llm_only: bool = False, take: tuple[str, ...] | None = None,
               start: int | None = None, write=None, parse=None, known: dict | None = None) -> ImportCounts:
    """Import what is new in one log file into ``store``; returns counts.

    Reads from the saved cursor (or from byte ``start`` when given), skips
    what the session file already holds, writes through ``sink`` (or
    ``write(session_path, events)`` when given) and saves the cursor.
    ``parse`` is the log's parser (default: Claude Code transcripts), called
    as ``parse(path, offset, final=..., session=..., agent_id=..., state=...,
    meta=...)``; ``session`` defaults to the one the log names.  ``llm_only``
    imports only LLM turns and trusts its own cursor (no scan of the session
    file): what the PreToolUse budget check needs, cheaply.  ``take`` imports
    only events of those types (what the Codex and Gemini hooks cannot see),
    with a cursor of its own, so a later whole import still reads every
    line.  ``known`` (a
    dict the caller keeps between calls) remembers what the session file
    written last holds, so the logs of one session (its transcript, then its
    subagents') scan the session file once.
    """
    parse = parse or transcript.parse_log
    key = session or os.path.basename(path)
    if llm_only:
        take = (ev.LLM_RESPONSE,)
    cpath = cursor_path(store, path, key, "llm" if llm_only else "+".join(take) if take else "full")
    os.makedirs(os.path.dirname(cpath), exist_ok=True)
    counts = ImportCounts()
    counts.session = session
    lock_fd = os.open(cpath + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        cursor = _read_cursor(cpath)
        size = _regular_size(path)
        if start is None:
            start = cursor["offset"] if cursor and cursor["offset"] <= size else 0
        state = cursor.get("state") if cursor and start == cursor["offset"] and start > 0 else None
        if session is None and cursor and isinstance(cursor.get("session"), str) and start > 0:
            session = counts.session = cursor["session"]
        meta = transcript.read_meta(path) if agent_id else None
        present = None
        offset = start
        while True:
            res = parse(path, offset, final=final, session=session, agent_id=agent_id, state=state, meta=meta)
            if session is None and res.session:
                session = counts.session = res.session
            events = res.events
            if take:
                events = [e for e in events if e["type"] in take]
            if events and present is None:
                # type-checker: a log with events names its session (or the caller does)
                target = store.path_for(session)  # type: ignore[arg-type]
                if llm_only and cursor is not None and start > 0:
                    present = Present()
                elif known is not None and target in known:
                    present = known[target]
                else:
                    present = present_in(target)
                    if known is not None:
                        known.clear()  # one session at a time: memory stays flat
                        known[target] = present
            if events:
                events = _write_new(store, sink, write, session, events, present, final)  # type: ignore[arg-type]
            counts.events += len(events)
            counts.bytes += res.end - offset
            for k, v in res.skipped.items():
                counts.skipped[k] = counts.skipped.get(k, 0) + v
            for k, v in (getattr(res, "unknown_types", None) or {}).items():
                counts.unknown_types[k] = counts.unknown_types.get(k, 0) + v
            state = getattr(res, "state", None)
            done = res.end >= size or res.end == offset
            offset = res.end
            if done:
                break
        counts.end = offset
        _write_cursor(cpath, {"path": path, "session": session, "offset": offset, "state": state})
        if final and session is not None:
            with claims.Claim(store, session, create=False) as claim:
                claim.remove()
        return counts
    finally:
        os.close(lock_fd)


def _write_new(store: Store, sink, write, session: str, events: list[dict], present: Present,
               final: bool) -> list[dict]:
    """Write the events the session file does not hold yet; returns them.

    Under the session's claim (see :mod:`.claims`) when the import is not
    final or a claim exists: what was appended since the scan is read first,
    ids a hook may still write are listed for it, and a hook's own write
    waits for this one."""
    with claims.Claim(store, session, create=not final) as claim:  # not held when none can be had
        if claim.held:
            if present.seen is not None:
                present_in(store.path_for(session), present)  # what others appended since we looked
            taken = claim.taken()
            if taken:
                events = [e for e in events if e["id"] not in taken]
        events = new_events(events, present)
        if events:
            if write is not None:
                write(store.path_for(session), events)
            else:
                sink.emit_many(events)
            if claim.held and not final:
                claim.add(events)
    return events


def import_transcript(store: Store, sink, path: str, session: str, agent_id=None,
                      final: bool = False, *, llm_only: bool = False) -> int:
    """Import one transcript; returns the number of events written."""
    return import_log(store, sink, path, session, agent_id, final=final, llm_only=llm_only).events


def import_session(store: Store, sink, main: str, session: str, final: bool = False, *,
                   llm_only: bool = False) -> int:
    """A Claude Code session: the main transcript plus every subagent
    transcript beside it; returns the number of events written."""
    n = 0
    if os.path.isfile(main):
        n += import_transcript(store, sink, main, session, None, final, llm_only=llm_only)
    for agent_id, path in transcript.subagent_transcripts(main, session):
        n += import_transcript(store, sink, path, session, agent_id, final, llm_only=llm_only)
    return n
