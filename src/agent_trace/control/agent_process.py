"""The agent process this process runs under (a hook's agent), via /proc.

Used by the ``kill`` action and by the SessionStart hook, which registers the
agent's pid for the daemon.  Cheap: ``os`` only.
"""

from __future__ import annotations

import os


def agent_process() -> int | None:
    """The agent process above this hook (``claude``/``codex``/``gemini``), via /proc."""
    pid = os.getppid()
    for _ in range(6):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{pid}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None
        if any(name in cmd for name in ("claude", "codex", "gemini")) and "agent_trace" not in cmd:
            return pid
        pid = ppid
        if pid <= 1:
            return None
    return None
