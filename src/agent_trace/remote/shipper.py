"""Deliver what the local store gained since the last delivery.

State lives next to the store, per endpoint (``spool/<hash>.cursor.json``):
for each session file, the byte offset the server has acknowledged and the
file's identity.  One shipper runs at a time per store and endpoint (an
``flock`` taken without waiting; whoever holds it re-checks the files after
releasing it, so an append made while it was busy is never stranded).

A pass reads each file from its cursor, cuts at the last complete line,
posts batches in file order and moves the cursor only after the server said
200.  A crash between the server's append and the cursor write re-sends the
batch; the server drops the ids it already has, so its store gets every event
exactly once.  A line still being written (no newline yet) waits for the next
pass.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time

from ..store.paths import Store
from .client import DeliveryError, IngestClient
from .config import spool_paths

BATCH_BYTES = 1 << 20
BATCH_LINES = 2000


class ShipResult:
    def __init__(self):
        self.batches = 0
        self.lines = 0
        self.accepted = 0
        self.duplicates = 0
        self.rejected = 0
        self.pending_bytes = 0
        self.error: str | None = None
        self.retry = True
        self.busy = False  # another shipper held the lock

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("batches", "lines", "accepted", "duplicates", "rejected",
                                               "pending_bytes", "error", "busy")}


class Shipper:
    def __init__(self, store: Store, endpoint: str, token: str | None = None, timeout: float = 10.0):
        self.store = store
        self.endpoint = endpoint
        self.client = IngestClient(endpoint, token, timeout)
        self.cursor_path, self.lock_path = spool_paths(store.subdir("spool"), endpoint)

    # -- cursor ---------------------------------------------------------------
    def load_cursor(self) -> dict:
        try:
            with open(self.cursor_path, encoding="utf-8") as f:
                data = json.load(f)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save_cursor(self, cursor: dict) -> None:
        d = os.path.dirname(self.cursor_path)
        fd, tmp = tempfile.mkstemp(prefix=".cursor.", dir=d)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(cursor, f, separators=(",", ":"))
        os.replace(tmp, self.cursor_path)

    def pending_bytes(self) -> int:
        """Bytes appended locally and not yet acknowledged (no lock needed)."""
        cursor = self.load_cursor()
        total = 0
        for entry in self.store.session_files():
            try:
                st = entry.stat()
            except OSError:
                continue
            off, ident = _position(cursor.get(entry.name), st)
            total += st.st_size - off
        return total

    # -- delivery -------------------------------------------------------------
    def ship(self, deadline: float | None = None, gather: float = 0.0) -> ShipResult:
        """Deliver everything pending, unless another shipper is at it.
        ``gather``: seconds to wait after taking the lock, so a burst of
        appends (hooks fire in quick succession) goes out in one pass."""
        result = ShipResult()
        self.store.ensure()
        os.makedirs(os.path.dirname(self.lock_path), exist_ok=True)
        try:
            while True:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        result.busy = True
                        break
                    if gather:
                        time.sleep(gather)
                        gather = 0.0
                    sizes: dict[str, int] = {}
                    while self._pass(result, deadline, sizes) and not result.error:
                        if deadline is not None and time.monotonic() > deadline:
                            break
                finally:
                    os.close(fd)  # releases the lock
                if result.error or (deadline is not None and time.monotonic() > deadline):
                    break
                # Appended while we held the lock?  Whoever failed to take it
                # relies on this re-check.
                if not self._grew(sizes):
                    break
        finally:
            self.client.close()
        result.pending_bytes = self.pending_bytes()
        return result

    def _grew(self, sizes: dict[str, int]) -> bool:
        for entry in self.store.session_files():
            try:
                if entry.stat().st_size > sizes.get(entry.name, 0):
                    return True
            except OSError:
                continue
        return False

    def _pass(self, result: ShipResult, deadline: float | None, sizes: dict) -> bool:
        cursor = self.load_cursor()
        progressed = False
        entries = self.store.session_files()
        seen = set()
        for entry in entries:
            seen.add(entry.name)
            try:
                st = entry.stat()
            except OSError:
                continue
            sizes[entry.name] = st.st_size
            off, ident = _position(cursor.get(entry.name), st)
            if off >= st.st_size:
                continue
            with open(entry.path, "rb") as f:
                while off < st.st_size:
                    body, used = _read_batch(f, off, st.st_size)
                    if not used:
                        break  # only an unfinished line left
                    try:
                        counts = self.client.post_lines(body)
                    except DeliveryError as e:
                        result.error = str(e)
                        result.retry = e.retry
                        return progressed
                    off += used
                    cursor[entry.name] = [off, ident]
                    self._save_cursor(cursor)
                    progressed = True
                    result.batches += 1
                    result.lines += body.count(b"\n")
                    for k in ("accepted", "duplicates", "rejected"):
                        v = counts.get(k)
                        if isinstance(v, int):
                            setattr(result, k, getattr(result, k) + v)
                    if deadline is not None and time.monotonic() > deadline:
                        return progressed
        stale = [name for name in cursor if name not in seen]
        if stale:
            for name in stale:
                del cursor[name]
            self._save_cursor(cursor)
        return progressed


def _position(saved, st) -> tuple[int, list]:
    ident = [st.st_ino, st.st_dev]
    if isinstance(saved, list) and len(saved) == 2 and saved[1] == ident and isinstance(saved[0], int):
        if saved[0] <= st.st_size:
            return saved[0], ident
    return 0, ident  # new, replaced or shrunk: from the start (the server de-duplicates)


def _read_batch(f, off: int, size: int) -> tuple[bytes, int]:
    """Whole lines from ``off``: up to BATCH_LINES lines / about BATCH_BYTES
    (more when one line is bigger).  Returns (body, bytes consumed)."""
    f.seek(off)
    want = min(BATCH_BYTES, size - off)
    buf = f.read(want)
    end = buf.rfind(b"\n")
    while end < 0 and off + len(buf) < size:  # one line longer than a batch
        more = f.read(min(BATCH_BYTES, size - off - len(buf)))
        if not more:
            break
        nl = more.find(b"\n")
        buf += more
        if nl >= 0:
            end = len(buf) - len(more) + nl
    if end < 0:
        return b"", 0
    body = buf[: end + 1]
    if body.count(b"\n") > BATCH_LINES:
        cut = -1
        for _ in range(BATCH_LINES):
            cut = body.index(b"\n", cut + 1)
        body = body[: cut + 1]
    return body, len(body)
