"""Claims: what keeps a hook and an import from writing one event twice.

A hook and an import of the agent's own log can make the same event with the
same id (:func:`agent_trace.event.derived_id`).  The import skips the ids the
session file holds, but a hook writes without looking, and the two are not
ordered: Claude Code writes a tool's result to the transcript and goes on
without waiting for its PostToolUse hook, so an import run at that moment
(another agent's Stop, a budget check, ``import --all``) can write the
result first, and the hook then writes it again.

So both take one lock per session before writing such events, a file under
``state/claims/``, and an import that is not final lists in that file the
ids it wrote of the kinds a live source may still write (:data:`LIVE_KINDS`).
A hook drops the events listed there; an import, holding the lock, first
reads what was appended to the session file since it last looked.  A final
import (the session is over) removes the file.  Normally the list is empty
or short: hooks write their events before any import gets to them.

Hook path: standard library, no json.
"""

from __future__ import annotations

import errno
import os

from .. import event as ev

# Kinds a live source (a hook) writes with ids an import also derives.
LIVE_KINDS = frozenset({ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR, ev.USER_PROMPT, ev.TURN_END,
                        ev.SUBAGENT_START, ev.SUBAGENT_STOP, ev.LLM_RESPONSE})
# A list larger than this is not read (a session's list holds what imports
# wrote before the hooks could: normally a few ids, about 33 bytes each).
MAX_BYTES = 32 << 20


def claim_path(store, session: str) -> str:
    from ..store.paths import file_stem

    return os.path.join(store.root, "state", "claims", file_stem(session) + ".ids")


class Claim:
    """The session's claim lock, held inside ``with``; ``create=False``
    takes it only when the file exists (``held`` says whether it was).
    Fails open: a claim that cannot be had (no room, something other than a
    regular file where it goes) is not held, and ``error`` says why; the
    events are written as before claims existed."""

    __slots__ = ("path", "fd", "size", "create", "error")

    def __init__(self, store, session: str, *, create: bool = True):
        self.path = claim_path(store, session)
        self.fd = -1
        self.size = 0
        self.create = create
        self.error: OSError | None = None

    @property
    def held(self) -> bool:
        return self.fd >= 0

    def __enter__(self) -> "Claim":
        from ..store.writer import open_locked

        flags = os.O_RDWR | os.O_APPEND | (os.O_CREAT if self.create else 0)
        try:
            try:
                self.fd, st = open_locked(self.path, flags)
            except FileNotFoundError:
                if not self.create:
                    return self
                os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
                self.fd, st = open_locked(self.path, flags)
        except OSError as e:
            self.error = e
            return self
        self.size = st.st_size
        return self

    def __exit__(self, *exc) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing releases the lock
            self.fd = -1

    def _data(self) -> bytes:
        if self.fd < 0 or not self.size or self.size > MAX_BYTES:
            return b""  # nothing listed, or not a list we wrote: duplicates are possible, losses not
        return os.pread(self.fd, self.size, 0)

    def taken(self) -> set[str]:
        """Ids an import wrote that a live source may still write."""
        return set(self._data().decode("ascii", "replace").split())

    def taken_of(self, events) -> set[str]:
        """Which of ``events``' ids are listed (a hook's few events: a byte
        search, no set of the whole list)."""
        data = self._data()
        if not data:
            return set()
        return {e["id"] for e in events if isinstance(e.get("id"), str) and
                (e["id"] + "\n").encode("ascii", "replace") in data}

    def add(self, events) -> None:
        """List the events of :data:`LIVE_KINDS` among ``events`` (just written)."""
        ids = [e["id"] for e in events if e["type"] in LIVE_KINDS]
        if ids and self.fd >= 0:
            data = ("\n".join(ids) + "\n").encode("ascii", "replace")
            os.write(self.fd, data)
            self.size += len(data)

    def remove(self) -> None:
        """The session is over: nothing is claimed any more."""
        if self.fd >= 0:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


def emit_live(store, sink, events: list, what: str) -> bool:
    """Write a hook's events through ``sink`` (as ``emit_fail_open``), except
    those an import has written already; a claim that cannot be taken never
    stops the events (capture fails open)."""
    from ..store.sink import emit_fail_open

    session = next((e["session"] for e in events if e["type"] in LIVE_KINDS), None)
    if session is None:
        return emit_fail_open(sink, events, what)
    with Claim(store, session) as claim:
        err = claim.error
        if err is not None and err.errno not in (errno.EROFS, errno.EACCES, errno.ENOSPC, errno.EDQUOT,
                                                 errno.EPERM):
            import sys

            sys.stderr.write(f"{what}: claim not taken ({err.strerror or err}); recording anyway\n")
        taken = claim.taken_of(events)
        if taken:
            events = [e for e in events if e["id"] not in taken]
            if not events:
                return True
        return emit_fail_open(sink, events, what)
