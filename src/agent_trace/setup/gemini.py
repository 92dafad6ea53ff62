"""Gemini CLI (0.61): hooks in ``.gemini/settings.json`` (user or project).

Hook entries carry a ``name`` and a timeout in milliseconds.  Hooks are an
experimental feature there: ``setup`` turns on ``hooksConfig.enabled`` (and
``tools.enableHooks`` for older releases) unless the user set them already.

Not installed: BeforeModel and AfterModel (AfterModel fires once per
streamed chunk, a Python start each, and its payload drops cached tokens;
LLM turns come from the chat log instead, see :mod:`..capture.gemini_chat`),
and PreCompress (it fires before every model call whether or not anything is
compressed).

Folder trust: Gemini CLI reads a project's settings (and runs its hooks)
only in a trusted folder; headless runs in an untrusted one exit 55.
``setup --trust`` records the folder in ``~/.gemini/trustedFolders.json``
(``TRUST_FOLDER``), what trusting it in Gemini's own dialog writes.
"""

from __future__ import annotations

import os

from .hook_command import hook_command, kebab
from .hook_groups import add_groups, remove

EVENTS = ("SessionStart", "BeforeAgent", "BeforeTool", "AfterTool", "AfterAgent", "Notification", "SessionEnd")
MATCHED = ("BeforeTool", "AfterTool")
TIMEOUT_MS = 30_000


def gemini_dir() -> str:
    return os.path.join(os.environ.get("GEMINI_CLI_HOME") or os.path.expanduser("~"), ".gemini")


def settings_path(scope: str, project: str) -> str:
    return os.path.join(gemini_dir() if scope == "user" else os.path.join(project, ".gemini"), "settings.json")


def trusted_folders_path() -> str:
    return os.environ.get("GEMINI_CLI_TRUSTED_FOLDERS_PATH") or os.path.join(gemini_dir(), "trustedFolders.json")


def folder_trusted(folders: dict, project: str) -> bool | None:
    """True/False when ``trustedFolders.json`` decides for ``project``, None
    when it does not (Gemini then treats it as untrusted in headless runs).
    ``TRUST_FOLDER`` covers a folder and what is below it; ``TRUST_PARENT``
    on a folder covers its parent."""
    p = os.path.abspath(project)
    if folders.get(p) == "DO_NOT_TRUST":
        return False
    roots = [k for k, v in folders.items() if v == "TRUST_FOLDER"]
    roots += [os.path.dirname(k) for k, v in folders.items() if v == "TRUST_PARENT"]
    for r in roots:
        if isinstance(r, str) and (p == r or p.startswith(r.rstrip("/") + "/")):
            return True
    return None


def install(settings: dict, python: str | None = None, portable: bool = False) -> dict:
    groups = {}
    for e in EVENTS:
        g = {"hooks": [{"name": f"agent-strace-{kebab(e)}", "type": "command",
                        "command": hook_command(kebab(e), "gemini", python, portable), "timeout": TIMEOUT_MS}]}
        groups[e] = {"matcher": "*", **g} if e in MATCHED else g
    out = add_groups(settings, groups)
    hc = out.get("hooksConfig")
    if not isinstance(hc, dict) or "enabled" not in hc:
        out["hooksConfig"] = {**(hc if isinstance(hc, dict) else {}), "enabled": True}
    tools = out.get("tools")
    if not isinstance(tools, dict) or "enableHooks" not in tools:
        out["tools"] = {**(tools if isinstance(tools, dict) else {}), "enableHooks": True}
    return out


# The switches install turns on: (table, key).
SWITCHES = (("hooksConfig", "enabled"), ("tools", "enableHooks"))


def uninstall(settings: dict, before: dict | None) -> dict:
    """Our hooks removed, and the switches install turned on put back as they
    were in ``before`` (the file before setup).  Without a backup (``None``:
    setup created the file) they go when no hooks are left, since the hooks
    someone added since may need them."""
    out = remove(settings)
    if before is None:
        if out.get("hooks"):
            return out
        before = {}
    for table, key in SWITCHES:
        had = isinstance(before.get(table), dict) and key in before[table]
        cur = out.get(table)
        if had or not isinstance(cur, dict) or cur.get(key) is not True:
            continue
        rest = {k: v for k, v in cur.items() if k != key}
        if rest or table in before:
            out[table] = rest
        else:
            out.pop(table)
    return out


__all__ = ["install", "remove", "uninstall", "settings_path", "trusted_folders_path", "folder_trusted"]
