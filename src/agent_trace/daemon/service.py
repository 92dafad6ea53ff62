"""The daemon as a systemd user service (optional: hooks start it on demand).

``agent-strace daemon service`` writes
``$XDG_CONFIG_HOME/systemd/user/agent-strace.service`` (default
``~/.config/systemd/user``); ``--enable`` also runs ``systemctl --user
enable --now``.  systemd restarts a daemon that died (``Restart=always``),
so a SIGKILLed daemon is back within a second even in the middle of a
session, and the next Stop recovers what it missed.
"""

from __future__ import annotations

import os
import sys

from .files import DIR_VAR, PORT_VAR
from .lifecycle import daemon_argv

UNIT_NAME = "agent-strace.service"


def unit_path() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "systemd", "user", UNIT_NAME)


def _quote(word: str) -> str:
    """One ExecStart word, quoted the way systemd reads it."""
    if word and not any(c in word for c in ' \t"\'\\;$%'):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$") + '"'


def unit_text(python: str | None = None) -> str:
    argv = daemon_argv(python or sys.executable)
    env = "".join(f"Environment={_quote(f'{k}={os.environ[k]}')}\n" for k in (DIR_VAR, PORT_VAR)
                  if os.environ.get(k))
    return (
        "[Unit]\n"
        "Description=agent-strace daemon: coding agents' hook events into the local trace store\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={' '.join(_quote(w) for w in argv)}\n"
        f"{env}"
        "Restart=always\n"
        "RestartSec=1\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def exec_start(text: str) -> list[str]:
    """The ExecStart command of a unit file, split as systemd splits it
    (for the words :func:`_quote` writes)."""
    import shlex

    for line in text.splitlines():
        if line.startswith("ExecStart="):
            words = shlex.split(line[len("ExecStart="):].replace("$$", "$").replace("%%", "%"))
            return words
    raise ValueError("no ExecStart line")
