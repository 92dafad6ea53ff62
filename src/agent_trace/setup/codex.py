"""Codex CLI: ``hooks.json`` (``~/.codex`` or the project's ``.codex``).

Codex parses hook output strictly, so the hook prints nothing unless it has
a decision.  Hooks need the ``codex_hooks`` feature flag in ``config.toml``;
``setup`` adds it when the file has no ``[features]`` table and says what to
add by hand otherwise (we do not rewrite TOML we cannot parse and re-emit).
"""

from __future__ import annotations

import os

from .hook_command import hook_command, kebab
from .hook_groups import add_groups, remove

EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
          "PostToolUse", "PreCompact", "PostCompact", "Stop")
MATCHED = ("PreToolUse", "PostToolUse", "PermissionRequest")
TIMEOUT_S = 30


def settings_path(scope: str, project: str) -> str:
    base = os.path.expanduser("~") if scope == "user" else project
    return os.path.join(base, ".codex", "hooks.json")


def config_path(scope: str, project: str) -> str:
    base = os.path.expanduser("~") if scope == "user" else project
    return os.path.join(base, ".codex", "config.toml")


def install(settings: dict, python: str | None = None, portable: bool = False) -> dict:
    groups = {}
    for e in EVENTS:
        g = {"hooks": [{"type": "command", "command": hook_command(kebab(e), "codex", python, portable),
                        "timeout": TIMEOUT_S}]}
        groups[e] = {"matcher": "*", **g} if e in MATCHED else g
    return add_groups(settings, groups)


def feature_flag_fix(config_text: str) -> tuple[str | None, str | None]:
    """(new text, None) to write, (None, None) when already on, or
    (None, advice) when the file needs a hand edit."""
    import tomllib

    try:
        cfg = tomllib.loads(config_text) if config_text.strip() else {}
    except tomllib.TOMLDecodeError as e:
        return None, f"config.toml does not parse ({e}); add [features] codex_hooks = true by hand"
    features = cfg.get("features", {})
    if isinstance(features, dict) and features.get("codex_hooks") is True:
        return None, None
    if "features" in cfg:
        return None, "add `codex_hooks = true` under [features] in config.toml to enable hooks"
    sep = "" if not config_text or config_text.endswith("\n") else "\n"
    return config_text + sep + "\n[features]\ncodex_hooks = true\n", None


FLAG_BLOCK = "[features]\ncodex_hooks = true\n"


def feature_flag_undo(config_text: str) -> str | None:
    """The config without the ``[features]`` block setup appended, or None
    when it is not there as setup wrote it (then it is left alone)."""
    if not config_text.endswith(FLAG_BLOCK):
        return None
    head = config_text[: -len(FLAG_BLOCK)]
    if not head.strip():
        return ""
    return head[:-1] if head.endswith("\n\n") else head


__all__ = ["install", "remove", "settings_path", "config_path", "feature_flag_fix", "feature_flag_undo"]
