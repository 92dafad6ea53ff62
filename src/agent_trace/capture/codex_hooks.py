"""What Codex CLI's hook payloads need beyond the shared mapping (Codex 0.171).

* ``PostModelRequest`` carries the response id and its token usage: an
  ``llm.response`` with the id the rollout import and the LLM proxy derive
  from the same response id, so budgets see usage as it happens and nothing
  counts twice.  ``PreModelRequest`` is the ``llm.request``.
* ``PostToolUse`` says nothing about failure (a failing command's output is
  just its text): the call's completion record in the rollout
  (``transcript_path``), written just before the hook runs, gives status and
  exit code, so a failing command is a ``tool.error``.
* Codex cuts long tool output before it hands it over ("Warning: truncated
  output (original token count: N) ... M bytes omitted ..."): the cut is
  noted in ``truncated`` with ``"by": "codex"``.
* ``Interrupt`` (the user, or a stop rule, interrupted the turn) ends the
  turn with status error.
"""

from __future__ import annotations

from .. import event as ev
from .transcript import llm_event_id

TRUNCATED = "Warning: truncated output (original token count: "


def refine(payload: dict, name: str, etype: str, fields: dict):
    # type-checker: narrowed by isinstance() on the same .get()
    session: str = payload.get("session_id") if isinstance(payload.get("session_id"), str) else "unknown-session"  # type: ignore[assignment]
    if name == "PostModelRequest":
        _model(payload, fields)
        rid = payload.get("response_id")
        if isinstance(rid, str) and rid:
            fields["id"] = llm_event_id(session, rid)
        u = payload.get("token_usage")
        if isinstance(u, dict):
            from .codex_rollout import usage

            fields["usage"] = usage(u)
        failed = payload.get("status") not in (None, "completed") or payload.get("error")
        fields["status"] = ev.ERROR if failed else ev.OK
        if failed:
            err = payload.get("error")
            fields["error"] = {"message": err if isinstance(err, str) else str(err or payload.get("status"))}
        return etype
    if name == "PreModelRequest":
        _model(payload, fields)
        rid = payload.get("request_id")
        if isinstance(rid, str) and rid:
            fields["id"] = ev.derived_id(session, "llm.request", f"{rid}:{payload.get('attempt_number')}")
        return etype
    if name == "Interrupt":
        fields["status"] = ev.ERROR
        fields["error"] = {"message": "interrupted"}
        return etype
    if name == "PostToolUse":
        _note_truncation(payload, fields)
        return _outcome(payload, etype, fields)
    return etype


def _model(payload: dict, fields: dict) -> None:
    if isinstance(payload.get("model"), str):
        fields["model"] = payload["model"]


def _note_truncation(payload: dict, fields: dict) -> None:
    resp = payload.get("tool_response")
    if not isinstance(resp, str) or not resp.startswith(TRUNCATED):
        return
    head = resp[len(TRUNCATED):].split("\n", 2)
    note: dict[str, str | int] = {"path": "data.tool_response", "by": "codex"}
    digits = head[0].split(")", 1)[0]
    if digits.isdigit():
        note["original_tokens"] = int(digits)
    if len(head) > 1 and head[1].startswith("... ") and " bytes omitted" in head[1]:
        n = head[1][4:].split(" ", 1)[0]
        if n.isdigit():
            note["omitted_bytes"] = int(n)
    fields["truncated"] = [note]


def _outcome(payload: dict, etype: str, fields: dict) -> str:
    path, call = payload.get("transcript_path"), payload.get("tool_use_id")
    if not (isinstance(path, str) and isinstance(call, str)):
        return etype
    from .codex_rollout import call_outcome

    item = call_outcome(path, call)
    if item is None:
        return etype
    code = item.get("exit_code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    if item.get("status") not in ("failed", "declined") and not code:
        return etype
    # type-checker: narrowed by isinstance() on the same .get()
    out: str = item.get("aggregated_output") if isinstance(item.get("aggregated_output"), str) else \
        payload.get("tool_response") if isinstance(payload.get("tool_response"), str) else ""  # type: ignore[assignment]
    msg = f"exit code {code}" if code is not None else f"status {item.get('status')}"
    fields["error"] = {"message": f"{msg}: {out.strip()[:500]}" if out.strip() else msg}
    if code is not None:
        fields["error"]["exit_code"] = code
    return ev.TOOL_ERROR
