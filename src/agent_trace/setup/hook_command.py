"""The command line agents run for each hook, and how to recognise ours.

Two forms:

* machine (``user`` and ``local`` scopes, or ``--python``): the interpreter
  agent-strace is installed in, by absolute path, so it works from a shell
  where our virtualenv is not active; it enters through ``python -c`` rather
  than ``python -m`` (which imports ``runpy``).
* portable (``project`` scope, a file teams commit): ``agent-strace`` looked
  up on PATH, so the same line works on every teammate's machine.  When it is
  missing the hook says so in one line and lets the agent go on, except
  before a tool call in a project with a rules file: rules that cannot be
  checked deny (exit 2 blocks the call in Claude Code, Codex and Gemini CLI).
"""

from __future__ import annotations

import shlex
import sys

MARKER = "from agent_trace.cli import main"
LAUNCH = f"import sys; {MARKER}; sys.exit(main())"


# Hook events that come before a tool runs: where enforcement happens.
PRE_TOOL = ("pre-tool-use", "before-tool")
# Where the agent tells the hook its project folder (else the hook's cwd).
PROJECT_VAR = {"claude": "CLAUDE_PROJECT_DIR", "gemini": "GEMINI_PROJECT_DIR"}


def hook_command(event_kebab: str, cli: str | None = None, python: str | None = None,
                 portable: bool = False, daemon: bool = False) -> str:
    """``daemon``: also register the session with the daemon and start it on
    demand (the SessionStart hook of ``setup --transport http``)."""
    args = (["hook"] + (["--cli", cli] if cli and cli != "claude" else []) + (["--daemon"] if daemon else [])
            + [event_kebab])
    if portable and not python:
        return _portable(args, event_kebab, cli or "claude")
    parts = [python or sys.executable, "-c", LAUNCH] + args
    return " ".join(shlex.quote(p) for p in parts)


def _portable(args: list[str], event_kebab: str, cli: str) -> str:
    run = "agent-strace " + " ".join(shlex.quote(a) for a in args)
    missing = "agent-strace hook: agent-strace is not on PATH (pip install agent-strace)"
    line = f"command -v agent-strace >/dev/null 2>&1 && exec {run}; "
    if event_kebab in PRE_TOOL:
        var = PROJECT_VAR.get(cli)
        root = f'"${{{var}:-$PWD}}"' if var else '"$PWD"'
        line += (f"if [ -e {root}/.agent-strace/rules.toml ]; then "
                 f"echo '{missing}: rules cannot be checked, call denied' >&2; exit 2; fi; ")
    return line + f"echo '{missing}: not recorded' >&2"


def is_ours(command) -> bool:
    if not isinstance(command, str):
        return False
    return (MARKER in command or "agent-strace hook" in command or "agent_trace hook" in command
            or "agent-strace daemon start" in command)


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
