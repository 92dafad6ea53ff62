"""A session's events in the order they happened.

The store is append-only, and some events are appended after events that
came later: the LLM turns imported from the transcript at Stop land after the
tool calls they caused.  Every timeline (replay, explain, why, the dashboard,
share, browse, lint, compare) reads through :func:`iter_timeline`, which
yields events ordered by ``ts`` with file order as the tie-break (stable).

Contract
--------
* Same skipping and counting as :func:`agent_trace.store.reader.iter_events`.
* A file already in time order (the common case) is streamed as is, after a
  cheap first pass that reads each line's ``ts`` without parsing the line.
* Otherwise the pass keeps one small key per line (time, position) and the
  lines are read back through a memory map in sorted order: memory grows by
  a few dozen bytes per event, never by the events themselves.
* A line without a readable ``ts`` keeps its place after the line before it.
"""

from __future__ import annotations

import mmap

from .. import event as ev
from .reader import CHUNK, SHARED, ReadStats, Repeats, iter_events, open_regular, parse_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..event import EventDict

_TS = b'"ts":"'
_WINDOW = 256  # the writer puts v, id, ts first: ts starts within the first ~60 bytes


def _key(line: bytes) -> bytes | None:
    i = line.find(_TS, 0, _WINDOW)
    if i < 0:
        return None
    j = line.find(b'"', i + 6, i + 64)
    if j < 0:
        return None
    ts = line[i + 6:j]
    # The store's own form sorts as text; anything else is normalised to it.
    if len(ts) == 27 and ts[-1:] == b"Z" and ts[10:11] == b"T":
        return ts
    try:
        return ev.now_iso(ev.iso_to_epoch(ts.decode("ascii"))).encode()
    except (ValueError, UnicodeDecodeError, OverflowError, OSError):
        return None


def _index(path: str) -> tuple[list[tuple[bytes, int, int]], bool, bool]:
    """(key, start, length) per complete line, whether the keys are in
    order, and whether a torn last line (no newline yet) was left out."""
    index: list[tuple[bytes, int, int]] = []
    ordered = True
    last = b""
    offset = 0
    pending = b""
    with open_regular(path) as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            data = pending + chunk if pending else chunk
            lines = data.split(b"\n")
            pending = lines.pop()
            for line in lines:
                start = offset
                offset += len(line) + 1
                if not line.strip():
                    continue
                key = _key(line) or last
                if key < last:
                    ordered = False
                else:
                    last = key
                index.append((key, start, len(line)))
    return index, ordered, bool(pending.strip())


def iter_timeline(path: str, stats: ReadStats | None = None, *, unknown: bool = False,
                  sizes: bool = False) -> Iterator[EventDict]:
    """Yield the events of ``path`` in time order (see the module contract)."""
    if stats is None:
        stats = ReadStats()
    index, ordered, torn = _index(path)
    if ordered:
        yield from iter_events(path, stats, unknown=unknown, sizes=sizes)
        return
    index.sort(key=lambda k: k[0])  # stable: file order breaks ties
    end = max(start + length + 1 for _, start, length in index)
    repeats = Repeats(stats)  # a repeated shared-id event is dropped, as iter_events does
    with open_regular(path) as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        for _, start, length in index:
            obj = parse_line(m[start:start + length], stats, unknown, sizes)
            if obj is not None and not (obj["type"] in SHARED and repeats.seen(obj)):
                yield obj
    stats.end = end
    stats.torn += torn


def timeline(path: str, stats: ReadStats | None = None, *, follow: bool = False) -> Iterator[EventDict]:
    """The session in time order; with ``follow``, then what is appended, in
    arrival order, until the session ends (its last lifecycle event is
    ``session.end``).  What ``replay -f`` and ``export -f`` print."""
    if stats is None:
        stats = ReadStats()
    ended = False
    for e in iter_timeline(path, stats):
        t = e.get("type")
        if (t == ev.SESSION_START or t == ev.SESSION_END) and not e.get("agent_id"):
            ended = t == ev.SESSION_END
        yield e
    if not follow or ended:
        return
    done = [False]
    for e in iter_events(path, stats, start=stats.end, follow=True, stop=lambda: done[0]):
        if e.get("type") == ev.SESSION_END and not e.get("agent_id"):
            done[0] = True
        yield e


def is_in_time_order(path: str) -> bool:
    return _index(path)[1]
