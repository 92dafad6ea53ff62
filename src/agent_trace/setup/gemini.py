"""Gemini CLI: hooks in ``.gemini/settings.json`` (user or project).

Hook entries carry a ``name`` and a timeout in milliseconds.  Hooks are an
experimental feature there: ``setup`` turns on ``hooksConfig.enabled`` (and
``tools.enableHooks`` for older releases) unless the user set them already.
"""

from __future__ import annotations

import os

from .hook_command import hook_command, kebab
from .hook_groups import add_groups, remove

EVENTS = ("SessionStart", "BeforeAgent", "BeforeModel", "AfterModel", "BeforeTool",
          "AfterTool", "AfterAgent", "PreCompress", "Notification", "SessionEnd")
MATCHED = ("BeforeTool", "AfterTool")
TIMEOUT_MS = 30_000


def settings_path(scope: str, project: str) -> str:
    base = os.path.expanduser("~") if scope == "user" else project
    return os.path.join(base, ".gemini", "settings.json")


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


__all__ = ["install", "remove", "uninstall", "settings_path"]
