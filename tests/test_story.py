"""explain, timeline, why, compare/diff, tree on the real fixture session and
on sessions written to show each case."""

import json

from agent_trace import event as ev
from agent_trace.store.sink import FileSink
from agent_trace.store import Store

from conftest import record_fixture_session, run_cli
from test_hooks import SESSION


def record(tmp_path, rename=None):
    record_fixture_session(rename)


def test_explain_golden(tmp_path):
    record(tmp_path)
    out = run_cli("explain", SESSION).stdout.decode().splitlines()
    assert out[0] == 'Phase 1: "do the scripted task"  [' + out[0].split("[", 1)[1]
    assert out[-2].startswith(f"Session {SESSION} (claude-code): ")
    assert "1 phase, 8 tool calls (3 failed), 11 LLM calls, $0.0842." in out[-2]
    text = "\n".join(out)
    assert 'Phase 1: "do the scripted task"' in text
    assert "  Read 1 file: notes.txt" in text  # the failed Grep of WS read nothing
    assert "  Changed 1 file: notes.txt" in text
    assert "  Ran 2 commands: ls WS && echo listed; cat /w/demo/does-not-exist.txt" in text
    assert "  Failed: Bash ls WS && echo listed: Exit code 2: ls: cannot access 'WS': " \
           "No such file or directory (not recovered)" in text
    assert "  Subagent ad3d745db96c336ff worked in this phase." in text
    assert out[-1] == "Outcome: session ended (other); 3 failures, 0 recovered."
    # the background task reporting back is not a phase of its own, nor a title
    assert "task-notification" not in text
    js = json.loads(run_cli("explain", SESSION, "--json").stdout)
    assert [p["index"] for p in js["phases"]] == [1]
    assert sum(p["tool_calls"] for p in js["phases"]) == js["summary"]["tool_calls"] == 8
    assert abs(sum(p["cost_usd"] for p in js["phases"]) - js["summary"]["cost_usd"]) < 1e-6


def test_timeline_phases_sum_to_the_session(tmp_path):
    record(tmp_path)
    js = json.loads(run_cli("timeline", SESSION, "--json").stdout)
    stats = json.loads(run_cli("stats", SESSION, "--json").stdout)
    assert sum(p["llm_calls"] for p in js["phases"]) == stats["llm_calls"]
    text = run_cli("timeline", SESSION).stdout.decode()
    assert "do the scripted task" in text and "$0.0" in text


def test_why_links_results_calls_and_prompts(tmp_path):
    record(tmp_path)
    events = [json.loads(x) for x in run_cli("replay", SESSION, "--json").stdout.splitlines()]
    idx = next(i for i, e in enumerate(events, 1) if e["type"] == "tool.error")
    w = json.loads(run_cli("why", SESSION, f"#{idx}", "--json").stdout)
    rel = {c["relation"]: c for c in w["causes"]}
    assert rel["answers the call"]["event"]["tool_use_id"] == w["event"]["tool_use_id"]
    assert rel["in the phase opened by"]["event"]["type"] == "user.prompt"
    assert rel["asked for by"]["event"]["type"] == "llm.response"
    call = rel["answers the call"]["event"]
    w2 = json.loads(run_cli("why", SESSION, call["id"][:10], "--json").stdout)
    assert any(x["relation"] == "result" for x in w2["effects"])
    assert run_cli("why", SESSION, "#9999").returncode == 3
    assert b"because:" in run_cli("why", SESSION, f"#{idx}").stdout


def test_compare_verdicts_and_ci_exit_code(tmp_path, trace_dir):
    record(tmp_path)
    record(tmp_path / "b", rename="bbbbbbbb-0000-0000-0000-000000000000")
    # the two recordings differ only in wall-clock time, which a huge tolerance ignores
    same = json.loads(run_cli("compare", SESSION, "bbbbbbbb", "--json", "--tolerance", "1e9").stdout)
    assert same["verdict"] == "same" and same["same_tool_sequence"]
    sink = FileSink(Store(str(trace_dir)))
    b = "bbbbbbbb-0000-0000-0000-000000000000"
    for i in range(3):
        sink.emit(ev.make_event(ev.TOOL_CALL, b, "claude-code", tool="Bash", tool_use_id=f"x{i}"))
        sink.emit(ev.make_event(ev.TOOL_ERROR, b, "claude-code", tool="Bash", tool_use_id=f"x{i}",
                                status="error", error={"message": "boom"}))
    r = run_cli("compare", SESSION, "bbbbbbbb", "--fail-on", "regressed")
    assert r.returncode == 4 and b"verdict: REGRESSED (more tool errors (3 -> 6)" in r.stdout
    d = run_cli("diff", SESSION, "bbbbbbbb").stdout.decode()
    assert "+Bash" in d and "tool sequence:" in d


def test_tree_shows_subagents(tmp_path):
    record(tmp_path)
    t = json.loads(run_cli("tree", "--json").stdout)
    assert t[0]["session"] == SESSION
    (sub,) = t[0]["subagents"]
    assert sub["agent_id"] == "ad3d745db96c336ff" and sub["agent_type"] == "general-purpose"
    assert sub["tool_calls"] == 1 and sub["llm_calls"] == 2
    assert "└─ ad3d745db96c336ff (general-purpose)" in run_cli("tree").stdout.decode()
