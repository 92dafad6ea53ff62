"""Delivering alerts in the background of a long-running process (``watch``,
``server``): a thread woken after each enqueue and by its own retry timers."""

from __future__ import annotations

import sys
import threading
import time

from . import queue
from .sender import TIMEOUT_S, Pass, deliver


class SenderThread:
    """Delivers in the background of a long-running process: woken by
    :meth:`kick` after an enqueue, and by its own retry timers."""

    def __init__(self, state_dir: str, targets: list[dict]):
        self.state_dir = state_dir
        self.targets = targets
        self._kick = threading.Event()
        self._stop = False
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="agent-strace-notify", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._kick.set()

    def _run(self) -> None:
        wait = 1.0
        while not self._stop:
            self._kick.wait(timeout=wait)
            self._kick.clear()
            if self._stop:
                break
            try:
                r = deliver(self.state_dir, self.targets)
            except Exception as e:  # never let the thread die
                r = Pass()
                r.errors.append(f"{type(e).__name__}: {e}")
            for err in r.errors:
                if err != self.last_error:
                    sys.stderr.write(f"agent-strace: notification: {err}\n")
                self.last_error = err
            wait = max(0.05, r.next_due - time.time()) if r.next_due else 5.0

    def drain(self, timeout: float) -> bool:
        """Deliver what is due now and wait (up to ``timeout``) for retries;
        True when nothing waits any more."""
        end = time.time() + timeout
        while True:
            if not queue.has_pending(self.state_dir, [t["key"] for t in self.targets]):
                return True
            if time.time() >= end:
                return False
            self.kick()
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop = True
        self._kick.set()
        self._thread.join(timeout=TIMEOUT_S + 2)
