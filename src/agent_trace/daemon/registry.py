"""Sessions the SessionStart command hook registered for the daemon.

An HTTP hook carries the payload but not the agent's environment, which
decides where a command hook records and which rules it applies.  So the
SessionStart hook (a command hook: Claude Code sends no HTTP hook for
SessionStart) writes one small JSON file per session under ``sessions/``:

* ``env``: the agent's ``AGENT_TRACE_DIR``, ``AGENT_STRACE_RULES``,
  ``CLAUDE_PROJECT_DIR`` and ``HOME`` (no credentials);
* ``transcript_path`` and ``cwd``: what recovery needs when the daemon
  starts after an outage;
* ``agent_pid``: the agent process, for the ``kill`` action.

It is written before the daemon is asked to start, so a session is known
even when the daemon is down, and removed after the session's final import.
The daemon writes one too for a session it hears of first (from the
environment its HTTP hooks carry in headers), so a session is recovered
after a crash whichever came first.
"""

from __future__ import annotations

import os
import time

from ..store.paths import file_stem
from .files import DaemonFiles, read_json, write_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENV_KEYS = ("AGENT_TRACE_DIR", "AGENT_STRACE_RULES", "CLAUDE_PROJECT_DIR", "HOME")
KEEP_S = 7 * 86400  # registrations older than this are dropped unread


def path_for(files: DaemonFiles, session: str) -> str:
    return os.path.join(files.sessions, file_stem(session) + ".json")


def register(files: DaemonFiles, payload: dict, agent_pid: int | None, env: dict | None = None) -> dict | None:
    """``env``: the agent's environment (default: ours, when the caller is the
    agent's own hook)."""
    session = payload.get("session_id")
    if not isinstance(session, str) or not session:
        return None
    entry = {
        "session": session,
        "cwd": payload.get("cwd") if isinstance(payload.get("cwd"), str) else None,
        "transcript_path": payload.get("transcript_path") if isinstance(payload.get("transcript_path"), str) else None,
        "env": {k: v for k, v in (os.environ if env is None else env).items() if k in ENV_KEYS and v},
        "agent_pid": agent_pid,
        "registered": time.time(),
    }
    files.ensure()
    write_json(path_for(files, session), entry)
    return entry


def load(files: DaemonFiles, session: str) -> dict | None:
    entry = read_json(path_for(files, session))
    return entry if isinstance(entry, dict) and entry.get("session") == session else None


def forget(files: DaemonFiles, session: str) -> None:
    try:
        os.unlink(path_for(files, session))
    except FileNotFoundError:
        pass


def pending(files: DaemonFiles, now: float | None = None) -> list[dict]:
    """Registered sessions not yet forgotten (recovery candidates at start);
    entries past :data:`KEEP_S` are removed."""
    now = time.time() if now is None else now
    out: list[Any] = []
    try:
        names = os.listdir(files.sessions)
    except OSError:
        return out
    for name in sorted(names):
        if not name.endswith(".json"):
            continue
        p = os.path.join(files.sessions, name)
        entry = read_json(p)
        if not isinstance(entry, dict) or not isinstance(entry.get("session"), str):
            continue
        if now - (entry.get("registered") or 0) > KEEP_S:
            try:
                os.unlink(p)
            except OSError:
                pass
            continue
        out.append(entry)
    return out
