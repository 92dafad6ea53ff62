"""The framework integrations without any framework: the core stays
stdlib-only, capture fails open, enforcement fails closed, hostile input is
stored as JSON (redacted) or refused, never crashes the host program."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter

import pytest
from conftest import fixture_payloads, read_session
from test_hooks import SESSION, copy_transcripts, expected_responses

from agent_trace import event as ev
from agent_trace.capture.hooks import events_from_hook
from agent_trace.integrations import claude_sdk_hooks, rules
from agent_trace.integrations.claude_sdk_hooks import EVENTS, handle
from agent_trace.integrations.recorder import Recorder, json_arguments
from agent_trace.sdk import session
from agent_trace.store import Store
from agent_trace.store.reader import iter_events

FRAMEWORK_MODULES = ("agents", "langchain_core", "langgraph", "pydantic_ai", "claude_agent_sdk", "opentelemetry")


def test_importing_the_integrations_imports_no_framework():
    code = ("import sys, agent_trace.integrations as i; "
            f"print([m for m in {FRAMEWORK_MODULES!r} if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr


def test_without_the_framework_each_call_says_so_once_and_the_program_goes_on():
    code = """
from agent_trace.integrations import instrument_langchain, instrument_openai_agents, instrument_pydantic_ai
for fn in (instrument_openai_agents, instrument_langchain, instrument_pydantic_ai):
    h = fn(); h2 = fn()
    h.remove(); h.remove(); h2.remove()
    assert not h.active
print("alive")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "alive", r.stderr
    lines = r.stderr.strip().splitlines()
    missing = [m for m in ("agents", "langchain_core", "pydantic_ai") if _absent(m)]
    assert len(lines) == len(missing)  # one line per framework that is not there, not one per call
    assert all(line.startswith("agent-strace (") and "not instrumented" in line for line in lines)


