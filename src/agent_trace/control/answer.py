"""A decision in the hook output format each agent expects.

Claude Code: ``hookSpecificOutput.permissionDecision: "deny"`` with a reason
the agent sees; a stop adds ``continue: false`` and ``stopReason``.
Codex CLI (0.171): the same deny, but its PreToolUse parser rejects
``continue``/``stopReason``/``suppressOutput`` (the hook is marked failed and
the tool runs), so a Codex answer never carries them: a stop is enforced by
interrupting the turn (:mod:`.agent_stop`).
Gemini CLI: ``decision: "deny"`` and ``reason``; a stop adds ``continue:
false`` (Gemini stops the agent loop without running the tool).
OpenCode: the Claude Code shape; the agent-strace plugin throws on a deny
(the call is blocked) and also aborts the session on ``continue: false``.
A warning lets the call through with a ``systemMessage``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .engine import Decision


def hook_output(decision: Decision, source: str, event_name: str = "PreToolUse") -> dict[str, Any]:
    reason = f"agent-strace: {decision.reason} (rule {decision.rule})"
    if decision.action == "warn":
        return {"systemMessage": reason}
    out: dict[str, Any]
    if source == "gemini":
        out = {"decision": "deny", "reason": reason}
    else:
        out = {"hookSpecificOutput": {"hookEventName": event_name, "permissionDecision": "deny",
                                      "permissionDecisionReason": reason}}
    if decision.action in ("stop", "kill") and source != "codex":
        out["continue"] = False
        out["stopReason"] = reason
    return out
