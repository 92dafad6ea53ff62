"""A decision in the hook output format each agent expects.

Claude Code and Codex: ``hookSpecificOutput.permissionDecision: "deny"`` with a
reason the agent sees; a stop adds ``continue: false`` and ``stopReason``.
Gemini CLI: ``decision: "deny"`` and ``reason``; a stop adds ``continue: false``.
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
    if decision.action in ("stop", "kill"):
        out["continue"] = False
        out["stopReason"] = reason
    return out
