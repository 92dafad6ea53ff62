"""The command line agents run for each hook, and how to recognise ours.

The command names the interpreter agent-strace is installed in by absolute
path, so it works from a shell where our virtualenv is not active, and it
enters through ``python -c`` rather than the console-script wrapper or
``python -m`` (both import modules the hook never needs: ~5 ms per call).
"""

from __future__ import annotations

import shlex
import sys

MARKER = "from agent_trace.cli import main"
LAUNCH = f"import sys; {MARKER}; sys.exit(main())"


def hook_command(event_kebab: str, cli: str | None = None, python: str | None = None) -> str:
    parts = [python or sys.executable, "-c", LAUNCH, "hook"]
    if cli and cli != "claude":
        parts += ["--cli", cli]
    parts.append(event_kebab)
    return " ".join(shlex.quote(p) for p in parts)


def is_ours(command) -> bool:
    if not isinstance(command, str):
        return False
    return MARKER in command or "agent-strace hook" in command or "agent_trace hook" in command


def kebab(name: str) -> str:
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i:
            out.append("-")
        out.append(c.lower())
    return "".join(out)
