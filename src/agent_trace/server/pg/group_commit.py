"""Group commit: the batches of requests that reach one collector at the
same time share a transaction and its commit.

A request hands its prepared batch to :meth:`GroupCommit.submit` and waits.
Up to ``writers`` of the waiting request threads at a time take turns as
the writer: each takes every batch queued (up to ``MAX_EVENTS`` events),
stores them in one transaction and commits, then wakes their requests.  A
request returns only after the transaction holding its batch committed, so
a 200 still means committed; when that transaction fails, every request in
it fails the same way (503 while the database is down: nothing was
acknowledged).  A failure that is not the database's (a batch the database
refuses) is retried batch by batch, so one request cannot fail the others.
Exactly once still holds: the ``UNIQUE (session, id)`` constraint decides,
whichever transaction an event is in.
"""

from __future__ import annotations

import threading

from ..storage import StorageUnavailable

MAX_EVENTS = 20_000  # events in one group transaction at most


class _Job:
    __slots__ = ("batch", "size", "taken", "done", "result", "error")

    def __init__(self, batch: dict, size: int):
        self.batch, self.size = batch, size
        self.taken = self.done = False
        self.result = None
        self.error: BaseException | None = None


class GroupCommit:
    def __init__(self, store_group, writers: int = 2):
        """``store_group(batches)``: stores a list of batches in one committed
        transaction; returns one result per batch."""
        self._store_group = store_group
        self._writers = max(1, writers)
        self._active = 0
        self._queue: list[_Job] = []
        self._cond = threading.Condition()

    def submit(self, batch: dict, size: int):
        """Store ``batch`` (``size`` events); its result once committed."""
        job = _Job(batch, size)
        with self._cond:
            self._queue.append(job)
            while not job.done and (job.taken or self._active >= self._writers):
                self._cond.wait()
            if job.done:
                return _outcome(job)
            self._active += 1  # this thread writes, its own batch first
        try:
            while not job.done:
                with self._cond:
                    group: list[_Job] = []
                    total = 0
                    while self._queue and (not group or total + self._queue[0].size <= MAX_EVENTS):
                        j = self._queue.pop(0)
                        j.taken = True
                        group.append(j)
                        total += j.size
                    if not group:  # another writer has this thread's batch
                        self._cond.wait()
                        continue
                self._run(group)
                with self._cond:
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()
        return _outcome(job)

    def _run(self, group: list[_Job]) -> None:
        try:
            results = self._store_group([j.batch for j in group])
            for j, r in zip(group, results):
                j.result = r
        except StorageUnavailable as e:
            for j in group:
                j.error = e
        except BaseException:
            if len(group) == 1:
                import sys

                group[0].error = sys.exc_info()[1]
            else:
                for j in group:  # one batch may be at fault: each alone
                    self._run([j])
                return
        for j in group:
            j.done = True


def _outcome(job: _Job):
    if job.error is not None:
        raise job.error
    return job.result
