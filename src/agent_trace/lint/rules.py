"""The built-in lint rules.  Each is a small function; see ``docs/lint.md``."""

from __future__ import annotations

from .. import event as ev
from .. import toolfacts
from ..fastjson import dumps
from .registry import Finding, rule


def _key(e: dict) -> str:
    """A call's identity: tool plus its input, canonical."""
    inp = toolfacts.tool_input(e)
    return f"{e.get('tool')}|{dumps(inp) if inp else ''}"


def _is_end(e):
    return e.get("type") in (ev.TOOL_RESULT, ev.TOOL_ERROR)


def _failed(e):
    return e.get("type") == ev.TOOL_ERROR or e.get("status") == ev.ERROR


@rule("loop", threshold=4, max_period=3)
def loop(e, st, cfg):
    """The agent repeats the same tool call (or a short cycle of calls) over and over.

    Hook traces alternate call/result; only calls count (results stand in for
    calls from sources that log results alone), per agent."""
    if e.get("type") == ev.TOOL_CALL or (_is_end(e) and not e.get("tool_use_id")):
        agent = e.get("agent_id") or ""
        hist = st.setdefault(agent, [])
        hist.append(_key(e))
        limit = cfg["threshold"] * cfg["max_period"]
        if len(hist) > limit:
            del hist[0]
        reported = st.setdefault("_reported", set())
        for period in range(1, cfg["max_period"] + 1):
            need = period * cfg["threshold"]
            if len(hist) < need:
                break
            tail = hist[-need:]
            if all(tail[i] == tail[i % period] for i in range(need)) and len(set(tail[:period])) == period:
                sig = (agent, tuple(tail[:period]))
                if sig in reported:
                    return
                reported.add(sig)
                tools = " -> ".join(k.split("|", 1)[0] for k in tail[:period])
                what = "the same call" if period == 1 else f"a cycle of {period} calls"
                yield Finding("loop", "warning", f"{what} repeated {cfg['threshold']} times: {tools}",
                              data={"period": period, "calls": [k[:200] for k in tail[:period]]})
                return


@rule("repeated-failure", threshold=3)
def repeated_failure(e, st, cfg):
    """The same failing call (tool and input) is tried again and again."""
    if e.get("type") == ev.TOOL_CALL and e.get("tool_use_id"):
        st.setdefault("calls", {})[e["tool_use_id"]] = _key(e)
        return
    if _is_end(e) and _failed(e):
        key = st.get("calls", {}).pop(e.get("tool_use_id"), None) or _key(e)
        counts = st.setdefault("fails", {})
        counts[key] = counts.get(key, 0) + 1
        if counts[key] == cfg["threshold"]:
            yield Finding("repeated-failure", "error",
                          f"{key.split('|', 1)[0]} failed {counts[key]} times with the same input",
                          data={"call": key[:300]})
    elif _is_end(e):
        st.get("calls", {}).pop(e.get("tool_use_id"), None)


@rule("reread", threshold=3)
def reread(e, st, cfg):
    """The same file is read again and again without being changed in between."""
    if e.get("type") != ev.TOOL_CALL:
        return
    for p in toolfacts.files_written(e):
        st.pop(p, None)
    if toolfacts.base_name(e.get("tool")) not in ("Read", "read_file", "read_text_file", "NotebookRead"):
        return
    for p in toolfacts.files_read(e):
        st[p] = st.get(p, 0) + 1
        if st[p] == cfg["threshold"]:
            yield Finding("reread", "warning", f"{p} read {st[p]} times without changes in between",
                          data={"path": p})


@rule("edit-revert")
def edit_revert(e, st, cfg):
    """An edit undoes the previous edit of the same file."""
    if e.get("type") != ev.TOOL_CALL or toolfacts.base_name(e.get("tool")) not in ("Edit", "replace", "edit_file"):
        return
    inp = toolfacts.tool_input(e)
    path, old, new = inp.get("file_path") or inp.get("path"), inp.get("old_string"), inp.get("new_string")
    if not isinstance(path, str) or not isinstance(old, str) or not isinstance(new, str):
        return
    prev = st.get(path)
    st[path] = (old, new)
    if prev and prev == (new, old) and old != new:
        yield Finding("edit-revert", "warning", f"{path}: an edit reverted the previous edit",
                      data={"path": path})


@rule("error-spiral", "error", threshold=5)
def error_spiral(e, st, cfg):
    """Many tool calls fail in a row."""
    if not _is_end(e):
        return
    if _failed(e):
        st["run"] = st.get("run", 0) + 1
        if st["run"] == cfg["threshold"]:
            yield Finding("error-spiral", "error", f"{st['run']} tool calls failed in a row")
    else:
        st["run"] = 0


@rule("huge-output", max_chars=100_000)
def huge_output(e, st, cfg):
    """A tool returned a very large output (it all goes into the model's context)."""
    if e.get("type") != ev.TOOL_RESULT:
        return
    data = e.get("data")
    resp = data.get("tool_response") if isinstance(data, dict) else None
    if resp is None:
        return
    size = len(resp) if isinstance(resp, str) else len(dumps(resp))
    cut = sum(c.get("chars", 0) - c.get("kept", 0) for c in e.get("truncated") or ())
    size += cut
    if size > cfg["max_chars"]:
        yield Finding("huge-output", "warning", f"{e.get('tool')} returned {size:,} characters",
                      data={"chars": size, "tool": e.get("tool")})


@rule("runaway-cost", "error", max_usd=10.0, max_context_tokens=150_000)
def runaway_cost(e, st, cfg):
    """The session's real cost passes a ceiling, or one LLM call's context grows huge."""
    if e.get("type") != ev.LLM_RESPONSE or not isinstance(e.get("usage"), dict):
        return
    from ..summary import prices

    eid = e.get("id")
    seen = st.setdefault("seen", set())
    if eid in seen:
        return
    seen.add(eid)
    u = e["usage"]
    st["usd"] = st.get("usd", 0.0) + (prices().cost(e.get("model"), u) or 0.0)
    if st["usd"] > cfg["max_usd"] and not st.get("cost_done"):
        st["cost_done"] = True
        yield Finding("runaway-cost", "error", f"cost passed ${cfg['max_usd']:.2f} (now ${st['usd']:.2f})",
                      data={"usd": round(st["usd"], 4)})
    context = u.get("input", 0) + u.get("cache_read", 0) + u.get("cache_write", 0)
    if context > cfg["max_context_tokens"] and not st.get("context_done"):
        st["context_done"] = True
        yield Finding("runaway-cost", "warning", f"one LLM call carried {context:,} context tokens",
                      data={"context_tokens": context})
