"""``server --retain 90d``: delete sessions whose last event is older, in the
background, at start and then every :data:`INTERVAL_S`.

Several collectors on one database may all run it: each session is deleted
under its row lock, skipped when another collector holds it.
"""

from __future__ import annotations

import sys
import threading
import time

from ..event.timefmt import parse_duration
from .storage import StorageUnavailable

INTERVAL_S = 3600.0
MIN_AGE_S = 3600.0


def parse_age(text: str) -> float:
    """``90d``, ``12h`` ... -> seconds (at least an hour)."""
    try:
        age = parse_duration(text)
    except ValueError:
        raise ValueError(f"--retain {text!r}: use an age like 90d or 720h") from None
    if age < MIN_AGE_S:
        raise ValueError(f"--retain {text!r}: keep at least 1h")
    return age


def run_once(storage, age_s: float) -> int:
    return storage.retain(time.time() - age_s)


def start(storage, age_s: float, stopping: threading.Event, interval: float = INTERVAL_S) -> threading.Thread:
    def loop():
        while not stopping.is_set():
            try:
                n = run_once(storage, age_s)
                if n:
                    sys.stderr.write(f"agent-strace server: retention deleted {n} session(s)\n")
            except StorageUnavailable:
                pass  # the database is down: next round
            except Exception as e:  # never let the thread die silently
                sys.stderr.write(f"agent-strace server: retention failed: {type(e).__name__}: {e}\n")
            stopping.wait(interval)

    t = threading.Thread(target=loop, name="agent-strace-retention", daemon=True)
    t.start()
    return t
