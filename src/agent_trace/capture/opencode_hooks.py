"""What OpenCode's events need beyond the shared mapping (1.18).

The agent-strace plugin (:mod:`..setup.opencode`) sends Claude Code hook
names; its ``ModelResponse`` carries a finished assistant message whose
``tokens`` (``input``, ``output``, ``reasoning``, ``cache.read``,
``cache.write``) become the ``llm.response``'s usage, keyed by the message
id (OpenCode reports each message's usage twice: the plugin sends it once,
and the id would keep it once anyway).  A shell call with a non-zero
``metadata.exit`` is a ``tool.error``.
"""

from __future__ import annotations

from .. import event as ev


def _num(d, k):
    v = d.get(k) if isinstance(d, dict) else None
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def refine(payload: dict, name: str, etype: str, fields: dict):
    if name == "PostToolUse":
        return _tool_result(payload, etype, fields)
    if name != "ModelResponse":
        return etype
    # type-checker: each narrowed by isinstance() on the same .get()
    m: dict = payload.get("message") if isinstance(payload.get("message"), dict) else {}  # type: ignore[assignment]
    t: dict = m.get("tokens") if isinstance(m.get("tokens"), dict) else {}  # type: ignore[assignment]
    cache: dict = t.get("cache") if isinstance(t.get("cache"), dict) else {}  # type: ignore[assignment]
    out, reasoning = _num(t, "output"), _num(t, "reasoning")
    output = (out or 0) + (reasoning or 0) if out is not None else None
    fields["usage"] = ev.usage(input=_num(t, "input"), output=output,
                               cache_read=_num(cache, "read") or None, cache_write=_num(cache, "write") or None)
    if isinstance(m.get("modelID"), str):
        fields["model"] = m["modelID"]
    if isinstance(m.get("id"), str) and isinstance(payload.get("session_id"), str):
        fields["id"] = ev.derived_id(payload["session_id"], "llm.response", m["id"])
    if m.get("error"):
        fields["status"] = ev.ERROR
        err = m["error"]
        fields["error"] = {"message": str(err.get("data", {}).get("message") or err.get("name"))
                           if isinstance(err, dict) else str(err)}
    else:
        fields["status"] = ev.OK
    return etype


def _tool_result(payload: dict, etype: str, fields: dict) -> str:
    """A shell call that exited non-zero is an error (OpenCode reports it as
    a successful call with ``metadata.exit``); OpenCode's own cut of long
    output is noted in ``truncated``."""
    # type-checker: each narrowed by isinstance() on the same .get()
    resp: dict = payload.get("tool_response") if isinstance(payload.get("tool_response"), dict) else {}  # type: ignore[assignment]
    meta: dict = resp.get("metadata") if isinstance(resp.get("metadata"), dict) else {}  # type: ignore[assignment]
    if meta.get("truncated") is True:
        fields["truncated"] = [{"path": "data.tool_response.output", "by": "opencode"}]
    code = meta.get("exit")
    if isinstance(code, int) and not isinstance(code, bool) and code != 0:
        # type-checker: narrowed by isinstance() on the same .get()
        out: str = resp.get("output") if isinstance(resp.get("output"), str) else ""  # type: ignore[assignment]
        fields["error"] = {"message": f"exit code {code}: {out.strip()[:500]}" if out.strip() else
                           f"exit code {code}", "exit_code": code}
        return ev.TOOL_ERROR
    return etype
