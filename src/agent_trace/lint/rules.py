"""The built-in lint rules.  Each is a small function; see ``docs/lint.md``."""

from __future__ import annotations

from .. import event as ev
from ..analysis import toolfacts
from ..event.fastjson import dumps
from .registry import Finding, rule


_READ_FILE_TOOLS = frozenset({"Read", "read_file", "read_text_file", "NotebookRead"})
_EDIT_TOOLS = frozenset({"Edit", "replace", "edit_file"})


def _key(e: dict) -> str:
    """A call's identity: tool plus its input, canonical."""
    inp = toolfacts.tool_input(e)
    return f"{e.get('tool')}|{dumps(inp) if inp else ''}"


def _is_end(e):
    t = e.get("type")
    return t == ev.TOOL_RESULT or t == ev.TOOL_ERROR


def _failed(e):
    return e.get("type") == ev.TOOL_ERROR or e.get("status") == ev.ERROR


@rule("loop", types=(ev.TOOL_CALL,), threshold=4, max_period=3)
def loop(e, st, cfg):
    """The agent repeats the same tool call (or a short cycle of calls) over and over.

    Only calls count, per agent, so the call/result alternation of hook traces
    does not hide a loop.  For each period p, ``runs[p]`` counts how many calls
    in a row equal the call p before them: a few comparisons per call."""
    agent = e.get("agent_id") or ""
    a = st.get(agent)
    if a is None:
        a = st[agent] = {"hist": [], "runs": [0] * (cfg["max_period"] + 1), "reported": {}}
    hist, runs = a["hist"], a["runs"]
    call = [e.get("tool"), toolfacts.tool_input(e)]  # lists: the state round-trips through JSON
    n = len(hist)
    max_period, threshold = cfg["max_period"], cfg["threshold"]
    hit = False
    for p in range(1, max_period + 1):
        if n >= p and hist[n - p] == call:
            runs[p] += 1
            hit = hit or runs[p] >= p * (threshold - 1)
        else:
            runs[p] = 0
    hist.append(call)
    if n >= max_period * threshold:
        del hist[0]
    if not hit:
        return None
    for p in range(1, max_period + 1):
        if runs[p] >= p * (cfg["threshold"] - 1) and len(hist) >= p * cfg["threshold"]:
            cycle = hist[-p:]
            if p > 1 and any(cycle[i] == cycle[j] for i in range(p) for j in range(i + 1, p)):
                continue  # a shorter period explains it
            sig = dumps([[c[0], c[1]] for c in cycle])
            if sig in a["reported"]:
                return
            a["reported"][sig] = True
            tools = " -> ".join(str(c[0]) for c in cycle)
            what = "the same call" if p == 1 else f"a cycle of {p} calls"
            return [Finding("loop", "warning", f"{what} repeated {cfg['threshold']} times: {tools}",
                          data={"period": p, "calls": [f"{c[0]}|{dumps(c[1])}"[:200] for c in cycle]})]


@rule("repeated-failure", "error", types=(ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR), threshold=3)
def repeated_failure(e, st, cfg):
    """The same failing call (tool and input) is tried again and again."""
    calls = st.get("calls")
    if calls is None:
        calls = st["calls"] = {}
    tid = e.get("tool_use_id")
    if e.get("type") == ev.TOOL_CALL:
        if tid:
            calls[tid] = e
        return None
    call = calls.pop(tid, None) if tid else None
    if not _failed(e):
        return None
    key = _key(call or e)
    counts = st.setdefault("fails", {})
    counts[key] = counts.get(key, 0) + 1
    if counts[key] == cfg["threshold"]:
        return [Finding("repeated-failure", "error",
                      f"{key.split('|', 1)[0]} failed {counts[key]} times with the same input",
                      data={"call": key[:300]})]


@rule("reread", types=(ev.TOOL_CALL,), threshold=3)
def reread(e, st, cfg):
    """The same file is read again and again without being changed in between."""
    tool = e.get("tool")
    if tool not in _READ_FILE_TOOLS:
        k = toolfacts.kind(tool)
        if k == "write":
            for p in toolfacts.paths(e):
                st.pop(p, None)
        if k != "read" or not tool.startswith("mcp__") or toolfacts.base_name(tool) not in _READ_FILE_TOOLS:
            return None
    for p in toolfacts.files_read(e):
        st[p] = st.get(p, 0) + 1
        if st[p] == cfg["threshold"]:
            return [Finding("reread", "warning", f"{p} read {st[p]} times without changes in between",
                          data={"path": p})]


