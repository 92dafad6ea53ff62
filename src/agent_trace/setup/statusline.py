"""Claude Code's ``statusLine`` setting: ours in, and out again.

A settings file holds one status line.  Installing ours keeps everything
else in the file; a status line that was there before (another tool's) is
kept aside in ``statusline-previous.json`` under the user data folder and
put back on uninstall.  Installing twice changes nothing.
"""

from __future__ import annotations

import json
import os
import shlex
import sys

from ..store import registry
from .hook_command import LAUNCH, MARKER

KEY = "statusLine"


def command(python: str | None = None, portable: bool = False) -> str:
    if portable and not python:
        return "command -v agent-strace >/dev/null 2>&1 && exec agent-strace statusline; echo agent-strace"
    return " ".join(shlex.quote(p) for p in (python or sys.executable, "-c", LAUNCH, "statusline"))


def is_ours(entry) -> bool:
    cmd = entry.get("command") if isinstance(entry, dict) else None
    return isinstance(cmd, str) and ("agent-strace statusline" in cmd or (MARKER in cmd and "statusline" in cmd))


def _previous_path() -> str:
    return os.path.join(registry.data_home(), "statusline-previous.json")


def _previous() -> dict:
    try:
        with open(_previous_path(), encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def remember_previous(settings_path: str, entry) -> None:
    """Keep another tool's status line to put back on uninstall."""
    data = _previous()
    data[os.path.abspath(settings_path)] = entry
    os.makedirs(registry.data_home(), exist_ok=True)
    tmp = _previous_path() + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, _previous_path())


def take_previous(settings_path: str):
    data = _previous()
    entry = data.pop(os.path.abspath(settings_path), None)
    if entry is not None:
        tmp = _previous_path() + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, _previous_path())
    return entry


def install(settings: dict, python: str | None = None, portable: bool = False) -> tuple[dict, object]:
    """(settings with our status line, the foreign one it replaces or None)."""
    out = dict(settings)
    old = out.get(KEY)
    out[KEY] = {"type": "command", "command": command(python, portable), "padding": 0}
    return out, (old if old is not None and not is_ours(old) else None)


def remove(settings: dict, previous=None) -> dict:
    """Settings without our status line (the one it replaced back, if any)."""
    out = dict(settings)
    if not is_ours(out.get(KEY)):
        return out
    if previous is not None:
        out[KEY] = previous
    else:
        out.pop(KEY, None)
    return out
