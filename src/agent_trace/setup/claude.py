"""Claude Code: hooks in ``settings.json`` (user, project or local scope).

Hook groups look like ``{"matcher": "*", "hooks": [{"type": "command",
"command": ..., "timeout": 30, "async": true}]}``.  Observation-only events run
as asynchronous hooks so the agent never waits on them; events whose answer
matters (PreToolUse decisions, prompt and stop control) or whose loss at exit
would lose data (Stop, SubagentStop and SessionEnd also import the transcript)
stay synchronous.  ``claude -p`` kills async hooks still running at exit,
which is why the last events of a turn are synchronous.
"""

from __future__ import annotations

import os

from .hook_command import hook_command, kebab
from .hook_groups import add_groups, remove

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SYNC = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
        "SubagentStop", "Stop", "StopFailure", "SessionEnd")
ASYNC = ("PostToolUse", "PostToolUseFailure", "PermissionDenied", "Notification",
         "SubagentStart", "TaskCreated", "TaskCompleted", "PreCompact", "PostCompact",
         "InstructionsLoaded", "CwdChanged", "ConfigChange")
# Events whose hooks filter on a matcher (tool name, agent type ...).
MATCHED = ("PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest",
           "PermissionDenied", "SubagentStart", "SubagentStop", "Notification",
           "PreCompact", "PostCompact")
TIMEOUT_S = 30


def settings_path(scope: str, project: str) -> str:
    if scope == "user":
        return os.path.join(os.path.expanduser("~"), ".claude", "settings.json")
    name = "settings.local.json" if scope == "local" else "settings.json"
    return os.path.join(project, ".claude", name)


def _our_group(event: str, python: str | None, portable: bool) -> dict:
    hook = {"type": "command", "command": hook_command(kebab(event), python=python, portable=portable),
            "timeout": TIMEOUT_S}
    if event in ASYNC:
        hook["async"] = True
    group: dict[str, Any] = {"hooks": [hook]}
    if event in MATCHED:
        group = {"matcher": "*", **group}
    return group


def install(settings: dict, python: str | None = None, portable: bool = False,
            http_port: int | None = None, enforce: str = "http") -> dict:
    """Settings with our hooks on every event (replacing older copies of ours):
    command hooks, or with ``http_port`` HTTP hooks into the daemon on that
    port (see :mod:`.http_hooks`)."""
    groups = {e: _our_group(e, python, portable) for e in SYNC + ASYNC}
    if http_port is not None:
        from .http_hooks import groups as http_groups

        groups = http_groups(groups, http_port, python, enforce, portable)
    return add_groups(settings, groups)


__all__ = ["install", "remove", "settings_path"]