def _absent(mod: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(mod) is None


class BrokenSink:
    def emit(self, e):
        raise OSError(28, "No space left on device")

    emit_many = emit

    def close(self):
        pass


def test_a_failing_store_never_reaches_the_host_program(capsys):
    rec = Recorder("test-fw")
    run = rec.start_run("r1", "agent")
    run.sink = BrokenSink()
    a = rec.agent_start(run, "a1", "agent")
    call = rec.tool_call(run, "t1", "search", "call_1", '{"q": "x"}', "a1")
    rec.tool_end(run, "t1", result={"hits": 1})
    rec.model_start(run, "m1", "a1")
    rec.model_end(run, "m1", "a1", model="gpt-x", usage={"input": 1})
    rec.note(run, "handoff", "a1", data={"to_agent": "b"})
    rec.agent_end(run, "a1")
    rec.end_run(run)
    assert a is not None and call is not None  # the events were built; writing them failed
    err = capsys.readouterr().err.splitlines()
    assert err == ["agent-strace (test-fw): could not record an event: OSError: [Errno 28] No space left on device"]


def test_events_land_in_the_active_sdk_session_with_parents_and_json(trace_dir):
    rec = Recorder("test-fw")
    with session("mine") as s:
        run = rec.start_run("r1", "agent")
        rec.agent_start(run, "a1", "planner")
        rec.agent_start(run, "a2", "helper", parent_key="a1", data={"via": "handoff"})
        args = '{"q": "weather", "api_key": "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD"}'
        call = rec.tool_call(run, "t1", "search", "call_9", args, "a2")
        rec.tool_end(run, "t1", result=b"\x00\xff")
        rec.tool_call(run, "t2", "fail", "call_10", {"n": 1}, "a2")
        rec.tool_end(run, "t2", error={"message": "boom", "type": "RuntimeError"})
        rec.end_run(run)  # not ours: the SDK session stays open
    events = read_session(trace_dir, s.id)
    types = [e["type"] for e in events]
    assert types == [ev.SESSION_START, ev.SUBAGENT_START, ev.SUBAGENT_START, ev.TOOL_CALL, ev.TOOL_RESULT,
                     ev.TOOL_CALL, ev.TOOL_ERROR, ev.SESSION_END]
    planner, helper = events[1], events[2]
    assert helper["data"]["parent_agent_id"] == planner["agent_id"] and helper["parent"] == planner["id"]
    assert call["id"] == ev.derived_id(s.id, "tool.call", "call_9")
    stored = events[3]
    assert stored["data"]["tool_input"]["q"] == "weather" and "sk-abc" not in json.dumps(stored)  # redacted
    assert stored["agent_id"] == helper["agent_id"] and stored["parent"] == helper["id"]
    assert events[4]["data"]["tool_response"] == {"__bytes__": 2, "b64": "AP8="}  # marked bytes, not a repr
    assert events[6]["error"] == {"message": "boom", "type": "RuntimeError"}


@pytest.mark.parametrize("raw,want", [
    ('{"a": 1}', {"a": 1}), ("", {}), ("{not json", "{not json"), (b'{"b": 2}', {"b": 2}),
    ({"k": (1, 2)}, {"k": [1, 2]}), ("[1, 2", "[1, 2"), (None, None),
])
def test_tool_arguments_are_json_whatever_arrives(raw, want):
    assert json_arguments(raw) == want


def test_deep_or_odd_arguments_do_not_crash():
    deep: list = []
    cur = deep
    for _ in range(200):
        cur.append([])
        cur = cur[0]
    out = json_arguments({"deep": deep, object(): 1})
    json.dumps(out)


def _run(trace_dir, cwd):
    from agent_trace.integrations.recorder import Run
    from agent_trace.store.sink import FileSink

    return Run("s1", FileSink(Store(str(trace_dir))), True, str(cwd))


def _call(run, tool="Bash", tool_input=None):
    e = ev.make_event(ev.TOOL_CALL, run.session_id, "test-fw", tool=tool, tool_use_id="c1",
                      data={"tool_input": tool_input or {"command": "rm -rf /"}})
    run.sink.emit(e)
    return e


def test_rules_deny_and_fail_closed(trace_dir, tmp_path, monkeypatch):
    run = _run(trace_dir, tmp_path)
    monkeypatch.delenv("AGENT_STRACE_RULES", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert rules.check(run, _call(run), "test-fw") is None  # no rules file: nothing to enforce
    f = tmp_path / "rules.toml"
    monkeypatch.setenv("AGENT_STRACE_RULES", str(f))
    f.write_text('[[deny]]\ncommands = ["rm -rf *"]\n')
    d = rules.check(run, _call(run), "test-fw")
    assert (d.action, d.rule) == ("deny", "deny.commands") and rules.blocks(d)
    f.write_text("[[deny]\nthis is not toml")  # a broken rules file denies everything, saying why
    d = rules.check(run, _call(run, "Read", {"file_path": "x"}), "test-fw")
    assert d.action == "deny" and d.rule == "rules-file"
    f.write_text('[[deny]]\ntools = ["Nope"]\n')
    assert rules.check(run, None, "test-fw", "Read").rule == "rules-engine"  # the call could not be recorded

    def explode(*a, **kw):
        raise RuntimeError("engine bug")

    monkeypatch.setattr("agent_trace.control.enforce.decide_call", explode)
    d = rules.check(run, _call(run, "Read", {"file_path": "x"}), "test-fw")
    assert d.action == "deny" and "engine bug" in d.reason
    decisions = [e for e in iter_events(Store(str(trace_dir)).path_for("s1")) if e["type"] == ev.RULE_DECISION]
    assert [e["status"] for e in decisions] == [ev.DENIED, ev.DENIED]  # recorded where the engine ran
    exc = rules.denied(d, "Read")
    assert isinstance(exc, rules.ToolDenied) and not exc.stop and "engine bug" in str(exc)


def _pre_tool(cwd, command="rm -rf build", session_id="sdk-1", tool_use_id="toolu_1"):
    # one tool_use_id per call, as the agent gives (the same id is the same call to every reader)
    return {"hook_event_name": "PreToolUse", "session_id": session_id, "cwd": str(cwd), "tool_name": "Bash",
            "tool_input": {"command": command}, "tool_use_id": tool_use_id,
            "transcript_path": "/nonexistent"}


def test_claude_sdk_hook_denies_records_and_fails_closed(trace_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("AGENT_STRACE_RULES", raising=False)
    proj = tmp_path / "proj"
    (proj / ".agent-strace").mkdir(parents=True)
    (proj / ".agent-strace" / "rules.toml").write_text('[[deny]]\ncommands = ["rm -rf *"]\nreason = "no"\n')
    out = handle(_pre_tool(proj))
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert handle(_pre_tool(proj, "ls", tool_use_id="toolu_2")) == {}
    events = read_session(trace_dir, "sdk-1")
    assert [e["type"] for e in events] == [ev.TOOL_CALL, ev.RULE_DECISION, ev.TOOL_CALL]
    assert events[0]["source"] == "claude-code" and events[0]["id"] == ev.derived_id("sdk-1", "tool.call", "toolu_1")
    # the store cannot be written: the call is denied, not let through unchecked
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the store's folder should be")
    monkeypatch.setenv("AGENT_TRACE_DIR", str(blocked))
    out = handle(_pre_tool(proj, "ls"))
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert handle({**_pre_tool(proj), "hook_event_name": "PostToolUse"}) == {}  # capture: fails open, silently on


@pytest.mark.parametrize("payload", [{}, {"hook_event_name": 3}, {"hook_event_name": "PreToolUse", "cwd": 5,
                                     "tool_input": "x" * 100000}, {"hook_event_name": "Stop", "session_id": ["x"]}])
def test_claude_sdk_hook_takes_hostile_payloads(trace_dir, payload, monkeypatch, tmp_path):
    monkeypatch.delenv("AGENT_STRACE_RULES", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    out = handle(dict(payload))
    assert isinstance(out, dict)


def _fixture_sdk_payloads(tmp_path, cwd=None):
    """The real Claude Code payloads of the hooks the SDK can register, with
    the fixture transcripts laid out as Claude Code does."""
    main = copy_transcripts(tmp_path)
    sub = main.parent / SESSION / "subagents" / "agent-ad3d745db96c336ff.jsonl"
    out = []
    for p in fixture_payloads():
        if p["hook_event_name"] not in EVENTS:
            continue
        p["transcript_path"] = str(main)
        if "agent_transcript_path" in p:
            p["agent_transcript_path"] = str(sub)
        if cwd is not None:
            p["cwd"] = str(cwd)
        out.append(p)
    return out


def test_claude_sdk_hooks_have_written_everything_when_the_program_returns(trace_dir, tmp_path):
    """The callbacks only answer; the worker writes.  The program returns
    while the worker is still behind (a slow first job), and still every
    hook event and every transcript response is on disk: drained at exit."""
    payloads = _fixture_sdk_payloads(tmp_path)
    code = """
import json, sys, time
from agent_trace.integrations import claude_sdk_hooks as h
h.WORKER.submit(lambda: time.sleep(0.5))
answers = [h.handle(p) for p in json.load(sys.stdin)]
assert all(a == {} for a in answers), answers
print("returned")
"""
    env = {**os.environ, "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", code], input=json.dumps(payloads), capture_output=True, text=True,
                       env=env, cwd=str(tmp_path), timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "returned", r.stderr
    events = read_session(trace_dir, SESSION)
    def row(e):
        return e["type"], e.get("name"), e.get("tool_use_id"), e.get("agent_id")

    with open(Store(str(trace_dir)).path_for(SESSION), encoding="utf-8") as f:
        written = [json.loads(line) for line in f]
    assert len(written) == len({e["id"] for e in written})  # nothing twice in the file
    want = [e for p in payloads for e in events_from_hook(p, None, "claude-code")]
    again = {e["id"] for p in payloads for e in events_from_hook(p, None, "claude-code")}
    derived = [e for e in want if e["id"] in again]  # ids the CLI hooks and the transcript share
    assert len(derived) > 10
    # every hook event is on disk: by its id, written by the hook or, when the
    # Stop import got to it first (the fixture's transcripts are already whole), by the import
    by_id = {e["id"]: e for e in written}
    def what(e):
        return e["type"], e.get("tool_use_id"), e.get("agent_id")

    assert Counter(what(by_id[e["id"]]) for e in derived if e["id"] in by_id) == Counter(what(e) for e in derived)
    assert Counter(row(e) for e in written if e.get("name") in EVENTS and e["id"] not in again) == \
        Counter(row(e) for e in want if e["id"] not in again)
    llm = [e for e in events if e["type"] == ev.LLM_RESPONSE]  # imported at Stop and SubagentStop
    assert sorted(e["data"]["message_id"] for e in llm) == sorted(expected_responses())


def test_claude_sdk_rules_wait_for_the_events_still_being_written(trace_dir, tmp_path, monkeypatch):
    """A limit on consecutive failures needs the failures the worker has not
    written yet: PreToolUse waits for them, then denies.  When they cannot be
    written in time, it denies too (fails closed)."""
    monkeypatch.delenv("AGENT_STRACE_RULES", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    proj = tmp_path / "proj"
    (proj / ".agent-strace").mkdir(parents=True)
    (proj / ".agent-strace" / "rules.toml").write_text('[limits]\nconsecutive_failures = 3\naction = "deny"\n')
    payloads = _fixture_sdk_payloads(tmp_path, proj)
    third_failure = [i for i, p in enumerate(payloads) if p["hook_event_name"] == "PostToolUseFailure"][2]
    release = threading.Event()
    answers = []
    for i, p in enumerate(payloads[:third_failure + 2]):
        if i == third_failure:  # the worker is busy when the third failure is handed over
            claude_sdk_hooks.WORKER.submit(lambda: release.wait(10))
            threading.Timer(0.3, release.set).start()
        answers.append(claude_sdk_hooks.handle(p))
    assert payloads[third_failure + 1]["hook_event_name"] == "PreToolUse"
    assert all(a == {} for a in answers[:-1]), answers
    assert answers[-1]["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "3 tool calls failed in a row" in answers[-1]["hookSpecificOutput"]["permissionDecisionReason"]

    stuck = threading.Event()
    monkeypatch.setattr(claude_sdk_hooks, "FLUSH_WAIT_S", 0.05)
    claude_sdk_hooks.WORKER.submit(lambda: stuck.wait(10))
    try:
        out = claude_sdk_hooks.handle(_pre_tool(proj, "ls", SESSION, "toolu_late"))
    finally:
        stuck.set()
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "still being written" in out["hookSpecificOutput"]["permissionDecisionReason"]
    assert claude_sdk_hooks.flush(10)


def test_background_worker_runs_in_order_survives_a_failing_job_and_never_deadlocks(capsys, monkeypatch):
    from agent_trace.integrations.background import Worker

    w, done = Worker("test-worker"), []
    assert w.flush(0)  # nothing started: nothing to wait for
    w.submit(lambda: done.append(1))
    w.submit(lambda: 1 / 0)
    w.submit(lambda: 1 / 0)
    w.submit(lambda: done.append(w.flush(5)))  # a job that flushes does not wait on itself
    w.submit(lambda: done.append(3))
    assert w.flush(10) and done == [1, True, 3]
    assert capsys.readouterr().err.count("ZeroDivisionError") == 1  # said once

    def no_threads(*a, **k):
        raise RuntimeError("can't create new thread at interpreter shutdown")

    w2 = Worker("test-worker-2")
    monkeypatch.setattr(w2, "_start", no_threads)
    w2.submit(lambda: done.append(4))  # done here and now rather than lost or raised into the agent
    assert done[-1] == 4
