"""What Gemini CLI's hook payloads need beyond the shared mapping (0.61).

* AfterTool has no failure flag for a shell command that failed: its
  ``llmContent`` ends with ``Exit Code: N``; that, or a ``tool_response``
  ``error``, makes a ``tool.error``.
* AfterModel fires once per streamed chunk and its payload drops cached
  tokens, so it is no ``llm.response`` (the chat log gives one per model
  call, with full usage): chunks before the last are dropped, the last is
  kept as a ``generic`` event.  BeforeModel is kept as ``generic`` too.
  ``setup`` installs neither.
* PreCompress fires before every model call whether or not anything is
  compressed: a ``generic`` event, not a ``context.compact``.
* Tool calls carry no call id: :mod:`.gemini_calls` pairs them.
"""

from __future__ import annotations

from .. import event as ev
from .gemini_chat import shell_exit_code


def refine(payload: dict, name: str, etype: str, fields: dict):
    if name == "PostToolUse":
        resp = payload.get("tool_response")
        resp = resp if isinstance(resp, dict) else {}
        if resp.get("error"):
            return ev.TOOL_ERROR
        code = shell_exit_code(resp.get("llmContent")) if payload.get("tool_name") == "run_shell_command" else None
        if code:
            fields["error"] = {"message": f"exit code {code}", "exit_code": code}
            return ev.TOOL_ERROR
        return etype
    if name == "AfterModel":
        resp = payload.get("llm_response")
        cands = resp.get("candidates") if isinstance(resp, dict) else None
        final = isinstance(cands, list) and any(isinstance(c, dict) and c.get("finishReason") for c in cands)
        return etype if final else None
    if name == "PreCompact":
        fields["name"] = "PreCompress"
    return etype
