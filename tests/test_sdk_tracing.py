"""The tracing API: decorators and sessions, sync/async/threads/generators."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import threading

import pytest

from agent_trace import event as ev
from agent_trace.sdk import session, to_json, trace_llm, trace_tool

from conftest import read_session


@dataclasses.dataclass
class Point:
    x: int
    y: int


@trace_tool
def add(a, b=1, *, label="sum"):
    return {"total": a + b, "label": label}


@trace_tool
def describe(obj, raw=b""):
    return {"kind": type(obj).__name__, "raw": raw}


@trace_tool(name="fail-tool")
def boom(reason):
    raise ValueError(f"bad {reason}")


@trace_tool
def numbers(n):
    yield from range(n)


@trace_tool
async def slow_double(x):
    await asyncio.sleep(0.01)
    return x * 2


@trace_tool
async def agen(n):
    for i in range(n):
        yield i


@trace_llm(model="gpt-test")
def fake_llm(prompt):
    return {"text": prompt.upper()}


def test_sync_tools_results_errors_and_json_arguments(trace_dir):
    with session("unit", session_id="sdk1"):
        add(2, b=3)
        describe(Point(1, 2), raw=b"\xff")
        with pytest.raises(ValueError, match="bad input"):
            boom("input")
        assert list(numbers(3)) == [0, 1, 2]
        fake_llm("hi")
    events = read_session(trace_dir, "sdk1")
    types = [e["type"] for e in events]
    assert types[0] == ev.SESSION_START and types[-1] == ev.SESSION_END
    call = next(e for e in events if e["type"] == ev.TOOL_CALL and e["tool"].endswith("add"))
    assert call["data"]["tool_input"] == {"a": 2, "b": 3}
    result = next(e for e in events if e["type"] == ev.TOOL_RESULT and e["tool_use_id"] == call["tool_use_id"])
    assert result["data"]["tool_response"] == {"total": 5, "label": "sum"} and result["duration_ms"] >= 0
    d = next(e for e in events if e["type"] == ev.TOOL_CALL and e["tool"].endswith("describe"))
    assert d["data"]["tool_input"] == {"obj": {"x": 1, "y": 2}, "raw": {"__bytes__": 1, "b64": "/w=="}}
    err = next(e for e in events if e["type"] == ev.TOOL_ERROR)
    assert err["tool"] == "fail-tool" and err["error"] == {"type": "ValueError", "message": "bad input"}
    gen = [e for e in events if e["type"] == ev.TOOL_RESULT and e["tool"].endswith("numbers")]
    assert gen[0]["data"]["tool_response"] == [0, 1, 2]
    llm = next(e for e in events if e["type"] == ev.LLM_RESPONSE)
    assert llm["model"] == "gpt-test" and llm["data"]["result"] == {"text": "HI"}


def test_async_nesting_threads_and_no_session(trace_dir):
    async def main():
        async with session("async", session_id="sdk2"):
            r = await asyncio.gather(slow_double(1), slow_double(2))
            items = [i async for i in agen(2)]
            await asyncio.to_thread(add, 10)  # context propagates into the thread
            return r, items

    assert asyncio.run(main()) == ([2, 4], [0, 1])
    ctx_events = read_session(trace_dir, "sdk2")
    tools = sorted(e["tool"].rsplit(".", 1)[-1] for e in ctx_events if e["type"] == ev.TOOL_CALL)
    assert tools == ["add", "agen", "slow_double", "slow_double"]
    # a plain thread does not inherit the session unless given the context
    with session("threads", session_id="sdk3"):
        ctx = contextvars.copy_context()
        t = threading.Thread(target=ctx.run, args=(add, 1))
        t.start()
        t.join()
        threading.Thread(target=add, args=(1,)).start()
    assert sum(1 for e in read_session(trace_dir, "sdk3") if e["type"] == ev.TOOL_CALL) == 1
    # with no session nothing is recorded and the function just runs
    assert add(1) == {"total": 2, "label": "sum"}


def test_to_json_marks_what_json_cannot_hold():
    class Model:
        def model_dump(self, mode=None):
            return {"a": 1}

    assert to_json(Point(1, 2)) == {"x": 1, "y": 2}
    assert to_json(Model()) == {"a": 1}
    assert to_json(b"\x00\x01") == {"__bytes__": 2, "b64": "AAE="}
    assert to_json({1: {2, 3}}) in ({"1": [2, 3]}, {"1": [3, 2]})
    odd = to_json(object())
    assert odd["__type__"] == "object" and odd["__repr__"].startswith("<object")
