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


def test_demo_records_and_replays(tmp_path):
    r = run_cli("demo", "--dir", str(tmp_path / "demo"), env={"AGENT_TRACE_DIR": ""})
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "24 hook calls" in out and "Bash(ls WS && echo listed) = ERROR (exit 2" in out
    assert "llm       11 calls" in out
    assert (tmp_path / "demo" / ".agent-traces" / "sessions" / f"{SESSION}.jsonl").exists()
