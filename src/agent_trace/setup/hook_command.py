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


def hook_command(event_kebab: str, cli: str | None = None, python: str | None = None,
                 daemon: bool = False) -> str:
    """``daemon``: also register the session with the daemon and start it on
    demand (the SessionStart hook of ``setup --transport http``)."""
    parts = [python or sys.executable, "-c", LAUNCH, "hook"]
    if cli and cli != "claude":
        parts += ["--cli", cli]
    if daemon:
        parts.append("--daemon")
    parts.append(event_kebab)
    return " ".join(shlex.quote(p) for p in parts)


def is_ours(command) -> bool:
    if not isinstance(command, str):
        return False
    return MARKER in command or "agent-strace hook" in command or "agent_trace hook" in command


HTTP_PATH = "/agent-strace/hook/"  # every HTTP hook URL of ours holds this


def is_our_hook(hook) -> bool:
    """A hook entry of ours: a command hook running us, or an HTTP hook to our daemon."""
    if not isinstance(hook, dict):
        return False
    if hook.get("type") == "http":
        return isinstance(hook.get("url"), str) and HTTP_PATH in hook["url"]
    return is_ours(hook.get("command"))


def kebab(name: str) -> str:
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i:
            out.append("-")
        out.append(c.lower())
    return "".join(out)
