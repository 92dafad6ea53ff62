"""What OpenCode's events need beyond the shared mapping (1.18).

The agent-strace plugin (:mod:`..setup.opencode`) sends Claude Code hook
names; its ``ModelResponse`` carries a finished assistant message whose
``tokens`` (``input``, ``output``, ``reasoning``, ``cache.read``,
``cache.write``) become the ``llm.response``'s usage, keyed by the message
id (OpenCode reports each message's usage twice: the plugin sends it once,
and the id would keep it once anyway).
"""

from __future__ import annotations

from .. import event as ev


def _num(d, k):
    v = d.get(k) if isinstance(d, dict) else None
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def refine(payload: dict, name: str, etype: str, fields: dict):
    if name != "ModelResponse":
        return etype
    m = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    t = m.get("tokens") if isinstance(m.get("tokens"), dict) else {}
    cache = t.get("cache") if isinstance(t.get("cache"), dict) else {}
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
