"""The hook-group layout Claude Code, Codex and Gemini CLI share:
``{"hooks": {EVENT: [{"matcher": ..., "hooks": [{"type": "command", ...}]}]}}``.

:func:`remove` drops only our hook entries (recognised by their command or URL) and
keeps everything else, including other people's hooks in the same group.
"""

from __future__ import annotations

from .hook_command import is_our_hook


def remove(settings: dict) -> dict:
    """Settings without any agent-strace hook; other hooks untouched."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return settings
    new_hooks = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            new_hooks[event] = groups
            continue
        kept_groups = []
        for g in groups:
            if isinstance(g, dict) and isinstance(g.get("hooks"), list):
                kept = [h for h in g["hooks"] if not is_our_hook(h)]
                if kept:
                    kept_groups.append({**g, "hooks": kept})
                elif not g["hooks"]:
                    kept_groups.append(g)
            else:
                kept_groups.append(g)
        if kept_groups:
            new_hooks[event] = kept_groups
    out = dict(settings)
    if new_hooks:
        out["hooks"] = new_hooks
    else:
        out.pop("hooks", None)
    return out



def add_groups(settings: dict, groups: dict[str, dict]) -> dict:
    """Settings with one group of ours per event, older copies of ours removed."""
    out = remove(settings)
    hooks = dict(out.get("hooks") or {})
    for event, group in groups.items():
        existing = hooks.get(event)
        hooks[event] = (list(existing) if isinstance(existing, list) else []) + [group]
    out["hooks"] = hooks
    return out
