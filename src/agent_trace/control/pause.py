"""Pause and resume: a flag file the PreToolUse hook honours.

``agent-strace pause [SESSION]`` creates ``control/paused`` (every session) or
``control/paused-<session>`` under the store; the next PreToolUse waits while
a flag exists, then lets the call through, or denies it when the wait would
outlast the hook's timeout (so the agent is never left running unrecorded).
"""

from __future__ import annotations

import os
import time

from ..store.paths import Store, file_stem

POLL_S = 0.1
DEFAULT_MAX_WAIT_S = 25.0  # under the 30 s hook timeout `setup` installs


def flags(store: Store, session: str | None) -> list[str]:
    d = store.subdir("control")
    out = [os.path.join(d, "paused")]
    if session:
        out.append(os.path.join(d, f"paused-{file_stem(session)}"))
    return out


def is_paused(store: Store, session: str | None) -> bool:
    return any(os.path.exists(p) for p in flags(store, session))


def set_paused(store: Store, session: str | None, paused: bool) -> str:
    d = store.subdir("control")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, f"paused-{file_stem(session)}" if session else "paused")
    if paused:
        with open(p, "w") as f:
            f.write(str(time.time()))
    else:
        for q in flags(store, session) if session is None else [p]:
            try:
                os.unlink(q)
            except FileNotFoundError:
                pass
    return p


def wait_while_paused(store: Store, session: str | None, max_wait: float) -> bool:
    """True when resumed (or never paused); False when the wait ran out."""
    end = time.monotonic() + max_wait
    while is_paused(store, session):
        if time.monotonic() >= end:
            return False
        time.sleep(POLL_S)
    return True
