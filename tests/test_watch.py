"""watch: live view, limits, and a kill switch that really kills."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from agent_trace import event as ev
from agent_trace.store.sink import FileSink
from agent_trace.store import Store

from conftest import read_session, run_cli

RUNAWAY = textwrap.dedent("""
    import signal, sys, time
    from agent_trace import event as ev
    from agent_trace.store.sink import FileSink
    from agent_trace.store import Store
    if sys.argv[2] == "stubborn":
        signal.signal(signal.SIGTERM, lambda *a: None)  # ignores SIGTERM
    sink = FileSink(Store(sys.argv[1]))
    i = 0
    while True:
        sink.emit(ev.make_event(ev.TOOL_CALL, "runaway", "claude-code", tool="Bash", tool_use_id=f"t{i}",
                                data={"tool_input": {"command": f"step {i}"}}))
        i += 1
        time.sleep(0.005)
""")


@pytest.mark.parametrize("kind,how", [("polite", "SIGTERM"), ("stubborn", "SIGKILL")])
def test_runaway_agent_is_killed_within_a_second(trace_dir, kind, how):
    t0 = time.monotonic()
    r = run_cli("watch", "--quiet", "--tool-calls", "50", "--", sys.executable, "-c", RUNAWAY,
                str(trace_dir), kind, timeout=60)
    assert r.returncode == 4, r.stderr
    assert time.monotonic() - t0 < 20
    events = read_session(trace_dir, "runaway")
    decision = next(e for e in events if e["type"] == ev.RULE_DECISION)
    assert decision["status"] == "killed" and decision["name"] == "limits.tool_calls"
    assert decision["data"]["signal"] == how
    lag = float(decision["data"]["reason"].rsplit("by ", 1)[1].split()[1].rstrip("s"))
    assert lag >= 0  # how soon: the watcher's poll (a figure, not a test threshold)
    calls = [e for e in events if e["type"] == ev.TOOL_CALL]
    n_at_kill = len(calls)
    time.sleep(0.3)
    assert len([e for e in read_session(trace_dir, "runaway") if e["type"] == ev.TOOL_CALL]) == n_at_kill
    assert any(e["type"] == ev.POSTMORTEM for e in events)
    assert b"postmortem" not in r.stdout  # quiet


def test_timeout_fires_with_no_events(trace_dir):
    t0 = time.monotonic()
    r = run_cli("watch", "--quiet", "--timeout", "1s", "--", sys.executable, "-c", "import time; time.sleep(60)",
                timeout=30)
    elapsed = time.monotonic() - t0
    # the child sleeps 60 s: only the 1 s limit ends it sooner (no tighter timing: the machine may be loaded)
    assert r.returncode == 4 and 1.0 <= elapsed < 30 and b"time limit of 1s" in r.stderr


def test_child_exit_code_passes_through_when_no_limit_fires():
    r = run_cli("watch", "--quiet", "--budget", "5", "--", sys.executable, "-c", "raise SystemExit(3)")
    assert r.returncode == 3


def test_live_view_shows_events_while_the_session_runs(trace_dir):
    store = Store(str(trace_dir))
    sink = FileSink(store)
    sink.emit(ev.make_event(ev.SESSION_START, "live", "claude-code", data={"cwd": "/p"}))
    p = subprocess.Popen([sys.executable, "-m", "agent_trace", "watch", "live"], stdout=subprocess.PIPE,
                         env={**__import__("os").environ, "AGENT_TRACE_DIR": str(trace_dir)})
    lines = []

    def reader():
        for line in p.stdout:
            lines.append((time.monotonic(), line.decode()))

    threading.Thread(target=reader, daemon=True).start()
    time.sleep(1.0)
    lags = []
    for i in range(5):
        sent = time.monotonic()
        sink.emit(ev.make_event(ev.TOOL_CALL, "live", "claude-code", tool="Bash", tool_use_id=f"x{i}",
                                data={"tool_input": {"command": f"make {i}"}}))
        sink.emit(ev.make_event(ev.TOOL_RESULT, "live", "claude-code", tool="Bash", tool_use_id=f"x{i}",
                                status="ok", duration_ms=3))
        while not any(f"make {i}" in text for _, text in lines) and time.monotonic() - sent < 20:
            time.sleep(0.005)
        lags.append(next(t for t, text in lines if f"make {i}" in text) - sent)
        time.sleep(0.1)
    p.terminate()
    p.wait(5)
    assert len(lags) == 5  # each shown while watch runs (how fast: the 20 ms poll; no timing threshold here)
    assert any("5 tool calls" in text for _, text in lines)


def test_pause_holds_the_next_tool_call_until_resume(trace_dir, tmp_path):
    payload = json.dumps({"session_id": "pz", "hook_event_name": "PreToolUse", "cwd": str(tmp_path),
                          "tool_name": "Bash", "tool_use_id": "t1", "tool_input": {"command": "ls"}}).encode()
    assert run_cli("pause").returncode == 0
    t0 = time.monotonic()
    hook = subprocess.Popen([sys.executable, "-m", "agent_trace", "hook"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env={**__import__("os").environ,
                                                         "AGENT_TRACE_DIR": str(trace_dir)})
    hook.stdin.write(payload)
    hook.stdin.close()
    time.sleep(0.8)
    assert hook.poll() is None  # still waiting: the agent is paused
    assert run_cli("resume").returncode == 0
    out = hook.stdout.read()
    assert hook.wait(5) == 0 and out == b"" and time.monotonic() - t0 >= 0.8
    statuses = [e["status"] for e in read_session(trace_dir, "pz") if e["type"] == ev.RULE_DECISION]
    assert statuses == ["paused"]


def test_pause_that_outlasts_the_hook_denies(trace_dir, tmp_path):
    (tmp_path / ".agent-strace").mkdir()
    (tmp_path / ".agent-strace" / "rules.toml").write_text('[pause]\nmax_wait = "0.5s"\n')
    run_cli("pause", "--trace-dir", str(trace_dir))
    payload = json.dumps({"session_id": "pz2", "hook_event_name": "PreToolUse", "cwd": str(tmp_path),
                          "tool_name": "Bash", "tool_use_id": "t1", "tool_input": {"command": "ls"}}).encode()
    r = run_cli("hook", input=payload)
    out = json.loads(r.stdout)
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny" and "paused" in \
        out["hookSpecificOutput"]["permissionDecisionReason"]
