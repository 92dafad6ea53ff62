"""What HTTP hooks could not deliver, read back from the session transcript.

Claude Code treats a failed observation hook as non-blocking: with the
daemon down or killed, PostToolUse, UserPromptSubmit and the rest are simply
not delivered.  The transcript Claude Code writes holds the same happenings,
and the transcript importer (:mod:`agent_trace.capture.transcript`) writes
them with the ids the hooks would have used (``event.derived_id``) and skips
ids already in the session.  So the recovery is: import the session's
transcripts at the next point the daemon hears of the session

* Stop, SubagentStop, StopFailure (the agent waits for these hooks),
* SessionEnd (then the import is final and the session is forgotten),
* the daemon's own start (every session registered and not yet ended),

and count what the import added.  Events of the kinds hooks deliver are
recovered events; when there are any, a ``annotation`` event named
``recovery`` records how many of each kind, from which transcripts and at
which point.  Nothing is duplicated: the importer skips known ids.

The importer's interface is all this module relies on:
``import_session(store, sink, transcript, session, final) -> int`` and
``import_transcript(store, sink, path, session, agent_id, final) -> int``,
both writing through ``sink.emit_many``.

Imports run on one background thread after the hook was answered, so the
agent never waits for them; :meth:`Recoverer.wait_idle` lets ``daemon sync``
(and tests) wait until they are done.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import OrderedDict

from .. import event as ev

# Events hooks deliver: what the transcript gives back after an outage.
HOOK_KINDS = frozenset({ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR, ev.USER_PROMPT, ev.TURN_END,
                        ev.SUBAGENT_START, ev.SUBAGENT_STOP})
IDLE_FINAL_S = 60.0  # at start: a transcript untouched this long belongs to a finished session


class CountingSink:
    """Passes events on and counts them by type."""

    def __init__(self, sink):
        self.sink = sink
        self.store = getattr(sink, "store", None)
        self.by_type: dict[str, int] = {}

    def emit(self, event: dict) -> None:
        self.emit_many([event])

    def emit_many(self, events) -> None:
        events = list(events)
        self.sink.emit_many(events)
        for e in events:
            t = e.get("type")
            self.by_type[t] = self.by_type.get(t, 0) + 1

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class Job:
    """An import of one session's transcripts; ``before``: work to run first
    on the same thread (the git state at SessionEnd), ``on_done`` after."""

    __slots__ = ("store", "sink", "session", "transcript", "subagent", "final", "at", "on_done", "before")

    def __init__(self, store, sink, session: str, transcript: str | None, subagent=None,
                 final: bool = False, at: str = "Stop", on_done=None, before=()):
        self.store, self.sink, self.session = store, sink, session
        self.transcript, self.subagent = transcript, subagent  # subagent: (path, agent_id) or None
        self.final, self.at, self.on_done = final, at, on_done
        self.before = list(before)

    def merge(self, later: "Job") -> "Job":
        """Two imports of one session waiting at once: one run does both."""
        self.final = self.final or later.final
        self.transcript = later.transcript or self.transcript
        self.subagent = later.subagent or self.subagent
        self.at = later.at
        self.on_done = later.on_done or self.on_done
        self.before += later.before
        return self


def recover(job: Job) -> dict:
    """Import the job's transcripts; returns what was added, by type, and
    writes the recovery note when hook kinds were among them."""
    from ..capture import log_import as transcript

    counting = CountingSink(job.sink)
    sources = []
    if job.subagent:
        path, agent_id = job.subagent
        if isinstance(path, str) and os.path.isfile(path):
            transcript.import_transcript(job.store, counting, path, job.session, agent_id, job.final)
            sources.append(path)
    if isinstance(job.transcript, str) and os.path.isfile(job.transcript):
        transcript.import_session(job.store, counting, job.transcript, job.session, job.final)
        sources.append(job.transcript)
    recovered = {t: n for t, n in sorted(counting.by_type.items()) if t in HOOK_KINDS}
    if recovered:
        total = sum(recovered.values())
        job.sink.emit(ev.make_event(
            ev.ANNOTATION, job.session, "agent-strace", name="recovery", status=ev.OK,
            data={"recovered": total, "by_type": recovered, "from": sources, "at": job.at,
                  "note": f"{total} event(s) the hooks did not deliver, read back from the agent's "
                          "transcript with the ids the hooks use"}))
    return {"by_type": dict(counting.by_type), "recovered": sum(recovered.values()), "from": sources}


class Recoverer:
    """One background thread running :class:`Job` s, at most one queued per session."""

    def __init__(self, on_recovered=None):
        self._jobs: OrderedDict[tuple, Job] = OrderedDict()
        self._cond = threading.Condition()
        self._busy = False
        self._stop = False
        self.on_recovered = on_recovered  # (job, result) -> None
        self.runs = 0
        self.recovered = 0
        self._thread = threading.Thread(target=self._run, name="agent-strace-recovery", daemon=True)
        self._thread.start()

    def schedule(self, job: Job) -> None:
        key = (job.store.root, job.session)
        with self._cond:
            queued = self._jobs.get(key)
            self._jobs[key] = queued.merge(job) if queued else job
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        with self._cond:
            while self._jobs or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        self.wait_idle(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                _, job = self._jobs.popitem(last=False)
                self._busy = True
            try:
                for work in job.before:
                    work()
                result = recover(job)
                self.runs += 1
                self.recovered += result["recovered"]
                if self.on_recovered:
                    self.on_recovered(job, result)
                if job.on_done:
                    job.on_done()
            except Exception as e:  # a bad transcript never stops the daemon
                sys.stderr.write(f"agent-strace daemon: transcript of {job.session} not imported: "
                                 f"{type(e).__name__}: {e}\n")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def at_start_jobs(pending: list[dict], open_store, idle_final_s: float = IDLE_FINAL_S,
                  now: float | None = None) -> list[Job]:
    """Jobs for the sessions registered before this daemon started (the
    previous one may have died with their events undelivered).
    ``open_store(entry) -> (store, sink)``."""
    now = time.time() if now is None else now
    jobs = []
    for entry in pending:
        path = entry.get("transcript_path")
        if not isinstance(path, str) or not os.path.isfile(path):
            continue
        store, sink = open_store(entry)
        idle = now - os.path.getmtime(path)
        jobs.append(Job(store, sink, entry["session"], path, final=idle >= idle_final_s, at="daemon start"))
    return jobs
