"""Where capture sources hand their events: the one writer.

Every capture source builds events with :func:`agent_trace.event.make_event`
and gives them to a sink.  A sink's ``emit`` is called on the caller's thread:
it must not block for long and must not throw into the agent's path, so
callers that must fail open wrap it (see :func:`emit_fail_open`).

* :class:`FileSink` appends to the local store (encode -> append).
* :class:`MemorySink` keeps events in a list, for tests.
* :class:`agent_trace.remote.delivery.ShippingSink` appends locally and
  delivers to an ``agent-strace server`` (``AGENT_STRACE_ENDPOINT``);
  :func:`agent_trace.capture.sink.open_sink` picks the one to use.
"""

from __future__ import annotations

import sys

from ..event.encode import encode_event
from .paths import Store
from .writer import append_lines

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Protocol

    from ..event import EventDict

    class Sink(Protocol):
        """What every sink offers (FileSink, MemorySink, ShippingSink)."""

        def emit(self, event: EventDict) -> None: ...
        def emit_many(self, events: Iterable[EventDict]) -> None: ...
        def flush(self) -> None: ...
        def close(self) -> None: ...

    class StoreSink(Protocol):
        """A sink writing to a local store (what enforcement records through)."""

        @property
        def store(self) -> Store: ...
        def emit(self, event: EventDict) -> None: ...
        def emit_many(self, events: Iterable[EventDict]) -> None: ...


class FileSink:
    """Appends to the local store.  Each call is one locked append per session
    file (see :mod:`agent_trace.store.writer`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ready = False

    def emit(self, event: EventDict) -> None:
        self.emit_many([event])

    def emit_many(self, events: Iterable[EventDict]) -> None:
        if not self._ready:
            self.store.ensure()
            self._ready = True
        by_session: dict[str, list[bytes]] = {}
        for event in events:
            line = encode_event(event)  # may redact the session id itself: file it under what is stored
            by_session.setdefault(event["session"], []).append(line)
        for session, lines in by_session.items():
            append_lines(self.store.path_for(session), b"".join(lines))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class MemorySink:
    def __init__(self) -> None:
        self.events: list[EventDict] = []

    def emit(self, event: EventDict) -> None:
        encode_event(event)  # same processors as the file sink
        self.events.append(event)

    def emit_many(self, events: Iterable[EventDict]) -> None:
        for e in events:
            self.emit(e)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def emit_fail_open(sink: Sink, events: Sequence[EventDict], what: str = "agent-strace") -> bool:
    """Emit, and on any failure say so on stderr and return False."""
    try:
        sink.emit_many(events)
        return True
    except Exception as e:  # capture never breaks the agent
        msg = getattr(e, "strerror", None) or str(e) or type(e).__name__
        sys.stderr.write(f"{what}: could not record {len(events)} event(s): {msg}\n")
        return False
