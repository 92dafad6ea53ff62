"""Giving freed memory back to the system.

The daemon's Python heap stops growing once its live state is full (see
:mod:`.live`), but glibc keeps what the connection threads freed in their
malloc arenas, scattered between live blocks, and the process's resident
size crept up by a few MiB per 50,000 events.  ``malloc_trim(0)`` hands the
free pages back; it costs a walk over the arenas, so it runs once every
:data:`TRIM_EVERY` payloads, after the answer.  Without glibc (musl, macOS)
it does nothing.
"""

from __future__ import annotations

TRIM_EVERY = 5000

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_malloc_trim: Any = None  # None: not looked up yet; False: not available


def trim() -> bool:
    """Return freed heap memory to the system; False when this libc cannot."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if not _malloc_trim:
        return False
    _malloc_trim(0)
    return True
