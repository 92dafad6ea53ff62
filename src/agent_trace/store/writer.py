"""Appending whole lines to a session file, safely from many processes.

Contract: :func:`append_lines` either appends every byte of ``data`` as a
contiguous run at the end of the file or raises ``OSError``.  Concurrent
appenders (parallel hook processes, proxy threads, the server) never
interleave, tear or lose a line:

* the file is opened ``O_APPEND`` and the whole run is written under an
  exclusive ``flock``, looping over short writes;
* a file deleted while the writer waited for the lock (``server --retain``)
  is not written to: the writer opens a new one;
* if a previous writer was killed mid-line (the file does not end in
  ``\\n``), a newline is written first so the torn fragment stays a single
  corrupt line instead of spoiling ours;
* only a regular file is written: a session path that is a FIFO, a device
  or a socket (a symlink to ``/dev/full``, a pipe nobody reads) is refused
  with ``OSError`` instead of blocking or writing somewhere else.

See ``adr/0004-concurrent-appends.md``.

:func:`write_json` replaces a small state file (a cursor, a cache, an
index) whole.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat


def open_locked(path: str, flags: int, mode: int = 0o600) -> tuple[int, os.stat_result]:
    """Open ``path`` (``flags``; opened non-blocking, then made blocking)
    and take its exclusive ``flock``; returns the descriptor and the file's
    state under the lock.  A file removed while we waited for the lock is
    left for the one that replaced it; only a regular file is taken
    (``OSError`` otherwise)."""
    while True:
        fd = os.open(path, flags | os.O_CLOEXEC | os.O_NONBLOCK, mode)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EINVAL, "not a regular file", path)
            os.set_blocking(fd, True)
            fcntl.flock(fd, fcntl.LOCK_EX)
            st = os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise
        if st.st_nlink:
            return fd, st
        os.close(fd)  # deleted (retention, a finished claim) while we waited for the lock: take the new one


def append_lines(path: str, data: bytes) -> None:
    """Append ``data`` (one or more ``\\n``-terminated lines) to ``path``."""
    fd, st = open_locked(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        size = st.st_size
        if size and _last_byte(path, size) != b"\n":
            data = b"\n" + data
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)  # closing releases the lock


def _last_byte(path: str, size: int) -> bytes:
    rfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.pread(rfd, 1, size - 1)
    finally:
        os.close(rfd)


def write_json(path: str, obj: object) -> None:
    """Replace ``path`` with ``obj`` as JSON, whole: written to a fresh file
    beside it, then renamed over it, so a reader sees the old file or the new
    one (and two writers, threads or processes, never share a temporary
    file).  Text that is not valid Unicode (lone surrogates from a log's odd
    bytes or escapes) is written as ``\\uXXXX`` escapes, as
    :mod:`agent_trace.event.encode` writes lines, so reading it back gives
    the same strings.  Raises ``OSError`` (the temporary file removed) when
    it cannot write."""
    from ..event.fastjson import dumps

    data = dumps(obj).encode("utf-8", "backslashreplace")
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"  # not tempfile: the hook path keeps its imports lean
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
