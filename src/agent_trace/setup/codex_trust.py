"""Codex CLI's approvals: trusted projects and reviewed hooks (0.171).

Codex loads a project's ``.codex/`` only when the project is trusted
(``[projects."<path>"] trust_level = "trusted"`` in the user's
``config.toml``), and runs a hook that is not managed by an administrator
only once it has been reviewed (``/hooks`` in the TUI, which writes
``[hooks.state."<key>"] trusted_hash = "<hash>"`` there).  Untrusted hooks are
skipped silently, which is why ``setup --trust`` records the same approval
(only when the user asks for it) and ``doctor`` checks it.

* key: ``<absolute hooks.json path>:<event in snake case>:<group index>:<handler index>``;
* hash: ``sha256:`` + SHA-256 of the compact, key-sorted JSON of the hook's
  normalised identity ``{"event_name", "matcher"?, "hooks": [{"type":
  "command", "command", "timeout", "async"}]}`` (timeout defaulting to 600 s,
  SessionEnd and Interrupt clamped to 3 s as Codex does).

Facts taken from Codex's behaviour (``codex app-server``'s ``hooks/list``
reports each hook's key, hash and trust status); the e2e tests prove them
against the real program: a hook trusted here runs.
"""

from __future__ import annotations

import hashlib
import json
import os

CLAMPED = {"SessionEnd": 3, "Interrupt": 3}


def codex_home() -> str:
    return os.environ.get("CODEX_HOME") or os.path.join(os.path.expanduser("~"), ".codex")


def user_config() -> str:
    return os.path.join(codex_home(), "config.toml")


def label(event: str) -> str:
    return "".join(("_" + c.lower()) if c.isupper() and i else c.lower() for i, c in enumerate(event))


def hook_hash(event: str, matcher, handler: dict) -> str:
    timeout = handler.get("timeout", handler.get("timeout_sec"))
    timeout = max(1, timeout if isinstance(timeout, int) and not isinstance(timeout, bool) else 600)
    if event in CLAMPED:
        timeout = min(timeout, CLAMPED[event])
    norm = {"type": "command", "command": handler.get("command"), "timeout": timeout,
            "async": bool(handler.get("async", False))}
    if isinstance(handler.get("statusMessage"), str):
        norm["statusMessage"] = handler["statusMessage"]
    identity = {"event_name": label(event), "hooks": [norm]}
    if matcher is not None:
        identity["matcher"] = matcher
    raw = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()


def hook_entries(hooks_json: str, settings: dict, mine) -> list[tuple[str, str, str]]:
    """(key, hash, command) of every command hook ``mine(command)`` accepts."""
    out = []
    path = os.path.abspath(hooks_json)
    # type-checker: narrowed by isinstance() on the same .get()
    hooks: dict = settings.get("hooks") if isinstance(settings.get("hooks"), dict) else {}  # type: ignore[assignment]
    for event, groups in hooks.items():
        for gi, group in enumerate(groups if isinstance(groups, list) else []):
            handlers = group.get("hooks") if isinstance(group, dict) else None
            for hi, h in enumerate(handlers if isinstance(handlers, list) else []):
                if isinstance(h, dict) and h.get("type", "command") == "command" and mine(h.get("command")):
                    out.append((f"{path}:{label(event)}:{gi}:{hi}", hook_hash(event, group.get("matcher"), h),
                                h["command"]))
    return out


def trust_status(config: dict, entries) -> dict[str, str]:
    """key -> ``trusted`` / ``modified`` (approved, then changed) / ``untrusted``."""
    state = (config.get("hooks") or {}).get("state") if isinstance(config.get("hooks"), dict) else None
    state = state if isinstance(state, dict) else {}
    out = {}
    for key, h, _cmd in entries:
        s = state.get(key)
        got = s.get("trusted_hash") if isinstance(s, dict) else None
        out[key] = "trusted" if got == h else "modified" if got else "untrusted"
        if isinstance(s, dict) and s.get("enabled") is False:
            out[key] = "disabled"
    return out


def project_trusted(config: dict, project: str) -> bool:
    # type-checker: narrowed by isinstance() on the same .get()
    projects: dict = config.get("projects") if isinstance(config.get("projects"), dict) else {}  # type: ignore[assignment]
    p = os.path.abspath(project)
    while True:
        entry = projects.get(p)
        if isinstance(entry, dict) and "trust_level" in entry:
            return entry["trust_level"] == "trusted"
        parent = os.path.dirname(p)
        if parent == p:
            return False
        p = parent
