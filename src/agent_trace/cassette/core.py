"""Record and replay: the :class:`Cassette` and its modes.

Modes (the names VCR.py and pytest-recording users know):

* ``once``: replay when the file exists (a call with no recording is an
  error), record everything when it does not;
* ``new_episodes``: replay what matches, record (really call) what does not;
* ``none``: replay only, never call out; no match is an error;
* ``all``: call out and record everything, replacing the file.

Each recording plays once unless ``allow_repeats``; at the end of a
replaying block, recordings never played are an error unless
``allow_unplayed``.  ``strict=False`` turns a call with no matching
recording into the next unplayed recording of the same kind and endpoint
(in recorded order), with a warning; the replay servers use that.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading

from . import format as fmt
from .matching import DEFAULT_MATCH, closest, cut, first_difference, normalise

MODES = ("once", "new_episodes", "none", "all")


class CassetteError(Exception):
    """Base of cassette errors."""


class CassetteDivergence(CassetteError):
    """A call that no recording matches (in a mode that may not record)."""


class CassetteUnplayed(CassetteError):
    """Recordings left unplayed at the end of a replaying block."""


def _endpoint(kind: str, call: dict) -> str:
    if kind == "http":
        return f"{call.get('method')} {call.get('path')}"
    if kind == "function":
        return f"{call.get('name')}()"
    return f"mcp {call.get('method')}"


def _shape(call: dict):
    body = call.get("body")
    j = body.get("json") if isinstance(body, dict) else None
    if not isinstance(j, dict):
        return None
    msgs = j.get("messages") if isinstance(j.get("messages"), list) else j.get("input")
    return j.get("model"), len(msgs) if isinstance(msgs, list) else None


class Cassette:
    def __init__(self, path: str, mode: str = "once", *, match_on: dict | None = None, ignore=(),
                 allow_repeats: bool = False, strict: bool = True, allow_unplayed: bool = False):
        if mode not in MODES:
            raise ValueError(f"record mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.path = os.fspath(path)
        self.mode = mode
        self.match_on = {**DEFAULT_MATCH, **(match_on or {})}
        self.ignore = tuple(ignore)
        self.allow_repeats = allow_repeats
        self.strict = strict
        self.allow_unplayed = allow_unplayed
        self.entries: list[dict] = []
        self.plays: list[int] = []
        self.recorded = 0
        self.calls = 0
        self.can_replay = self.can_record = False
        self._lock = threading.Lock()
        self._depth = 0

    # -- lifecycle ------------------------------------------------------------
    @classmethod
    def from_entries(cls, entries: list[dict], path: str = "<cassette>", **options) -> "Cassette":
        """A replay-only cassette over ``entries`` (for the replay servers)."""
        c = cls(path, "none", **options)
        c.entries = entries
        c.plays = [0] * len(entries)
        c.can_replay, c.can_record = True, False
        return c

    def unplayed(self) -> list[int]:
        return [i for i, n in enumerate(self.plays) if n == 0]

    def load(self) -> "Cassette":
        exists = os.path.exists(self.path)
        if self.mode == "none" and not exists:
            raise CassetteError(f"{self.path}: no such cassette (mode 'none' replays only: record it first, "
                                "e.g. with mode 'once' or --agent-cassette-mode=once)")
        if self.mode == "all" or not exists:
            self.entries = []
        else:
            self.entries = fmt.load(self.path)
        self.plays = [0] * len(self.entries)
        self.can_replay = self.mode != "all"
        self.can_record = self.mode in ("all", "new_episodes") or (self.mode == "once" and not exists)
        return self

    def __enter__(self) -> "Cassette":
        if self._depth == 0:
            self.load()
            from . import active

            active.push(self)
        self._depth += 1
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._depth -= 1
        if self._depth:
            return
        from . import active

        active.pop(self)
        if self.recorded:
            fmt.save(self.path, self.entries)
        if exc_type is None and self.can_replay and not self.allow_unplayed:
            left = [i for i, n in enumerate(self.plays) if n == 0 and i < len(self.plays)]
            if left:
                names = ", ".join(f"#{i} {_endpoint(self.entries[i]['kind'], self.entries[i]['request'])}"
                                  for i in left[:5])
                raise CassetteUnplayed(f"{self.path}: {len(left)} recorded call(s) never played: {names}"
                                       f"{' ...' if len(left) > 5 else ''} (allow_unplayed=True to permit)")

    def __call__(self, fn):
        """Use as a decorator (sync or async functions)."""
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def awrapper(*a, **kw):
                with self:
                    return await fn(*a, **kw)
            return awrapper

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            with self:
                return fn(*a, **kw)
        return wrapper

    # -- playing --------------------------------------------------------------
    def lookup(self, kind: str, call: dict, repeat: bool | None = None):
        """The recording to play for ``call``, or None when the call should
        go out for real (and be recorded).  Raises :class:`CassetteDivergence`
        when it may do neither."""
        with self._lock:
            self.calls += 1
            n = self.calls
            if self.can_replay:
                match_on = self.match_on[kind]
                live = normalise(call, match_on, self.ignore)
                same_kind = [i for i, e in enumerate(self.entries) if e.get("kind") == kind]
                repeats = self.allow_repeats if repeat is None else repeat
                open_ = [i for i in same_kind if repeats or self.plays[i] == 0]
                for i in open_:
                    if normalise(self.entries[i]["request"], match_on, self.ignore) == live:
                        self.plays[i] += 1
                        return self.entries[i]
                if not self.can_record:
                    if not self.strict:
                        fallback = self._fallback(kind, call, open_)
                        if fallback is not None:
                            self.plays[fallback] += 1
                            sys.stderr.write(f"agent-strace cassette: call #{n} {_endpoint(kind, call)} matches "
                                             f"no recording; playing recording #{fallback} (next in order)\n")
                            return self.entries[fallback]
                    raise CassetteDivergence(self._explain(n, kind, call, live, same_kind, open_))
            if not self.can_record:
                raise CassetteDivergence(f"call #{n} {_endpoint(kind, call)}: the cassette cannot record "
                                         f"in mode {self.mode!r}")
            return None

    def _fallback(self, kind, call, open_):
        """The recording to play for a call nothing matches exactly: same
        endpoint; among those, one with the same model and number of messages
        (the same point in an agent's loop), else the first in order."""
        ep = _endpoint(kind, call)
        same = [i for i in open_ if _endpoint(kind, self.entries[i]["request"]) == ep]
        live = _shape(call)
        for i in same:
            if _shape(self.entries[i]["request"]) == live:
                return i
        return same[0] if same else None

    def _explain(self, n, kind, call, live, same_kind, open_) -> str:
        ep = _endpoint(kind, call)
        head = f"{self.path}: call #{n} {ep} matches no recording"
        if not same_kind:
            return f"{head}: the cassette has no {kind} recordings"
        if not open_:
            return (f"{head}: all {len(same_kind)} recorded {kind} call(s) were already played "
                    "(a call past the end; allow_repeats=True replays them again)")
        match_on = self.match_on[kind]
        cands = [(i, normalise(self.entries[i]["request"], match_on, self.ignore)) for i in open_]
        # type-checker: closest() is None only for no candidates; open_ is non-empty here
        idx, fails, sim = closest(live, cands, match_on)  # type: ignore[misc]
        rec = dict(cands)[idx]
        lines = [f"{head}.", f"  closest recording: #{idx} {_endpoint(kind, self.entries[idx]['request'])} "
                             f"({sim:.0%} similar)",
                 f"  matchers that failed: {', '.join(fails)}"]
        for field in fails:
            d = first_difference(rec.get(field), live.get(field), field)
            if d:
                lines.append(f"  first difference at {d[0]}: recorded {cut(d[1])} / now {cut(d[2])}")
        lines.append("  (ignore=[...] drops fields from matching; mode='new_episodes' records new calls)")
        return "\n".join(lines)

    def add(self, kind: str, request: dict, response: dict) -> dict:
        """Record a call (in call order); the response may be filled in later
        (a stream is complete only when it closes)."""
        entry = {"kind": kind, "request": request, "response": response}
        with self._lock:
            self.entries.append(entry)
            self.plays.append(1)
            self.recorded += 1
        return entry


def use_cassette(path, mode: str = "once", **options) -> Cassette:
    """A context manager / decorator recording or replaying calls."""
    return Cassette(path, mode, **options)


def record(path, mode: str = "all", **options) -> Cassette:
    """Call out for real and record (``mode='new_episodes'`` keeps what is there)."""
    return Cassette(path, mode, **options)


def replay(path, **options) -> Cassette:
    """Replay only: never call out; a call with no recording raises."""
    return Cassette(path, "none", **options)
