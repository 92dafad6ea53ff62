"""Streaming a session file back as event dicts, tolerating damage.

Contract
--------
* Streams: memory does not grow with the session (one line at a time).
* A last line without ``\\n`` is a write in progress or a torn write (a killed
  writer): it is not yielded; :class:`ReadStats` counts it as ``torn``.
  In follow mode it is yielded once its newline arrives.
* A line that is not a JSON object, or whose first-class fields do not have
  their documented types (:mod:`agent_trace.event.validate`: ``ts: "zzz"``,
  ``tool: ["x"]``, ``usage: "x"``, a numeric ``agent_id`` ...), is skipped and
  counted as ``corrupt``: readers never see a wrong-typed field.
* Lines from an older schema version are upgraded step by step; lines from a
  newer version are skipped and counted as ``future``; lines whose type is not
  known to this version are counted as ``unknown_type`` and yielded only when
  the caller asks for them (``unknown=True``).
* An event whose id was already read shortly before (a hook and a transcript
  import recording the same tool call: ids derived from the agent's own, see
  ``event.SHARED_ID_TYPES``) is yielded once and counted as ``duplicates``.
"""

from __future__ import annotations

import time

from .. import event as ev
from ..event.fastjson import loads
from ..event.fastjson import scanner as scan
from ..event.upgrade import upgrade
from ..event.validate import problem
from .regular import open_regular as open_regular  # re-exported: the readers' open

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from ..event import EventDict

VERSION = ev.SCHEMA_VERSION
TYPES = ev.TYPES

CHUNK = 1 << 20
RECENT = 8192  # ids remembered to drop a repeated event (repeats arrive within a turn)
# llm.response stays out: the summary counts a response once by id, and
# exports keep every capture of it (wire and transcript).
SHARED = ev.SHARED_ID_TYPES - {ev.LLM_RESPONSE}


class ReadStats:
    """What a read skipped.  ``note()`` gives the one-line summary for users."""

    __slots__ = ("events", "corrupt", "torn", "future", "unknown_type", "duplicates", "end")

    def __init__(self) -> None:
        self.events = self.corrupt = self.torn = self.future = self.unknown_type = self.duplicates = 0
        self.end = 0  # byte offset just past the last complete line read

    def skipped(self) -> int:
        return self.corrupt + self.torn + self.future + self.unknown_type

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__ if k != "end"}

    def note(self) -> str | None:
        parts = []
        if self.corrupt:
            parts.append(f"{self.corrupt} corrupt line(s)")
        if self.torn:
            parts.append(f"{self.torn} torn last line")
        if self.future:
            parts.append(f"{self.future} line(s) from a newer agent-strace (upgrade to read them)")
        if self.unknown_type:
            parts.append(f"{self.unknown_type} event(s) of unknown type")
        return "note: skipped " + ", ".join(parts) if parts else None


class Repeats:
    """The ids of the last RECENT shared-id events read, oldest first: a
    repeated one (a hook and the transcript import wrote the same call) is
    counted in ``stats.duplicates`` and not as an event."""

    __slots__ = ("_recent", "_stats")

    def __init__(self, stats: ReadStats) -> None:
        self._recent: dict[object, None] = {}
        self._stats = stats

    def seen(self, obj: EventDict) -> bool:
        recent, eid = self._recent, obj.get("id")
        if eid in recent:
            self._stats.duplicates += 1
            self._stats.events -= 1
            return True
        recent[eid] = None
        if len(recent) > RECENT:
            del recent[next(iter(recent))]
        return False


def parse_line(line: bytes, stats: ReadStats, unknown: bool = False, sizes: bool = False) -> EventDict | None:
    """One stored line -> event dict, or ``None`` when it must be skipped."""
    try:
        obj: object = loads(line)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, nesting too deep
        stats.corrupt += 1
        return None
    if type(obj) is not dict or "type" not in obj:
        stats.corrupt += 1
        return None
    v = obj.get("v")
    if v != ev.SCHEMA_VERSION:
        if isinstance(v, int) and v > ev.SCHEMA_VERSION:
            stats.future += 1
            return None
        try:
            obj = upgrade(obj)
        except ValueError:
            stats.corrupt += 1
            return None
    if problem(obj) is not None:
        stats.corrupt += 1
        return None
    if obj["type"] not in ev.TYPES:
        stats.unknown_type += 1
        if not unknown:
            return None
    stats.events += 1
    if sizes:
        obj["_bytes"] = len(line)
    return obj


def iter_events(path: str, stats: ReadStats | None = None, *, unknown: bool = False,
                start: int = 0, follow: bool = False, poll: float = 0.05,
                stop: Callable[[], object] | None = None, positions: bool = False,
                sizes: bool = False) -> Iterator[Any]:
    """Yield events from ``path`` (from byte offset ``start``), or
    ``(end_offset, event)`` pairs with ``positions=True``.

    ``follow=True`` keeps waiting for new lines (like ``tail -f``) until
    ``stop()`` returns true.  ``positions=True`` yields ``(end_offset, event)``
    so callers can resume later from ``end_offset``.  ``sizes=True`` adds the
    stored line's length as ``_bytes`` (size rules need not re-encode).
    """
    if stats is None:
        stats = ReadStats()
    with open_regular(path) as f:
        f.seek(start)
        offset = stats.end = start
        pending = b""
        repeats = Repeats(stats)
        while True:
            chunk = f.read(CHUNK)
            if chunk:
                data = pending + chunk if pending else chunk
                lines = data.split(b"\n")
                pending = lines.pop()
                for line in lines:
                    offset += len(line) + 1
                    if not line or (len(line) < 8 and not line.strip()):
                        continue
                    # Fast path, inlined (this loop is every reader's floor): a
                    # current-version line of a known type, parsed in one scan.
                    obj = None
                    if line[:1] == b"{":
                        try:
                            text = line.decode("utf-8")
                            obj, end = scan(text, 0)
                            if end != len(text) or type(obj) is not dict or obj.get("v") != VERSION \
                                    or obj.get("type") not in TYPES or problem(obj) is not None:
                                obj = None
                            else:
                                stats.events += 1
                                if sizes:
                                    obj["_bytes"] = len(line)
                        except Exception:  # the C scanner can fail oddly on garbage: parse_line decides
                            obj = None
                    if obj is None:
                        obj = parse_line(line, stats, unknown, sizes)  # every other case, counted
                    if obj is not None:
                        stats.end = offset
                        if obj["type"] in SHARED and repeats.seen(obj):
                            continue
                        yield (offset, obj) if positions else obj
                stats.end = offset
                continue
            if not follow or (stop is not None and stop()):
                break
            time.sleep(poll)
        if pending.strip():
            stats.torn += 1
