"""The agent-strace daemon as a real process: the same events as the command
hook, decisions, auth, one per user, start on demand, live state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from agent_trace import event as ev
from agent_trace.analysis.summary import summarize

from conftest import fixture_payloads, read_session, run_cli
from support.daemon import PrivateDaemon

SESSION = "e8f720b7-94ae-4a8c-bae2-3ba0f907bf8b"


@pytest.fixture
def daemon(tmp_path, monkeypatch):
    d = PrivateDaemon(tmp_path, monkeypatch)
    yield d
    d.stop()


def comparable(e: dict) -> tuple:
    keep = {k: v for k, v in e.items() if k not in ("ts",)}
    if e["type"] in (ev.SESSION_START, ev.SESSION_END, ev.NOTIFICATION, ev.GENERIC):
        keep.pop("id")  # random ids: the agent names nothing there
    return json.dumps(keep, sort_keys=True)


def test_daemon_records_what_the_command_hook_records(daemon, tmp_path, trace_dir):
    """Every fixture payload through HTTP gives the events the command hook
    writes for it: same mapping, same ids, same encoder."""
    daemon.start()
    for p in fixture_payloads():
        status, answer = daemon.hook(p)
        assert status == 200 and answer == {}, answer
    daemon.sync()
    via_daemon = [e for e in read_session(trace_dir, SESSION) if e["type"] != ev.LLM_RESPONSE]

    other = tmp_path / "command-store"
    for p in fixture_payloads():
        r = run_cli("hook", input=json.dumps(p).encode(), env={"AGENT_TRACE_DIR": str(other)})
        assert r.returncode == 0, r.stderr
    via_command = [e for e in read_session(other, SESSION) if e["type"] != ev.LLM_RESPONSE]
    assert len(via_daemon) == len(fixture_payloads())
    assert [comparable(e) for e in via_daemon] == [comparable(e) for e in via_command]
    st = json.loads(daemon.cli("status", "--json").stdout)
    assert st["received"] == len(fixture_payloads()) and st["not_recorded"] == 0


def test_a_deny_rule_is_answered_and_recorded(daemon, tmp_path, trace_dir):
    project = tmp_path / "proj"
    (project / ".agent-strace").mkdir(parents=True)
    (project / ".agent-strace" / "rules.toml").write_text(
        '[[deny]]\ncommands = ["rm -rf *"]\nreason = "no mass deletes"\n')
    daemon.start()
    call = {"session_id": "s-deny", "hook_event_name": "PreToolUse", "cwd": str(project), "tool_name": "Bash",
            "tool_input": {"command": "rm -rf build"}, "tool_use_id": "toolu_1"}
    status, answer = daemon.hook(call)
    assert status == 200
    out = answer["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny" and "no mass deletes" in out["permissionDecisionReason"]
    ok = dict(call, tool_input={"command": "ls"}, tool_use_id="toolu_2")
    assert daemon.hook(ok) == (200, {})
    events = read_session(trace_dir, "s-deny")
    decisions = [e for e in events if e["type"] == ev.RULE_DECISION]
    assert [(d["status"], d["tool_use_id"]) for d in decisions] == [(ev.DENIED, "toolu_1")]
    # the live view holds the decision and the same summary the file gives
    status, live = daemon.get(f"/agent-strace/v1/session?id=s-deny&store={trace_dir}")
    assert status == 200
    assert live["decision"]["action"] == "deny" and live["decision"]["rule"] == "deny.commands"
    assert live["summary"] == summarize(events).to_dict()
    assert live["rules_file"] == str(project / ".agent-strace" / "rules.toml")
    # inspect (and so the VS Code status bar) shows what only the daemon holds
    shown = json.loads(run_cli("inspect", "s-deny", "--json").stdout)
    assert shown["live"]["decision"]["action"] == "deny" and shown["live"]["hooks"] == 2
    assert shown["tool_calls"] == live["summary"]["tool_calls"] == 2
    daemon.stop()
    assert "live" not in json.loads(run_cli("inspect", "s-deny", "--json").stdout)  # files alone


def test_a_broken_rules_file_denies(daemon, tmp_path):
    project = tmp_path / "proj"
    (project / ".agent-strace").mkdir(parents=True)
    (project / ".agent-strace" / "rules.toml").write_text("[[deny]\nthis is not toml")
    daemon.start()
    status, answer = daemon.hook({"session_id": "s-broken", "hook_event_name": "PreToolUse", "cwd": str(project),
                                  "tool_name": "Read", "tool_input": {"file_path": "x"}, "tool_use_id": "t1"})
    assert status == 200 and answer["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "rules file is broken" in answer["hookSpecificOutput"]["permissionDecisionReason"]


def test_a_kill_rule_signals_the_process_on_the_other_end(daemon, tmp_path, trace_dir):
    """The daemon is nobody's child: the agent to kill is the peer of the
    hook's TCP connection."""
    project = tmp_path / "proj"
    (project / ".agent-strace").mkdir(parents=True)
    (project / ".agent-strace" / "rules.toml").write_text(
        '[[deny]]\ntools = ["Nuke"]\naction = "kill"\n')
    daemon.start()
    payload = {"session_id": "s-kill", "hook_event_name": "PreToolUse", "cwd": str(project), "tool_name": "Nuke",
               "tool_input": {}, "tool_use_id": "t1"}
    client = subprocess.Popen([sys.executable, "-c", f"""
import http.client, json, sys, time
c = http.client.HTTPConnection("127.0.0.1", {daemon.port})
c.request("POST", "/agent-strace/hook/claude", body=json.dumps({payload!r}),
          headers={{"Content-Type": "application/json", "Authorization": "Bearer {daemon.secret}"}})
print(c.getresponse().read().decode(), flush=True)
time.sleep(30)
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert client.wait(timeout=20) == -signal.SIGTERM
    finally:
        if client.poll() is None:
            client.kill()
    events = read_session(trace_dir, "s-kill")
    assert [e["status"] for e in events if e["type"] == ev.RULE_DECISION] == [ev.KILLED]
    assert any(e["type"] == ev.POSTMORTEM for e in events)


def test_refusals_record_nothing(daemon, trace_dir):
    daemon.start()
    p = {"session_id": "s-auth", "hook_event_name": "UserPromptSubmit", "prompt": "x", "prompt_id": "p1"}
    path = "/agent-strace/hook/claude"
    assert daemon.post(path, p, secret=False)[0] == 401
    assert daemon.post(path, p, secret=False, headers={"Authorization": "Bearer wrong"})[0] == 401
    assert daemon.post(path, p, headers={"Origin": "https://evil.example"})[0] == 403
    assert daemon.post(path, p, headers={"Origin": "null"})[0] == 403
    assert daemon.post(path, p, headers={"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert daemon.post(path, p, headers={"Host": f"evil.example:{daemon.port}"})[0] == 403
    assert daemon.post(path, p, headers={"Content-Type": "text/plain"})[0] == 415
    assert daemon.post(path, None, raw=b"[1, 2]")[0] == 400
    assert daemon.post(path, None, raw=b"{not json")[0] == 400
    assert daemon.post("/agent-strace/hook/nobody", p)[0] == 404
    assert daemon.get("/agent-strace/v1/status", secret=False)[0] == 401
    assert daemon.get("/agent-strace/v1/sessions", headers={"Origin": "http://127.0.0.1"})[0] == 403
    assert not os.path.exists(os.path.join(trace_dir, "sessions", "s-auth.jsonl"))
    assert daemon.post(path, p) == (200, {})  # and the daemon is still fine
    assert len(read_session(trace_dir, "s-auth")) == 1


def test_oversized_and_slow_requests_are_cut_off(daemon):
    import socket

    from agent_trace.daemon.guard import MAX_BODY

    daemon.start()
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=20) as s:
        s.sendall(f"POST /agent-strace/hook/claude HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\n"
                  f"Authorization: Bearer {daemon.secret}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode())
        assert s.recv(100).startswith(b"HTTP/1.1 413")
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=20) as s:
        s.sendall(f"POST /agent-strace/hook/claude HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\n"
                  f"Authorization: Bearer {daemon.secret}\r\nContent-Type: application/json\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n".encode())
        assert s.recv(100).startswith(b"HTTP/1.1 411")
    # a client that starts a request and never finishes it is dropped
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as s:
        s.sendall(b"POST /agent-strace/hook/claude HTTP/1.1\r\n")
        t = time.monotonic()
        assert s.recv(100) == b""
        assert time.monotonic() - t < 25


def test_unix_socket_needs_no_secret_but_only_our_user(daemon):
    from agent_trace.daemon import client
    from agent_trace.daemon.files import DaemonFiles

    daemon.start()
    st = client.status(DaemonFiles(str(daemon.dir)))
    assert st["pid"] == daemon.pid and st["socket"]
    assert oct(os.stat(st["socket"]).st_mode & 0o777) == "0o600"
    assert oct(os.stat(daemon.dir).st_mode & 0o777) == "0o700"
    assert oct(os.stat(daemon.dir / "secret").st_mode & 0o777) == "0o600"


def test_one_daemon_per_user_and_a_killed_one_is_replaced(daemon):
    daemon.start()
    first = daemon.pid
    again = daemon.cli("start")
    assert again.returncode == 0 and "already running" in again.stdout and daemon.pid == first
    r = daemon.cli("run")  # a second daemon refuses to run beside the first
    assert r.returncode == 1 and "already running" in r.stderr
    daemon.kill(signal.SIGKILL)  # leaves daemon.json and the socket behind
    assert daemon.state() is not None
    assert daemon.cli("status").returncode == 1
    daemon.start()
    assert daemon.pid != first and daemon.running()
    assert daemon.cli("stop").returncode == 0 and not daemon.running()
    assert daemon.state() is None


def test_a_taken_port_is_a_clear_error(daemon):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", daemon.port))
        s.listen()
        r = daemon.cli("start")
    assert r.returncode == 1 and f"cannot listen on 127.0.0.1:{daemon.port}" in r.stderr


def test_session_start_hook_registers_and_starts_the_daemon_on_demand(daemon, tmp_path, trace_dir):
    payload = {"session_id": "s-demand", "hook_event_name": "SessionStart", "cwd": str(tmp_path),
               "transcript_path": str(tmp_path / "t.jsonl"), "source": "startup"}
    assert not daemon.running()
    r = run_cli("hook", "--daemon", "session-start", input=json.dumps(payload).encode())
    assert r.returncode == 0 and r.stdout == b"", r.stderr
    assert daemon.running()
    reg = json.loads((daemon.dir / "sessions" / "s-demand.json").read_text())
    assert reg["env"]["AGENT_TRACE_DIR"] == str(trace_dir) and reg["transcript_path"] == payload["transcript_path"]
    assert [e["type"] for e in read_session(trace_dir, "s-demand")] == [ev.SESSION_START]
    # what the daemon writes for the session lands where the agent's environment says,
    # whatever the daemon's own environment is
    elsewhere = tmp_path / "elsewhere"
    daemon.stop()
    daemon.start(env={"AGENT_TRACE_DIR": str(elsewhere)})
    daemon.hook({"session_id": "s-demand", "hook_event_name": "UserPromptSubmit", "cwd": str(tmp_path),
                 "prompt": "hi", "prompt_id": "p1"})
    assert [e["type"] for e in read_session(trace_dir, "s-demand")] == [ev.SESSION_START, ev.USER_PROMPT]
    assert not (elsewhere / "sessions").exists()


def test_daemon_started_by_a_hook_keeps_no_agent_secrets(daemon, tmp_path):
    payload = {"session_id": "s-env", "hook_event_name": "SessionStart", "cwd": str(tmp_path)}
    r = run_cli("hook", "--daemon", "session-start", input=json.dumps(payload).encode(),
                env={"ANTHROPIC_API_KEY": "sk-ant-api03-" + "x" * 40, "AGENT_STRACE_SECRET": "s"})
    assert r.returncode == 0
    with open(f"/proc/{daemon.pid}/environ", "rb") as f:
        env = dict(x.split(b"=", 1) for x in f.read().split(b"\0") if b"=" in x)
    assert b"ANTHROPIC_API_KEY" not in env and b"AGENT_STRACE_SECRET" not in env
    assert b"AGENT_TRACE_DIR" not in env  # per session, through the registration
    assert env[b"AGENT_STRACE_DAEMON_DIR"] == str(daemon.dir).encode()


def test_changes_wake_a_waiting_reader(daemon, trace_dir):
    from agent_trace.daemon.client import ChangeWaiter
    from agent_trace.daemon.files import DaemonFiles

    daemon.start()
    waiter = ChangeWaiter(str(trace_dir), tick=0.01, files=DaemonFiles(str(daemon.dir)))
    assert waiter.wait(0.1) is False  # the first look takes the sequence number
    got = {}

    def wait():
        t = time.monotonic()
        got["changed"] = waiter.wait(20)
        got["after"] = time.monotonic() - t

    th = threading.Thread(target=wait)
    th.start()
    time.sleep(0.3)
    daemon.hook({"session_id": "s-live", "hook_event_name": "Notification", "cwd": "/", "message": "hi"})
    th.join(25)
    assert got["changed"] is True and got["after"] < 10
    assert waiter.wait(0.2) is False  # nothing new: times out


def test_service_unit_starts_a_working_daemon(daemon, tmp_path):
    """No systemd here: the unit's ExecStart, split as systemd splits it, is run."""
    from agent_trace.daemon.service import exec_start

    cfg = tmp_path / "config"
    r = daemon.cli("service", env={"XDG_CONFIG_HOME": str(cfg)})
    assert r.returncode == 0, r.stderr
    text = (cfg / "systemd" / "user" / "agent-strace.service").read_text()
    assert "Restart=always" in text and f"AGENT_STRACE_DAEMON_DIR={daemon.dir}" in text
    argv = exec_start(text)
    proc = subprocess.Popen(argv, env={**os.environ, **daemon.env}, stdout=subprocess.PIPE, text=True)
    try:
        assert "listening on 127.0.0.1" in proc.stdout.readline()
        assert daemon.get("/agent-strace/v1/status")[1]["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    r = daemon.cli("service", "--uninstall", env={"XDG_CONFIG_HOME": str(cfg)})
    assert r.returncode == 0 and not (cfg / "systemd" / "user" / "agent-strace.service").exists()


def test_a_daemon_that_died_recovers_the_session_when_it_starts_again(daemon, tmp_path, trace_dir):
    """SessionStart started the daemon, then it was SIGKILLed and every other
    hook of the real session was lost: the next daemon start reads the
    session back from Claude Code's transcript, with the hooks' own ids."""
    from conftest import FIXTURES

    base = tmp_path / "home" / ".claude" / "projects" / "-home-dev-demo"
    subs = base / SESSION / "subagents"
    subs.mkdir(parents=True)
    main = base / f"{SESSION}.jsonl"
    main.write_bytes((FIXTURES / "transcript-main.jsonl").read_bytes())
    for suffix in ("jsonl", "meta.json"):
        name = f"transcript-subagent-agent-ad3d745db96c336ff.{suffix}"
        (subs / f"agent-ad3d745db96c336ff.{suffix}").write_bytes((FIXTURES / name).read_bytes())
    old = time.time() - 3600  # a finished session
    for f in (main, *subs.iterdir()):
        os.utime(f, (old, old))
    payloads = fixture_payloads()
    start = dict(payloads[0], transcript_path=str(main), cwd=str(tmp_path))
    assert run_cli("hook", "--daemon", "session-start", input=json.dumps(start).encode()).returncode == 0
    daemon.kill(signal.SIGKILL)

    daemon.start()
    daemon.sync()
    events = read_session(trace_dir, SESSION)
    (note,) = [e for e in events if e["type"] == ev.ANNOTATION and e.get("name") == "recovery"]
    assert note["name"] == "recovery" and note["data"]["at"] == "daemon start"
    # the first daemon may have read part of the transcript before it was killed: what the
    # restart recovered and what was there before make the whole session, once
    assert str(main) in note["data"]["from"] and note["data"]["by_type"].get(ev.TOOL_CALL, 0) >= 1
    assert sum(e["type"] == ev.TOOL_CALL for e in events) == 8
    # the ids the lost hooks would have written are all there, once
    other = tmp_path / "hooks-store"
    for p in payloads[1:]:
        run_cli("hook", input=json.dumps(p).encode(), env={"AGENT_TRACE_DIR": str(other)})
    hook_ids = {e["id"] for e in read_session(other, SESSION)
                if e["type"] in (ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR, ev.USER_PROMPT,
                                 ev.SUBAGENT_START, ev.SUBAGENT_STOP)}
    ids = [e["id"] for e in events]
    assert hook_ids <= set(ids) and len(ids) == len(set(ids))
    assert not (daemon.dir / "sessions" / f"{SESSION}.json").exists()  # finished: forgotten
    # another start finds nothing more to recover
    daemon.stop()
    daemon.start()
    daemon.sync()
    assert read_session(trace_dir, SESSION) == events


def test_the_environment_sent_in_headers_decides_the_store_and_registers_the_session(daemon, tmp_path, trace_dir):
    """An HTTP hook carries the agent's AGENT_TRACE_DIR and HOME in headers (Claude
    Code fills them in): the daemon records where a command hook would have,
    and writes the session down for recovery even without a SessionStart hook."""
    daemon.start()
    theirs = tmp_path / "agent store"
    headers = {"X-Agent-Strace-Env": "1", "X-Agent-Trace-Dir": str(theirs), "X-Agent-Strace-Rules": "",
               "X-Agent-Home": str(tmp_path)}
    p = {"session_id": "s-headers", "hook_event_name": "UserPromptSubmit", "cwd": str(tmp_path),
         "transcript_path": str(tmp_path / "t.jsonl"), "prompt": "hi", "prompt_id": "p1"}
    assert daemon.post("/agent-strace/hook/claude", p, headers=headers) == (200, {})
    assert [e["type"] for e in read_session(theirs, "s-headers")] == [ev.USER_PROMPT]
    reg = json.loads((daemon.dir / "sessions" / "s-headers.json").read_text())
    assert reg["env"] == {"AGENT_TRACE_DIR": str(theirs), "HOME": str(tmp_path)}
    # no AGENT_TRACE_DIR in the agent's environment: the project's own store, as for a command hook
    headers["X-Agent-Trace-Dir"] = ""
    project = tmp_path / "proj"
    p2 = dict(p, session_id="s-headers-2", cwd=str(project))
    assert daemon.post("/agent-strace/hook/claude", p2, headers=headers) == (200, {})
    assert len(read_session(project / ".agent-traces", "s-headers-2")) == 1
    assert not (trace_dir / "sessions" / "s-headers-2.jsonl").exists()


def test_pause_holds_the_call_in_the_daemon_until_resume(daemon, tmp_path, trace_dir):
    daemon.start()
    for sid in ("s-pause", "s-other"):
        daemon.hook({"session_id": sid, "hook_event_name": "UserPromptSubmit", "cwd": str(tmp_path), "prompt": "go",
                     "prompt_id": f"p-{sid}"})
    r = run_cli("pause", "s-pause")
    assert r.returncode == 0, r.stderr
    call = {"session_id": "s-pause", "hook_event_name": "PreToolUse", "cwd": str(tmp_path), "tool_name": "Bash",
            "tool_input": {"command": "ls"}, "tool_use_id": "t1"}
    got = {}
    th = threading.Thread(target=lambda: got.update(answer=daemon.hook(call)))
    th.start()
    time.sleep(1.0)
    assert th.is_alive(), "the paused call was answered"
    # other sessions are not held up meanwhile
    other = dict(call, session_id="s-other", tool_use_id="t2")
    assert daemon.hook(other) == (200, {})
    assert run_cli("resume", "s-pause").returncode == 0
    th.join(20)
    assert got["answer"] == (200, {})
    decisions = [e for e in read_session(trace_dir, "s-pause") if e["type"] == ev.RULE_DECISION]
    assert [d["status"] for d in decisions] == [ev.PAUSED]
    assert not [e for e in read_session(trace_dir, "s-other") if e["type"] == ev.RULE_DECISION]
