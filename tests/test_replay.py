import json

from conftest import fixture_payloads, run_cli

SESSION = "e8f720b7-94ae-4a8c-bae2-3ba0f907bf8b"


def record_fixture():
    for p in fixture_payloads():
        p = json.loads(json.dumps(p).replace("/home/dev/demo", "/work/proj"))
        assert run_cli("hook", input=json.dumps(p).encode()).returncode == 0


def test_replay_golden_lines():
    record_fixture()
    r = run_cli("replay", "latest")
    assert r.returncode == 0, r.stderr
    lines = [line[13:] for line in r.stdout.decode().splitlines()]  # drop the clock
    assert lines == [
        f"session_start({SESSION})",
        'prompt("do the scripted task")',
        "Write(notes.txt) = ok 9ms",
        "Read(notes.txt) = ok 3ms",
        "Edit(notes.txt) = ok 5ms",
        "Bash(ls WS && echo listed) = ERROR (exit 2: No such file or directory) 23ms",
        "Bash(cat /work/proj/does-not-exist.txt) = ERROR (exit 1: No such file or directory) 14ms",
        "Grep(WS) = ERROR (Path does not exist: WS. Note: your current working directory is /work/proj.) 17ms",
        "Agent(look at notes) = ok 27ms",
        "  [agent ad3d745d] subagent_start(general-purpose) = ad3d745db96c336ff",
        "turn_end() = ok",
        "  [agent ad3d745d] Read(notes.txt) = ok 8ms",
        "  [agent ad3d745d] subagent_stop(general-purpose) = ad3d745db96c336ff",
        'prompt("<task-notification> <task-id>ad3d745db96c336ff</task-id> ...")',
        "turn_end() = ok",
        "session_end(other)",
    ]


def test_replay_filters_and_json():
    record_fixture()
    failed = run_cli("replay", SESSION[:6], "--failed").stdout.decode().splitlines()
    assert len(failed) == 3 and all("ERROR" in x for x in failed)
    reads = run_cli("replay", "latest", "--tool", "Read", "--agent", "main").stdout.decode().splitlines()
    assert len(reads) == 1 and reads[0].endswith("Read(notes.txt) = ok 3ms")
    sub = run_cli("replay", "latest", "--agent", "ad3d").stdout.decode().splitlines()
    assert len(sub) == 3
    js = [json.loads(x) for x in run_cli("replay", "latest", "--json", "--type", "tool").stdout.splitlines()]
    assert {e["type"] for e in js} == {"tool.call", "tool.result", "tool.error"} and len(js) == 16


def test_replay_never_mangles_names():
    p = {"session_id": "m", "hook_event_name": "PreToolUse", "tool_name": "Read",
         "tool_use_id": "t", "tool_input": {"file_path": "tests/test_x_y.py"}}
    run_cli("hook", input=json.dumps(p).encode())
    p.update(hook_event_name="PostToolUse", tool_response={"ok": True})
    run_cli("hook", input=json.dumps(p).encode())
    out = run_cli("replay", "m").stdout.decode()
    assert "Read(tests/test_x_y.py) = ok" in out


def test_demo_is_one_coherent_session_each_run(tmp_path):
    demo_dir = tmp_path / "demo"
    r = run_cli("demo", "--dir", str(demo_dir), env={"AGENT_TRACE_DIR": ""})
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "no agent runs" in out and "recording a real" not in out  # honest wording
    assert "Bash(ls WS && echo listed) = ERROR (exit 2" in out
    assert "llm       11 calls" in out
    # a second run into the same folder is a second session, not a merge
    assert run_cli("demo", "--dir", str(demo_dir), env={"AGENT_TRACE_DIR": ""}).returncode == 0
    sessions = sorted((demo_dir / ".agent-traces" / "sessions").glob("*.jsonl"))
    assert len(sessions) == 2
    assert sorted(p.name for p in demo_dir.iterdir()) == [".agent-traces"]  # nothing else left behind

    for path in sessions:
        events = [json.loads(x) for x in path.read_text().splitlines()]
        times = {e["id"]: e["ts"] for e in events}
        start = next(e["ts"] for e in events if e["type"] == "session.start")
        end = next(e["ts"] for e in events if e["type"] == "session.end")
        assert all(start <= t <= end for t in times.values()), "an event outside its session"
        # every tool call comes after the model response that asked for it, and before its result
        asked = {}
        for e in events:
            if e["type"] == "llm.response":
                for b in e["data"].get("content") or []:
                    if b.get("type") == "tool_use":
                        asked[b["id"]] = e["ts"]
        calls = {e["tool_use_id"]: e["ts"] for e in events if e["type"] == "tool.call"}
        results = {e["tool_use_id"]: e["ts"] for e in events if e["type"] in ("tool.result", "tool.error")}
        assert calls and set(calls) == set(asked)
        for tid, t in calls.items():
            assert asked[tid] < t <= results[tid], tid

    # replay shows the session in time order, never going backwards
    session = sessions[0].name[:-len(".jsonl")]
    lines = run_cli("--trace-dir", str(demo_dir / ".agent-traces"), "replay", session).stdout.decode().splitlines()
    clocks = [x[:12] for x in lines if x[:2].isdigit()]
    assert clocks == sorted(clocks) and len(clocks) > 20
    # phases add up to the session, and no phase before the first prompt
    js = json.loads(run_cli("--trace-dir", str(demo_dir / ".agent-traces"), "timeline", session, "--json").stdout)
    assert js["phases"][0]["index"] == 1
    assert 0 < sum(p["duration_s"] for p in js["phases"]) <= js["summary"]["duration_s"] + 0.001
