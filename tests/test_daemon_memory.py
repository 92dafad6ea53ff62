"""The daemon's memory is bounded whatever it is fed: sessions beyond every
cap leave the per-session structures at their caps (counts, not timings).

In-process (the same Intake the daemon's HTTP handler calls), with small caps
so a few hundred payloads go past them all: live sessions, the events' worth
of state they hold, registrations, sinks, the change feed, and no summary or
rule state of a dropped session left behind."""

from __future__ import annotations

import gc

import pytest

from agent_trace.analysis.summary import SessionSummary
from agent_trace.control.engine import MemoryState
from agent_trace.daemon import intake as intake_mod
from agent_trace.daemon import live as live_mod
from agent_trace.daemon.files import DaemonFiles
from agent_trace.daemon.intake import Intake
from agent_trace.daemon.live import Live
from agent_trace.daemon.recovery import Recoverer

RULES = """
[limits]
consecutive_failures = 50
[loop]
threshold = 50
[[deny]]
commands = ["rm -rf /*"]
"""


def payloads(session: str, project, n_calls: int) -> list[dict]:
    base = {"session_id": session, "cwd": str(project), "transcript_path": str(project / f"{session}.jsonl")}
    out = [{**base, "hook_event_name": "UserPromptSubmit", "prompt": "go"}]
    for i in range(n_calls):
        call = {"tool_name": "Bash", "tool_input": {"command": f"echo {i}"}, "tool_use_id": f"toolu_{session}_{i}"}
        out.append({**base, **call, "hook_event_name": "PreToolUse"})
        out.append({**base, **call, "hook_event_name": "PostToolUse", "tool_response": {"stdout": str(i)}})
    return out


@pytest.fixture
def intake(tmp_path, monkeypatch):
    monkeypatch.setattr(intake_mod, "MAX_REGISTRATIONS", 16)
    monkeypatch.setattr(intake_mod, "MAX_SINKS", 4)
    monkeypatch.setattr(live_mod, "MAX_CHANGES", 64)
    recoverer = Recoverer()
    it = Intake(DaemonFiles(str(tmp_path / "daemon")), Live(max_sessions=8, max_held=200), recoverer)
    yield it
    recoverer.stop()
    it.close()


def test_sessions_past_every_cap_leave_the_per_session_structures_bounded(intake, tmp_path):
    project = tmp_path / "proj"
    (project / ".agent-strace").mkdir(parents=True)
    (project / ".agent-strace" / "rules.toml").write_text(RULES)
    stores = [tmp_path / f"store{i}" for i in range(7)]  # more stores than sinks
    for n in range(60):  # sessions of 31 and of 121 events: far more than 8 sessions, 200 events held
        session = f"s{n:03d}"
        env = {"AGENT_TRACE_DIR": str(stores[n % len(stores)])}
        for p in payloads(session, project, 15 if n % 2 else 60):
            intake.hook(p, "claude", None, None, env)
    assert intake.recoverer.wait_idle(30)
    gc.collect()

    live = intake.live
    sessions = live.sessions()
    assert 1 <= len(sessions) <= 8
    # checked when a session is new and every HELD_CHECK_EVERY payloads; the newest is never dropped
    assert live.held() <= 200 + live_mod.HELD_CHECK_EVERY + max(ls.weight() for ls in sessions)
    assert sessions[0].session == "s059"  # the session heard last is live
    assert len(intake._regs) <= 16
    assert len(intake._sinks) <= 4
    assert len(intake._policies) <= intake_mod.MAX_SINKS + 1
    assert len(live._changes) <= 64
    # nothing of a dropped session is kept elsewhere
    kept = [o for o in gc.get_objects() if isinstance(o, MemoryState)]
    assert len(kept) == len(sessions)
    summaries = [o for o in gc.get_objects() if isinstance(o, SessionSummary)]
    assert len(summaries) <= len(sessions)
    # and everything was recorded all the same
    recorded = sum(1 for s in stores for f in (s / "sessions").iterdir() for _ in open(f))
    assert recorded == sum(len(payloads(f"s{n:03d}", project, 15 if n % 2 else 60)) for n in range(60))


def test_a_dropped_session_comes_back_with_the_same_numbers(intake, tmp_path):
    """Its state is rebuilt from its file: the summary a reader gets equals the
    one it had before it was dropped."""
    project = tmp_path / "proj"
    (project / ".agent-strace").mkdir(parents=True)
    (project / ".agent-strace" / "rules.toml").write_text(RULES)
    env = {"AGENT_TRACE_DIR": str(tmp_path / "store")}
    for p in payloads("first", project, 20):
        intake.hook(p, "claude", None, None, env)
    before = intake.live.find("first").snapshot()["summary"]
    for n in range(12):
        for p in payloads(f"other{n}", project, 20):
            intake.hook(p, "claude", None, None, env)
    assert intake.live.find("first") is None  # dropped
    intake.hook(payloads("first", project, 21)[-2], "claude", None, None, env)  # one more call
    after = intake.live.find("first").snapshot()["summary"]
    assert after["tool_calls"] == before["tool_calls"] + 1
    assert after["events"] == before["events"] + 1


def test_the_daemon_hands_freed_memory_back_every_n_payloads_after_answering(tmp_path, monkeypatch):
    """The HTTP handler calls memory.trim() once every TRIM_EVERY payloads."""
    import http.client
    import json
    import threading

    from agent_trace.daemon import memory
    from agent_trace.daemon.server import Core, Loop, make_servers
    from support.processes import free_port

    trims = []
    monkeypatch.setattr(memory, "TRIM_EVERY", 3)
    monkeypatch.setattr(memory, "trim", lambda: trims.append(1) or True)
    monkeypatch.setenv("AGENT_TRACE_DIR", str(tmp_path / "store"))
    files = DaemonFiles(str(tmp_path / "daemon"))
    files.ensure()
    port = free_port()
    core = Core(files, port, "s3cret")
    loop = Loop(make_servers(core, None))
    t = threading.Thread(target=loop.run, daemon=True)
    t.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(7):
            body = json.dumps({"session_id": "s", "hook_event_name": "Notification", "message": str(i),
                               "cwd": str(tmp_path)})
            conn.request("POST", "/agent-strace/hook/claude", body,
                         {"Content-Type": "application/json", "Authorization": "Bearer s3cret"})
            r = conn.getresponse()
            assert r.status == 200 and json.loads(r.read()) == {}
        conn.close()
    finally:
        loop.stop()
        t.join(5)
        core.recoverer.stop()
        core.intake.close()
    assert len(trims) == 2  # after the 3rd and the 6th payload
