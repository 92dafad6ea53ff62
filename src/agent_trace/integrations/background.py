"""One daemon thread that does capture work off the agent's path, in order.

Hook callbacks the agent waits on (the Claude Agent SDK's) answer first and
hand the writing here: :meth:`Worker.submit` queues a job and returns at
once.  :meth:`Worker.flush` waits until every job queued so far has run:
before the rules engine reads the session log, and at interpreter exit
(registered with :mod:`atexit` when the thread starts), so nothing queued is
lost when the program returns.  A failing job is said once on stderr and the
next one runs.
"""

from __future__ import annotations

import queue
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

EXIT_WAIT_S = 30.0  # at interpreter exit: the agent is done, the log is what is left to write


class Worker:
    def __init__(self, name: str) -> None:
        self.name = name
        self._q: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._exit_hooked = False

    def submit(self, job: Callable[[], object]) -> None:
        """Queue ``job``; it runs on the worker thread after the jobs before it
        (here and now if no thread can be started, as at interpreter exit)."""
        try:
            self._start()
        except RuntimeError:
            self._run_one(job)
            return
        self._q.put(job)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the jobs queued so far have run; False if ``timeout``
        passed first.  On the worker thread itself: nothing to wait for."""
        t = self._thread
        if t is None or threading.current_thread() is t:
            return True
        done = threading.Event()
        self.submit(done.set)
        return done.wait(timeout)

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            t = threading.Thread(target=self._run, name=self.name, daemon=True)
            t.start()
            self._thread = t
            if not self._exit_hooked:
                import atexit

                atexit.register(self._at_exit)
                self._exit_hooked = True

    def _run(self) -> None:
        while True:
            self._run_one(self._q.get())

    def _run_one(self, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception as e:  # one failing job is said once; the next one runs
            self._say(f"{type(e).__name__}: {e}")

    def _at_exit(self) -> None:
        if not self.flush(EXIT_WAIT_S):
            self._say(f"events still being written after {EXIT_WAIT_S:.0f} s at exit were lost")

    def _say(self, what: str) -> None:
        from .recorder import say  # (only on a failure: the recorder's imports stay off the start-up)

        say(self.name, what)
