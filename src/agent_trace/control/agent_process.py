"""The agent process this process runs under (a hook's agent), via /proc.

Used by the ``kill`` action, Codex's ``stop`` (SIGINT) and by the
SessionStart hook, which registers the agent's pid for the daemon.  Cheap:
``os`` only.

An ancestor is the agent when its program is: the executable's name
(``claude``, ``codex``, ``opencode``), or for a script run by node/bun the
script's path (``.../@google/gemini-cli/.../index.js``).  Only those two
words are looked at, never the rest of a command line: a test runner or a
shell whose arguments merely mention an agent is not one.
"""

from __future__ import annotations

import os

AGENTS = ("claude", "codex", "gemini", "opencode")
_RUNTIMES = ("node", "nodejs", "bun", "deno")


def is_agent(argv: list[str]) -> bool:
    """Whether a process with this ``argv`` is an agent (not agent-strace)."""
    if not argv:
        return False
    words = [os.path.basename(argv[0])]
    if words[0].split(".")[0] in _RUNTIMES or words[0].startswith("node"):
        script = next((a for a in argv[1:] if not a.startswith("-")), "")
        words.append(script)
    text = " ".join(words).lower()
    if "agent_trace" in text or "agent-strace" in text:
        return False
    return any(name in text for name in AGENTS)


def agent_process() -> int | None:
    """The nearest ancestor that is an agent (see :func:`is_agent`), or None."""
    pid = os.getppid()
    for _ in range(6):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode("utf-8", "replace").split("\0")
            with open(f"/proc/{pid}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None
        if is_agent([a for a in argv if a] if len(argv) > 1 else argv[0].split(" ")):
            return pid
        pid = ppid
        if pid <= 1:
            return None
    return None
