"""How capture processes hand the spool to a shipper without waiting.

* Long-running capture (proxies, the SDK, ``watch``): :class:`ShippingSink`
  with a background thread that ships shortly after each append and backs off
  while the server is unreachable.
* Hooks (one short process per event): the sink forks a detached shipper at
  ``close()`` and returns at once, so the agent never waits on the network.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from ..store.sink import FileSink
from ..store.paths import Store

# The shipper (http.client, gzip, json, hashlib) is imported where it runs: in
# the forked child or the background thread, never on the hook's own path.

GATHER_S = 0.02  # let a burst of appends go out as one batch
MAX_BACKOFF_S = 5.0


class BackgroundShipper:
    def __init__(self, store: Store, endpoint: str, token: str | None):
        from .shipper import Shipper

        self.shipper = Shipper(store, endpoint, token)
        self._kick = threading.Event()
        self._stop = False
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="agent-strace-shipper", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._kick.set()

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop:
            self._kick.wait(timeout=max(backoff, 1.0))
            if self._stop:
                break
            self._kick.clear()
            time.sleep(GATHER_S)
            try:
                r = self.shipper.ship()
            except Exception as e:  # never let the thread die
                r = None
                self.last_error = f"{type(e).__name__}: {e}"
            if r is not None and r.error:
                if r.error != self.last_error:
                    sys.stderr.write(f"agent-strace: events spooled locally, delivery failed: {r.error}\n")
                self.last_error = r.error
            if r is None or r.error:
                backoff = min(MAX_BACKOFF_S, backoff * 2 or 0.1)
                time.sleep(backoff)
                self._kick.set()  # try again
            elif r.busy:
                time.sleep(0.05)
                self._kick.set()
            else:
                backoff = 0.0
                self.last_error = None

    def drain(self, timeout: float) -> int:
        """Wait until everything appended so far is delivered (or timeout);
        returns the bytes still pending."""
        end = time.monotonic() + timeout
        while True:
            pending = self.shipper.pending_bytes()
            if not pending or time.monotonic() >= end:
                return pending
            self.kick()
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop = True
        self._kick.set()
        self._thread.join(timeout=2)


HOOK_GATHER_S = 0.05


def _shipper_running(store: Store, endpoint: str) -> bool:
    """True when another process holds the shipping lock (it re-checks the
    files after releasing it, so our appends are covered)."""
    import fcntl

    from .config import spool_paths

    lock = spool_paths(store.subdir("spool"), endpoint)[1]
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def ship_detached(store: Store, endpoint: str, token: str | None) -> None:
    """Fork a shipper that outlives this process; returns immediately.  No
    fork when a shipper is already at work: it picks up our appends."""
    if _shipper_running(store, endpoint):
        return
    try:
        pid = os.fork()
    except OSError as e:
        sys.stderr.write(f"agent-strace: events spooled locally, no shipper started: {e.strerror}\n")
        return
    if pid:
        return
    code = 0
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        from .shipper import Shipper

        Shipper(store, endpoint, token).ship(deadline=time.monotonic() + 60, gather=HOOK_GATHER_S)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


class ShippingSink(FileSink):
    """Appends to the local store (the spool), then has it delivered."""

    def __init__(self, store: Store, endpoint: str, token: str | None, detached: bool = False,
                 drain_timeout: float = 5.0):
        super().__init__(store)
        self.endpoint = endpoint
        self.token = token
        self.detached = detached
        self.drain_timeout = drain_timeout
        self._bg: BackgroundShipper | None = None
        self._closed = False
        if not detached:
            import atexit

            atexit.register(self.close)  # proxies and SDK users exit without closing their sink

    def emit_many(self, events) -> None:
        super().emit_many(events)
        if not self.detached:
            if self._bg is None:
                self._bg = BackgroundShipper(self.store, self.endpoint, self.token)
            self._bg.kick()

    # type-checker: flush(timeout) extends FileSink.flush(); callers use the result
    def flush(self, timeout: float | None = None) -> int:  # type: ignore[override]
        if self._bg is None:
            return 0
        return self._bg.drain(self.drain_timeout if timeout is None else timeout)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.detached:
            if self._ready:  # something was appended
                ship_detached(self.store, self.endpoint, self.token)
            return
        if self._bg is not None:
            pending = self._bg.drain(self.drain_timeout)
            self._bg.stop()
            if pending:
                sys.stderr.write(f"agent-strace: {pending} bytes spooled in {self.store.root}; "
                                 "the next capture or `agent-strace push` delivers them\n")