@rule("edit-revert", types=(ev.TOOL_CALL,))
def edit_revert(e, st, cfg):
    """An edit undoes the previous edit of the same file."""
    tool = e.get("tool")
    if tool not in _EDIT_TOOLS and not (tool and tool.startswith("mcp__")
                                        and toolfacts.base_name(tool) in _EDIT_TOOLS):
        return None
    inp = toolfacts.tool_input(e)
    path, old, new = inp.get("file_path") or inp.get("path"), inp.get("old_string"), inp.get("new_string")
    if not isinstance(path, str) or not isinstance(old, str) or not isinstance(new, str):
        return
    prev = st.get(path)
    st[path] = (old, new)
    if prev and prev == (new, old) and old != new:
        return [Finding("edit-revert", "warning", f"{path}: an edit reverted the previous edit",
                      data={"path": path})]


@rule("error-spiral", "error", types=(ev.TOOL_RESULT, ev.TOOL_ERROR), threshold=5)
def error_spiral(e, st, cfg):
    """Many tool calls fail in a row."""
    if not _is_end(e):
        return
    if _failed(e):
        st["run"] = st.get("run", 0) + 1
        if st["run"] == cfg["threshold"]:
            return [Finding("error-spiral", "error", f"{st['run']} tool calls failed in a row")]
    else:
        st["run"] = 0


@rule("huge-output", types=(ev.TOOL_RESULT,), max_chars=100_000)
def huge_output(e, st, cfg):
    """A tool returned a very large output (it all goes into the model's context)."""
    if e.get("type") != ev.TOOL_RESULT:
        return
    size = e.get("_bytes")  # the stored line's length, when the reader was asked for it
    if size is not None and size <= cfg["max_chars"]:
        return None  # the whole line is small: so is the output
    data = e.get("data")
    resp = data.get("tool_response") if isinstance(data, dict) else None
    if resp is None:
        return None
    if isinstance(resp, str):
        size = len(resp)
    else:
        # flat payloads: their strings are the size (no re-encoding); nested ones are encoded
        flat = resp.values() if isinstance(resp, dict) else resp if isinstance(resp, list) else None
        size, nested = 0, flat is None
        for v in flat or ():
            if isinstance(v, str):
                size += len(v)
            elif isinstance(v, (dict, list)):
                nested = True
                break
        if nested:
            size = len(dumps(resp))
    if size <= cfg["max_chars"]:
        return None
    size += sum(c.get("chars", 0) - c.get("kept", 0) for c in e.get("truncated") or ())
    if size > cfg["max_chars"]:
        return [Finding("huge-output", "warning", f"{e.get('tool')} returned {size:,} characters",
                      data={"chars": size, "tool": e.get("tool")})]


@rule("runaway-cost", "error", types=(ev.LLM_RESPONSE,), max_usd=10.0)
def runaway_cost(e, st, cfg):
    """The session's real cost passes a ceiling."""
    u = _new_usage(e, st)
    if u is None:
        return None
    from ..analysis.summary import prices

    st["usd"] = st.get("usd", 0.0) + (prices().cost(e.get("model"), u) or 0.0)
    if st["usd"] > cfg["max_usd"] and not st.get("cost_done"):
        st["cost_done"] = True
        return [Finding("runaway-cost", "error", f"cost passed ${cfg['max_usd']:.2f} (now ${st['usd']:.2f})",
                      data={"usd": round(st["usd"], 4)})]
    return None


@rule("huge-context", types=(ev.LLM_RESPONSE,), max_context_tokens=150_000)
def huge_context(e, st, cfg):
    """One LLM call carries a huge context (input plus cache)."""
    u = _new_usage(e, st)
    if u is None:
        return None
    context = u.get("input", 0) + u.get("cache_read", 0) + u.get("cache_write", 0)
    if context > cfg["max_context_tokens"] and not st.get("context_done"):
        st["context_done"] = True
        return [Finding("huge-context", "warning", f"one LLM call carried {context:,} context tokens",
                        data={"context_tokens": context})]
    return None


def _new_usage(e, st) -> dict | None:
    """The usage of an LLM response this rule has not seen yet (one response
    can be recorded by two sources under one id)."""
    if e.get("type") != ev.LLM_RESPONSE or not isinstance(e.get("usage"), dict):
        return None
    eid = e.get("id")
    seen = st.setdefault("seen", {})
    if eid in seen:
        return None
    seen[eid] = True
    if len(seen) > 4096:  # recent ids only: a duplicate arrives within a turn
        del seen[next(iter(seen))]
    return e["usage"]
