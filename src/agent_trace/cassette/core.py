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
recording into the closest unplayed recording of the same kind and endpoint
(at the same point of the loop when there is one), with a warning; the
replay servers use that.

``tolerate_drift=True`` (the replay server's default) gives an HTTP call that
matches no recording exactly a second chance on what the agent decided
(:data:`.matching.DRIFT_MATCH`: method, path and the ``conversation`` view),
so a new agent version's system prompt or tool list does not fail a replay.

Portable: the cassette notes the recording's workspace root and home; calls
and responses are mapped between them and ``workspace``/``home`` (default:
the current folder and the user's home), see :mod:`.workspace`.

Fork: ``fork_at`` (see :mod:`.fork`) plays the cassette up to that point,
then lets calls go out for real; ``fork_to`` names the new cassette written
at the end (what was played, as played, then what was recorded live).
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading

from . import format as fmt
from .conversation import describe, drift
from .fork import ForkPoint, is_model_call
from .matching import DEFAULT_MATCH, DRIFT_MATCH, closest, cut, first_difference, normalise, signature
from .workspace import PathMap, Places

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

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
                 allow_repeats: bool = False, strict: bool = True, allow_unplayed: bool = False,
                 tolerate_drift: bool = False, workspace: str | None = None, home: str | None = None,
                 fork_at=None, fork_to: str | None = None):
        if mode not in MODES:
            raise ValueError(f"record mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.path = os.fspath(path)
        self.mode = mode
        self.match_on = {**DEFAULT_MATCH, **(match_on or {})}
        self.ignore = tuple(ignore)
        self.allow_repeats = allow_repeats
        self.strict = strict
        self.allow_unplayed = allow_unplayed
        self.tolerate_drift = tolerate_drift
        self.entries: list[dict] = []
        self.plays: list[int] = []
        self.recorded = 0
        self.calls = 0
        self.can_replay = self.can_record = False
        self._lock = threading.Lock()
        self._depth = 0
        # portable paths: where the recording ran, where this run runs
        self.recorded_places = Places()
        self.live_places = Places(workspace or os.getcwd(), home or os.path.expanduser("~"))
        self._views: dict = {}
        self._live_map: PathMap | Literal[False] | None = None  # False: nothing to map
        self.drift_notes: set = set()
        # fork
        self.fork = ForkPoint(fork_at) if fork_at is not None else None
        self.fork_to = os.fspath(fork_to) if fork_to is not None else None
        self.forked = False
        self.fork_call: int | None = None  # the call number that went live first
        self.model_calls = 0
        self.fork_out: list[dict] = []
        self.n_loaded = 0

    # -- lifecycle ------------------------------------------------------------
    @classmethod
    def from_entries(cls, entries: list[dict], path: str = "<cassette>", workspace: dict | None = None,
                     **options) -> "Cassette":
        """A replay-only cassette over ``entries`` (for the replay servers);
        ``workspace`` is the file's header (where it was recorded)."""
        c = cls(path, "none", **options)
        c.entries = entries
        c.plays = [0] * len(entries)
        c.n_loaded = len(entries)
        c.can_replay, c.can_record = True, False
        c.recorded_places = Places(**(workspace or {}))
        if c.fork:
            c.fork.resolve(entries)
        return c

    def set_live_places(self, root: str | None = None, home: str | None = None) -> None:
        """Where the replaying agent works (the replay server learns it from
        the agent's requests); None keeps what is known."""
        with self._lock:
            new = Places(root or self.live_places.root, home or self.live_places.home)
            if new != self.live_places:
                self.live_places, self._live_map = new, None

    def unplayed(self) -> list[int]:
        return [i for i, n in enumerate(self.plays) if n == 0]

    def load(self) -> "Cassette":
        exists = os.path.exists(self.path)
        if self.mode == "none" and not exists:
            raise CassetteError(f"{self.path}: no such cassette (mode 'none' replays only: record it first, "
                                "e.g. with mode 'once' or --agent-cassette-mode=once)")
        header: dict
        if self.mode == "all" or not exists:
            self.entries, header = [], {}
        else:
            self.entries, header = fmt.load_file(self.path)
        self.recorded_places = Places(**header.get("workspace", {}))
        self.plays = [0] * len(self.entries)
        self.n_loaded = len(self.entries)
        self.can_replay = self.mode != "all"
        self.can_record = self.mode in ("all", "new_episodes") or (self.mode == "once" and not exists)
        if self.fork:
            if not self.can_replay or not exists:
                raise CassetteError(f"{self.path}: a fork point needs a recorded cassette to play first")
            self.fork.resolve(self.entries)
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
        if self.fork is not None:
            target = self.fork_to or _fork_path(self.path)
            fmt.save(target, self.fork_out, self.live_places.as_dict())
            if self.forked:
                sys.stderr.write(f"agent-strace cassette: forked at call #{self.fork_call} "
                                 f"({self.fork.describe()}); the new run is in {target}\n")
        elif self.recorded:
            self._save()
        if exc_type is None and self.can_replay and not self.allow_unplayed and not self.forked:
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
            model = kind == "http" and is_model_call(call)
            if self.fork is not None:
                if self.forked:
                    return None
                if model and self.fork.calls is not None and self.model_calls >= self.fork.calls:
                    return self._go_live(n)
            if self.can_replay:
                to_placeholders = self._matching_map()
                raw = to_placeholders is None  # both sides name the same folders: compare as they are
                live_call = call if raw else to_placeholders.json(call)  # type: ignore[union-attr]  # raw: it is None
                same_kind = [i for i, e in enumerate(self.entries) if e.get("kind") == kind]
                repeats = self.allow_repeats if repeat is None else repeat
                open_ = [i for i in same_kind if repeats or self.plays[i] == 0]
                tiers = [tuple(self.match_on[kind])]
                if kind == "http" and (self.tolerate_drift or (self.fork and self.fork.divergence)) \
                        and tiers[0] != DRIFT_MATCH:
                    tiers.append(DRIFT_MATCH)
                for tier, fields in enumerate(tiers):
                    live = normalise(live_call, fields, self.ignore)
                    for i in open_:
                        if self._view(i, fields, raw) == live:
                            if tier:
                                self._note_drift(n, kind, live_call, i, raw)
                            return self._played(i, kind, call, model)
                if self.fork is not None and (self.fork.divergence or not model):
                    return self._go_live(n) if model else None
                if not self.can_record:
                    if not self.strict:
                        fallback = self._fallback(kind, call, open_, live_call, raw)
                        if fallback is not None:
                            sys.stderr.write(f"agent-strace cassette: call #{n} {_endpoint(kind, call)} matches "
                                             f"no recording; playing recording #{fallback} (the closest)\n")
                            return self._played(fallback, kind, call, model)
                    raise CassetteDivergence(self._explain(n, kind, live_call, same_kind, open_, tiers[-1], raw))
            if not self.can_record:
                raise CassetteDivergence(f"call #{n} {_endpoint(kind, call)}: the cassette cannot record "
                                         f"in mode {self.mode!r}")
            return None

    def _played(self, i: int, kind: str, call: dict, model: bool) -> dict:
        self.plays[i] += 1
        if model:
            self.model_calls += 1
        entry = self.entries[i]
        if self.fork is not None and self.keep_played:
            self.fork_out.append({"kind": kind, "request": call, "response": self.response(entry)})
        return entry

    keep_played = True  # a fork's new cassette gets the played calls (the replay server records its own)

    def _go_live(self, n: int):
        self.forked, self.fork_call = True, n
        sys.stderr.write(f"agent-strace cassette: call #{n} goes live: fork point reached "
                         f"({self.fork.describe()})\n")  # type: ignore[union-attr]  # only a forking cassette goes live
        return None

    # -- portable paths -----------------------------------------------------------
    def _matched_places(self) -> Places:
        """The live places the recording has a counterpart for."""
        rec, live = self.recorded_places, self.live_places
        return Places(live.root if rec.root else None, live.home if rec.home else None)

    def _matching_map(self) -> PathMap | None:
        """Live folders -> placeholders; None when both sides name the same
        folders (or none): then nothing needs mapping."""
        if self._live_map is None:
            matched = self._matched_places()
            self._live_map = PathMap(matched) if matched != self.recorded_places else False
        return self._live_map or None

    def _view(self, i: int, fields: tuple, raw: bool):
        key = (raw, i, fields)
        v = self._views.get(key)
        if v is None:
            v = self._views[key] = normalise(self._recorded_request(i, raw), fields, self.ignore)
        return v

    def response(self, entry: dict) -> dict:
        """A recording's response as this run should see it: recorded folders
        replaced by the live ones."""
        if entry.get("kind") != "http" or not self.recorded_places:
            return entry["response"]
        return PathMap(self.recorded_places, self._matched_places()).response(entry["response"])

    def _recorded_request(self, i: int, raw: bool = False) -> dict:
        """Recording ``i``'s request with its folders as placeholders (kept:
        the recording does not change); ``raw``: as recorded."""
        if raw:
            return self.entries[i]["request"]
        key = ("request", i)
        if key not in self._views:
            if "recorded" not in self._views:
                self._views["recorded"] = PathMap(self.recorded_places)
            self._views[key] = self._views["recorded"].json(self.entries[i]["request"])
        return self._views[key]

    def _signature(self, i: int, fields: tuple, view: dict, raw: bool):
        key = ("signature", raw, i, fields)
        if key not in self._views:
            self._views[key] = signature(view)
        return self._views[key]

    def _note_drift(self, n: int, kind: str, live_call: dict, i: int, raw: bool) -> None:
        recorded = fmt.body_value(self._recorded_request(i, raw).get("body"))
        what = drift(recorded, fmt.body_value(live_call.get("body"))) or ["request details"]
        key = tuple(what)
        if key not in self.drift_notes:
            self.drift_notes.add(key)
            sys.stderr.write(f"agent-strace cassette: call #{n} {_endpoint(kind, live_call)} plays recording #{i}: the "
                             f"agent's decisions are the same; tolerated changes: {', '.join(what)}\n")

    def _fallback(self, kind, call, open_, live_call, raw):
        """The recording to play for a call nothing matches exactly: same
        endpoint; among those, the ones with the same model and number of
        messages (the same point in an agent's loop), else all; of those, the
        one whose conversation is closest to the call's (a background
        subagent's request, whose reminders depend on timing, goes to the
        subagent's recording, not to the main agent's next one in order)."""
        ep = _endpoint(kind, call)
        same = [i for i in open_ if _endpoint(kind, self.entries[i]["request"]) == ep]
        live = _shape(call)
        pool = [i for i in same if _shape(self.entries[i]["request"]) == live] or same
        if len(pool) <= 1:
            return pool[0] if pool else None
        view = normalise(live_call, DRIFT_MATCH, self.ignore)
        best = closest(view, [(i, self._view(i, DRIFT_MATCH, raw)) for i in pool], DRIFT_MATCH)
        return best[0] if best else pool[0]

    def _explain(self, n, kind, live_call, same_kind, open_, match_on, raw) -> str:
        ep = _endpoint(kind, live_call)
        head = f"{self.path}: call #{n} {ep} matches no recording"
        if not same_kind:
            return f"{head}: the cassette has no {kind} recordings"
        if not open_:
            return (f"{head}: all {len(same_kind)} recorded {kind} call(s) were already played "
                    "(a call past the end; allow_repeats=True replays them again)")
        live = normalise(live_call, match_on, self.ignore)
        cands = [(i, self._view(i, match_on, raw)) for i in open_]
        # type-checker: closest() is None only for no candidates; open_ is non-empty here
        idx, fails, sim = closest(live, cands, match_on, lambda i, view: self._signature(i, match_on, view, raw))  # type: ignore[misc]
        rec = dict(cands)[idx]
        lines = [f"{head}.", f"  closest recording: #{idx} {_endpoint(kind, self.entries[idx]['request'])} "
                             f"({sim:.0%} similar)",
                 f"  matchers that failed: {', '.join(fails)}"]
        for field in fails:
            d = first_difference(rec.get(field), live.get(field), field)
            if d:
                # type-checker: normalise() puts the conversation view (a dict) under "conversation"
                where = describe(d[0][len(field) + 1:], live.get(field)) if field == "conversation" else d[0]  # type: ignore[arg-type]
                if field == "conversation":
                    where = f"{field}.{where}"
                lines.append(f"  first difference at {where}: recorded {cut(d[1])} / now {cut(d[2])}")
        if "conversation" in match_on:
            changed = drift(fmt.body_value(self._recorded_request(idx, raw).get("body")),
                            fmt.body_value(live_call.get("body")))
            if changed:
                lines.append(f"  also changed (tolerated, not the agent's decisions): {', '.join(changed)}")
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
            if self.fork is not None:
                self.fork_out.append(entry)
        return entry

    def _save(self) -> None:
        """Write the file; calls recorded here in another folder than the
        file's are stored in the file's terms, so the cassette stays one."""
        header = self.recorded_places or self.live_places
        entries = self.entries
        if self.recorded_places and self.n_loaded < len(entries):
            back = PathMap(self._matched_places(), self.recorded_places)
            if back:
                entries = entries[: self.n_loaded] + [
                    {**e, "request": back.json(e["request"]), "response": back.response(e["response"])}
                    for e in entries[self.n_loaded:]]
        fmt.save(self.path, entries, header.as_dict())


def _fork_path(path: str) -> str:
    root, ext = os.path.splitext(path)
    return f"{root}.fork{ext or '.json'}"


def use_cassette(path, mode: str = "once", **options) -> Cassette:
    """A context manager / decorator recording or replaying calls."""
    return Cassette(path, mode, **options)


def record(path, mode: str = "all", **options) -> Cassette:
    """Call out for real and record (``mode='new_episodes'`` keeps what is there)."""
    return Cassette(path, mode, **options)


def replay(path, **options) -> Cassette:
    """Replay only: never call out; a call with no recording raises."""
    return Cassette(path, "none", **options)
