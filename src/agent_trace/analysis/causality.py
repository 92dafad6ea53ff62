"""``why``: the causal chain around one event, from the log alone.

Causes: the prompt that opened the phase, the LLM response that asked for a
tool call (its ``tool_use`` block id is the call's ``tool_use_id``), the call
a result answers, the ``parent``, and for subagent work the subagent's start.
Effects: events naming this one as ``parent``, a call's result, for a result
the next LLM response of the same agent by time (the model read it) with the
tool calls that response asked for, and for a prompt the calls of its phase.
Streaming passes; nothing is held but the matches.
"""

from __future__ import annotations

from .. import event as ev
from ..store.timeline import iter_timeline


class EventNotFound(LookupError):
    pass


def _tool_use_ids(llm_event: dict) -> list[str]:
    data = llm_event.get("data")
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, list):
        return []
    # type-checker: filtered on b.get('id') being truthy
    return [b.get("id") for b in content if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("id")]  # type: ignore[misc]


def find(path: str, ref: str) -> tuple[int, dict]:
    """An event by 1-based index (``#12``: only with the ``#``) or unique id
    prefix (``12`` is a prefix: ids are hex, and many start with digits)."""
    if ref.startswith("#"):
        if not ref[1:].isdigit():
            raise EventNotFound(f"{ref!r} is not an event number (#12) or an id prefix")
        n = int(ref[1:])
        for i, e in enumerate(iter_timeline(path), 1):
            if i == n:
                return i, e
        raise EventNotFound(f"the session has fewer than {n} events")
    hits = [(i, e) for i, e in enumerate(iter_timeline(path), 1) if str(e.get("id", "")).startswith(ref)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise EventNotFound(f"no event id starts with {ref!r}")
    raise EventNotFound(f"{ref!r} matches {len(hits)} events: give more characters")


def why(path: str, ref: str) -> dict:
    index, target = find(path, ref)
    t_type, tid, agent = target.get("type"), target.get("tool_use_id"), target.get("agent_id")
    ts, my_id = target.get("ts") or "", target.get("id")
    is_result = t_type in (ev.TOOL_RESULT, ev.TOOL_ERROR)
    causes: list[tuple[str, int, dict]] = []
    effects: list[tuple[str, int, dict]] = []
    prompt = None
    next_prompt_ts = None
    parents: dict[str, tuple[int, dict]] = {}
    read_by = None
    phase_calls: list[tuple[int, dict]] = []
    # LLM events are imported from transcripts at the end of a turn, so file
    # order is not time order: relations go by ids and timestamps.
    for i, e in enumerate(iter_timeline(path), 1):
        if i == index:
            continue
        t, ets = e.get("type"), e.get("ts") or ""
        if t == ev.USER_PROMPT and not e.get("agent_id"):
            if ets <= ts:
                if prompt is None or ets >= (prompt[1].get("ts") or ""):
                    prompt = (i, e)
            elif next_prompt_ts is None or ets < next_prompt_ts:
                next_prompt_ts = ets
        if e.get("id") and e.get("id") == target.get("parent"):
            parents[e["id"]] = (i, e)
        if tid and t == ev.LLM_RESPONSE and tid in _tool_use_ids(e):
            causes.append(("asked for by", i, e))
        if tid and e.get("tool_use_id") == tid:
            if t == ev.TOOL_CALL and t_type != ev.TOOL_CALL:
                causes.append(("answers the call", i, e))
            elif t in (ev.TOOL_RESULT, ev.TOOL_ERROR) and t_type == ev.TOOL_CALL:
                effects.append(("result", i, e))
        if agent and t == ev.SUBAGENT_START and e.get("agent_id") == agent:
            causes.append(("inside subagent started at", i, e))
        if my_id and e.get("parent") == my_id:
            effects.append(("caused", i, e))
        if is_result and t == ev.LLM_RESPONSE and e.get("agent_id") == agent and ets > ts:
            if read_by is None or ets < (read_by[1].get("ts") or ""):
                read_by = (i, e)
        if t_type == ev.USER_PROMPT and t == ev.TOOL_CALL and not e.get("agent_id") and ets >= ts:
            phase_calls.append((i, e))
    if read_by is not None:
        effects.append(("read by the model in", *read_by))
        wanted = set(_tool_use_ids(read_by[1]))
        if wanted:
            for i, e in enumerate(iter_timeline(path), 1):
                if e.get("type") == ev.TOOL_CALL and e.get("tool_use_id") in wanted:
                    effects.append(("which then called", i, e))
    if t_type == ev.USER_PROMPT:
        inside = [(i, e) for i, e in phase_calls if next_prompt_ts is None or (e.get("ts") or "") < next_prompt_ts]
        effects += [("in this phase", i, e) for i, e in inside[:10]]
    if prompt is not None:
        causes.insert(0, ("in the phase opened by", *prompt))
    causes = [("parent", *parents[k]) for k in parents] + causes
    return {"index": index, "event": target,
            "causes": [{"relation": r, "index": i, "event": e} for r, i, e in causes],
            "effects": [{"relation": r, "index": i, "event": e} for r, i, e in sorted(effects, key=lambda x: x[1])]}
