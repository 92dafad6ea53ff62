"""Codex CLI (0.171): ``hooks.json`` (``$CODEX_HOME`` or the project's ``.codex``).

Every event Codex 0.171 fires gets a command hook: SessionStart, SessionEnd,
UserPromptSubmit, PreToolUse, PermissionRequest, PostToolUse, PreCompact,
PostCompact, Stop, SubagentStart, SubagentStop, Interrupt, PreModelRequest
and PostModelRequest.  No matchers (an absent matcher matches every tool);
SessionEnd and Interrupt get 3 s, the most Codex allows them.  Codex parses
hook output strictly, so the hook prints nothing unless it has a decision.

``config.toml`` edits (:mod:`.toml_edit`, every other byte kept):

* ``[features] hooks = true`` in the scope's config (the current name of the
  switch; ``codex_hooks`` is deprecated and a block an older setup appended
  is replaced);
* with ``--trust`` only, in the user's config: ``[hooks.state."<key>"]
  trusted_hash`` for each of our hooks and, for a project install,
  ``[projects."<path>"] trust_level = "trusted"`` (:mod:`.codex_trust`).

Before its first change to a ``config.toml`` setup keeps a copy
(``config.toml.agent-strace.bak``); ``--uninstall`` takes out what setup
added and puts that copy back when nothing else changed since, so the file
is as it was.
"""

from __future__ import annotations

import os
import shutil
import tomllib

from . import codex_trust, toml_edit
from .hook_command import hook_command, is_ours, kebab
from .hook_groups import add_groups, remove

EVENTS = ("SessionStart", "SessionEnd", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
          "PostToolUse", "PreCompact", "PostCompact", "Stop", "SubagentStart", "SubagentStop",
          "Interrupt", "PreModelRequest", "PostModelRequest")
TIMEOUT_S = 30
DEPRECATED_FLAG_BLOCK = "[features]\ncodex_hooks = true\n"


def settings_path(scope: str, project: str) -> str:
    base = codex_trust.codex_home() if scope == "user" else os.path.join(project, ".codex")
    return os.path.join(base, "hooks.json")


def config_path(scope: str, project: str) -> str:
    return os.path.join(os.path.dirname(settings_path(scope, project)), "config.toml")


def install(settings: dict, python: str | None = None, portable: bool = False) -> dict:
    groups = {}
    for e in EVENTS:
        groups[e] = {"hooks": [{"type": "command", "command": hook_command(kebab(e), "codex", python, portable),
                                "timeout": codex_trust.CLAMPED.get(e, TIMEOUT_S)}]}
    return add_groups(settings, groups)


def entries(hooks_json: str, settings: dict):
    """(key, hash, command) of our hooks as installed in ``settings``."""
    return codex_trust.hook_entries(hooks_json, settings, is_ours)


# -- config.toml ----------------------------------------------------------------

def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _parse(text: str | None) -> dict:
    try:
        return tomllib.loads(text or "")
    except tomllib.TOMLDecodeError:
        return {}


def _write(path: str, old: str | None, new: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    backup = path + ".agent-strace.bak"
    if old is not None and not os.path.exists(backup):
        shutil.copy2(path, backup)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    if old is not None:
        shutil.copymode(path, tmp)
    os.replace(tmp, path)


def enable_hooks(path: str) -> tuple[bool, str | None]:
    """``[features] hooks = true`` in ``path``: (changed, advice when it must
    be done by hand)."""
    old = _read(path)
    text = old or ""
    if text.endswith(DEPRECATED_FLAG_BLOCK):  # what an older setup appended: replaced
        text = text[: -len(DEPRECATED_FLAG_BLOCK)]
        text = text[:-1] if text.endswith("\n\n") else text
    if _parse(old).get("features", {}).get("hooks") is False:
        return False, f"{path} turns hooks off ([features] hooks = false): set it to true to record"
    new = toml_edit.set_key(text, ("features",), "hooks", True)
    if new is None:
        return False, f"{path} does not parse or defines [features] inline; add `hooks = true` under [features]"
    if new == (old or ""):
        return False, None
    _write(path, old, new)
    return True, None


def trust(config: str, hooks: list[tuple[str, str, str]], project: str | None) -> tuple[list[str], str | None]:
    """Record the approvals Codex's own review would: our hooks (and the
    project, for a project install).  Returns (what was done, advice)."""
    old = _read(config)
    text: str | None  # None: set_key could not edit it safely
    text = old or ""
    done = []
    if project and not codex_trust.project_trusted(_parse(text), project):
        text = toml_edit.set_key(text, ("projects", os.path.abspath(project)), "trust_level", "trusted")
        done.append(f"trusted the project {project}")
    for key, h, _cmd in hooks:
        if text is None:
            break
        text = toml_edit.set_key(text, ("hooks", "state", key), "trusted_hash", h)
    if text is None:
        return [], f"{config} could not be edited safely; trust the hooks with /hooks in codex"
    if text != (old or ""):
        _write(config, old, text)
        done.append(f"trusted {len(hooks)} agent-strace hooks in {config}")
    return done, None


def untrust(config: str, keys: list[str], project: str | None, flag: bool) -> bool:
    """Take out what setup added to ``config``: the hook approvals of
    ``keys``, the project's trust and (``flag``) ``[features] hooks`` when
    the copy from before setup did not have them; put the copy back when the
    rest is as it was.  True when the file changed."""
    old = _read(config)
    if old is None:
        return False
    backup_path = config + ".agent-strace.bak"
    backup = _read(backup_path)
    before = _parse(backup)
    text = old
    for key in keys:
        text = toml_edit.remove_key(text, ("hooks", "state", key), "trusted_hash")
    if project and toml_edit.lookup(before, ("projects", os.path.abspath(project), "trust_level")) is None:
        text = toml_edit.remove_key(text, ("projects", os.path.abspath(project)), "trust_level")
    if flag and toml_edit.lookup(before, ("features", "hooks")) is None:
        text = toml_edit.remove_key(text, ("features",), "hooks")
    if backup is not None and _parse(text) == before:
        text = backup
    if backup is None and not _parse(text) and not text.strip():
        os.unlink(config)
        try:
            os.rmdir(os.path.dirname(config))
        except OSError:
            pass
        return True
    if text != old:
        _write(config, old, text)
    if backup is not None and text == backup:
        os.unlink(backup_path)
    return text != old


__all__ = ["install", "remove", "settings_path", "config_path", "entries", "enable_hooks", "trust", "untrust"]
