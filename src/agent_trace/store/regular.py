"""Opening a file only when it is a regular file.

Every reader of a path someone else chose (a session file, an agent's log,
a subagent's ``.meta.json``, a prices table, Claude Code's transcript for
the status line) opens it here: without blocking, so a FIFO in its place
cannot hang the reader, and refused unless ``fstat`` says regular file, so
a device such as ``/dev/zero`` is never read without end.  Standard library
``os`` and ``stat`` only: the hook path and the status line import it.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from io import BufferedReader


def open_regular(path: str) -> BufferedReader:
    """Open ``path`` for reading; ``OSError`` (``EINVAL``) when it is not a
    regular file, as for any other reason it cannot be opened."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(22, "not a regular file", path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
