"""import --all and import PATH: discovery of Claude Code, Codex and Gemini
logs under a HOME, each session into its home store, incremental runs,
damaged and unreadable logs."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from unittest import mock

from agent_trace import event as ev
from agent_trace.capture import discover
from agent_trace.store import Store, registry

from conftest import FIXTURES, fixture_payloads, read_session, run_cli
from test_hooks import SESSION

SHARED = FIXTURES.parent.parent.parent.parent / "shared" / "fixtures"
CODEX_FIX = Path(__file__).parent / "fixtures" / "codex-0.171" / "rollout.jsonl"
GEMINI_FIX = Path(__file__).parent / "fixtures" / "gemini-0.61" / "chat-session.jsonl"
CODEX_SESSION = "01a2333f-e54c-7d01-9642-0ad828850087"
GEMINI_SESSION = "ea217351-26f1-4feb-8237-aa819df95b8b"


def fake_home(tmp_path: Path) -> Path:
    """A HOME with one real session of each agent, laid out as they write them."""
    home = tmp_path / "home"
    proj = home / ".claude" / "projects" / "-home-dev-demo"
    (proj / SESSION / "subagents").mkdir(parents=True)
    shutil.copy(FIXTURES / "transcript-main.jsonl", proj / f"{SESSION}.jsonl")
    for name in ("transcript-subagent-agent-ad3d745db96c336ff.jsonl",
                 "transcript-subagent-agent-ad3d745db96c336ff.meta.json"):
        shutil.copy(FIXTURES / name, proj / SESSION / "subagents" / name.replace("transcript-subagent-", ""))
    codex = home / ".codex" / "sessions" / "2026" / "12" / "01"
    codex.mkdir(parents=True)
    shutil.copy(CODEX_FIX, codex / f"rollout-2026-12-01T20-15-55-{CODEX_SESSION}.jsonl")
    chats = home / ".gemini" / "tmp" / "proj" / "chats"
    chats.mkdir(parents=True)
    shutil.copy(GEMINI_FIX, chats / "session-2026-12-01T20-16-ea217351.jsonl")
    old = 1_700_000_000  # long finished: imported to the end
    for p in home.rglob("*.jsonl"):
        os.utime(p, (old, old))
    return home


def at_home(monkeypatch, home: Path, tmp_path: Path) -> None:
    """The CLI as a user at ``home`` runs it: no store named, the agents'
    logs in their default places."""
    for k in ("AGENT_TRACE_DIR", "CLAUDE_CONFIG_DIR", "CODEX_HOME"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def history(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "agent-strace" / "history"


def test_fixtures_are_the_shared_captures():
    for name in ("codex-0.171/rollout.jsonl", "gemini-0.61/chat-session.jsonl"):
        if (SHARED / name).exists():
            assert (SHARED / name).read_bytes() == (FIXTURES.parent / name).read_bytes()


def test_discovery_honours_home_and_the_agents_variables(tmp_path, monkeypatch):
    home = fake_home(tmp_path)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("CODEX_HOME", raising=False)
    logs = discover.discover()
    got = sorted(((x.kind, x.session, x.agent_id) for x in logs), key=str)
    assert got == sorted([("claude", SESSION, None), ("claude", SESSION, "ad3d745db96c336ff"),
                          ("codex", None, None), ("gemini", None, None)], key=str)
    moved = tmp_path / "elsewhere"
    shutil.move(str(home / ".claude"), str(moved / "claude"))
    shutil.move(str(home / ".codex"), str(moved / "codex"))
    assert [x.kind for x in discover.discover()] == ["gemini"]
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{moved / 'nowhere'},{moved / 'claude'}")
    monkeypatch.setenv("CODEX_HOME", str(moved / "codex"))
    assert sorted(x.kind for x in discover.discover()) == ["claude", "claude", "codex", "gemini"]


def test_import_all_brings_every_agent_into_the_history_store(tmp_path, monkeypatch):
    home = fake_home(tmp_path)
    at_home(monkeypatch, home, tmp_path)
    env = None
    r = run_cli("import", "--all", "--json", env=env)
    assert r.returncode == 0, r.stderr
    totals = json.loads(r.stdout)
    assert totals["files"] == 4 and totals["sessions"] == 3 and totals["failed"] == 0
    assert totals["stores"] == {str(history(tmp_path)): totals["events"]}
    claude = read_session(history(tmp_path), SESSION)
    assert sum(e["type"] == ev.TOOL_CALL for e in claude) == 8
    assert sum(e["type"] == ev.LLM_RESPONSE for e in claude) == 11
    codex = read_session(history(tmp_path), CODEX_SESSION)
    assert [e["usage"] for e in codex if e["type"] == ev.LLM_RESPONSE][0]["input"] >= 0
    assert any(e["type"] == ev.LLM_RESPONSE and e["model"] == "gemini-3.8-flash"
               for e in read_session(history(tmp_path), GEMINI_SESSION))
    # nothing new: nothing read, nothing written
    again = json.loads(run_cli("import", "--all", "--json", env=env).stdout)
    assert again["files"] == 0 and again["unchanged"] == 4 and again["events"] == 0
    # the transcript grows: only the new bytes are read
    main = home / ".claude" / "projects" / "-home-dev-demo" / f"{SESSION}.jsonl"
    extra = {"type": "user", "sessionId": SESSION, "uuid": "u-new", "promptId": "p-new",
             "timestamp": "2026-11-21T20:00:00.000Z", "message": {"role": "user", "content": "one more thing"}}
    line = json.dumps(extra, separators=(",", ":")) + "\n"
    with open(main, "a") as f:
        f.write(line)
    os.utime(main, (1_700_000_100, 1_700_000_100))
    more = json.loads(run_cli("import", "--all", "--json", env=env).stdout)
    assert more["files"] == 1 and more["bytes"] == len(line) and more["events"] == 1
    prompts = [e for e in read_session(history(tmp_path), SESSION) if e["type"] == ev.USER_PROMPT]
    assert prompts[-1]["data"]["prompt"] == "one more thing"


def test_a_session_the_hooks_recorded_is_completed_in_its_project_store(tmp_path, monkeypatch):
    """The project store that holds a session stays its home: the import
    adds what hooks cannot see (LLM turns) and repeats nothing."""
    home = fake_home(tmp_path)
    project = tmp_path / "demo"
    project.mkdir()
    at_home(monkeypatch, home, tmp_path)
    env = None
    for p in fixture_payloads():
        p.pop("transcript_path", None)
        p.pop("agent_transcript_path", None)
        p["cwd"] = str(project)
        assert run_cli("hook", input=json.dumps(p).encode(), env=env).returncode == 0
    store = project / ".agent-traces"
    assert registry.REGISTRY and str(store) in (tmp_path / "xdg" / "agent-strace" / "stores.txt").read_text()
    hooked = len(read_session(store, SESSION))
    r = run_cli("import", "--all", "--json", env=env)
    totals = json.loads(r.stdout)
    assert totals["stores"][str(store)] == 11  # the 11 LLM turns, nothing else
    raw = [json.loads(x) for x in open(Store(str(store)).path_for(SESSION))]
    assert len(raw) == hooked + 11 == len({e["id"] for e in raw})
    assert not os.path.exists(Store(str(history(tmp_path))).path_for(SESSION))


def test_unreadable_and_newer_logs_cost_one_line_each(tmp_path, monkeypatch):
    home = fake_home(tmp_path)
    proj = home / ".claude" / "projects" / "-home-dev-demo"
    newer = proj / "0000-newer.jsonl"
    lines = (FIXTURES / "transcript-main.jsonl").read_text().splitlines(keepends=True)
    hologram = json.dumps({"type": "hologram-v9", "sessionId": "0000-newer", "payload": {"x": 1}}) + "\n"
    newer.write_text(lines[2].replace(SESSION, "0000-newer") + hologram * 3 + "{torn")
    newer2 = proj / "0001-newer.jsonl"
    newer2.write_text(lines[2].replace(SESSION, "0001-newer") + hologram)
    locked = proj / "0002-locked.jsonl"
    locked.write_text(lines[2].replace(SESSION, "0002-locked"))
    for p in (newer, newer2, locked):
        os.utime(p, (1_700_000_000, 1_700_000_000))
    at_home(monkeypatch, home, tmp_path)
    from agent_trace.cli import main

    real_open = open

    def guarded_open(path, *a, **k):
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    real_os_open = os.open

    def guarded_os_open(path, *a, **k):  # the parsers open logs with os.open (regular files only)
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_os_open(path, *a, **k)

    err = []
    monkeypatch.setattr("sys.stderr", mock.Mock(write=err.append, isatty=lambda: False))
    with mock.patch("builtins.open", guarded_open), mock.patch("os.open", guarded_os_open):
        assert main(["import", "--all", "--quiet"]) == 0
    lines_out = "".join(err).splitlines()
    assert [x for x in lines_out if "Permission denied" in x] == [f"agent-strace import: {locked}: "
                                                                  "Permission denied: skipped"]
    assert len([x for x in lines_out if "hologram-v9" in x]) == 1  # one line for the type, two files have it
    assert len(lines_out) == 2
    hist = history(tmp_path)
    assert sum(e["type"] == ev.TOOL_CALL for e in read_session(hist, SESSION)) == 8
    assert [e["type"] for e in read_session(hist, "0000-newer")] == [ev.SESSION_START, ev.USER_PROMPT,
                                                                      ev.SESSION_END]


def test_import_path_and_explicit_store(tmp_path, trace_dir):
    home = fake_home(tmp_path)
    folder = home / ".claude" / "projects" / "-home-dev-demo"
    r = run_cli("import", str(folder), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["stores"] == {str(trace_dir): len(read_session(trace_dir, SESSION))}
    assert run_cli("import").returncode == 2
    missing = run_cli("import", str(tmp_path / "nope"))
    assert missing.returncode == 2 and b"no such file or folder" in missing.stderr


def test_list_all_groups_every_store_by_project(tmp_path, monkeypatch):
    home = fake_home(tmp_path)
    project = tmp_path / "demo"
    project.mkdir()
    at_home(monkeypatch, home, tmp_path)
    first = fixture_payloads()[0]
    first.update(cwd=str(project), session_id="hooked-1")
    assert run_cli("hook", input=json.dumps(first).encode()).returncode == 0
    r = run_cli("list", "--all", "--json")  # imports the agents' logs first
    assert r.returncode == 0, r.stderr
    groups = {g["project"]: g["sessions"] for g in json.loads(r.stdout)}
    assert [s["session"] for s in groups[str(project)]] == ["hooked-1"]
    assert groups[str(project)][0]["store"] == str(project / ".agent-traces")
    demo = {s["session"]: s for s in groups["/home/dev/demo"]}
    assert set(demo) == {SESSION, CODEX_SESSION}
    assert demo[SESSION]["tool_calls"] == 8 and demo[SESSION]["store"] == str(history(tmp_path))
    assert GEMINI_SESSION in {s["session"] for g in groups.values() for s in g}
    text = run_cli("list", "--all", "--no-import").stdout.decode()
    assert text.index(str(project)) < text.index("hooked-1") and "/home/dev/demo  (2 session(s)" in text
    # without --all: the current store only, as before
    assert [row["session"] for row in json.loads(run_cli("list", "--json", "--trace-dir",
                                                         str(project / ".agent-traces")).stdout)] == ["hooked-1"]


def test_older_layout_subagents_beside_the_sessions(tmp_path, monkeypatch):
    """Claude Code before subagent folders wrote agent-<id>.jsonl next to the
    sessions; their entries name the session they belong to."""
    home = tmp_path / "home"
    proj = home / ".claude" / "projects" / "-w-old"
    proj.mkdir(parents=True)
    sub = [json.loads(x) for x in (FIXTURES / "transcript-subagent-agent-ad3d745db96c336ff.jsonl").open()]
    with open(proj / "agent-ad3d745db96c336ff.jsonl", "w") as f:
        for e in sub:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    os.utime(proj / "agent-ad3d745db96c336ff.jsonl", (1_700_000_000, 1_700_000_000))
    at_home(monkeypatch, home, tmp_path)
    (log,) = discover.discover()
    assert (log.session, log.agent_id) == (None, "ad3d745db96c336ff")
    assert json.loads(run_cli("import", "--all", "--json").stdout)["sessions"] == 1
    events = read_session(history(tmp_path), SESSION)
    assert {e.get("agent_id") for e in events} == {"ad3d745db96c336ff"}
    assert [e["tool"] for e in events if e["type"] == ev.TOOL_CALL] == ["Read"]


def test_progress_bar_only_on_a_terminal(tmp_path, monkeypatch):
    import subprocess
    import sys

    home = fake_home(tmp_path)
    at_home(monkeypatch, home, tmp_path)
    master, slave = os.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "agent_trace", "import", "--all"], stderr=slave,
                           stdout=subprocess.PIPE, timeout=120)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert r.returncode == 0 and b"importing [" in seen and b"4/4 logs" in seen
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-again"))  # the same work once more ...
    quiet = run_cli("import", "--all")  # ... with stderr a pipe: no bar
    assert quiet.returncode == 0 and b"from 4 log(s)" in quiet.stdout and quiet.stderr == b""


def test_odd_entries_where_logs_go_are_passed_over(tmp_path, monkeypatch):
    # a FIFO would hang the reader, a folder is no log, a symlink loop cannot be
    # followed (one line for it); the real logs are all found
    home = fake_home(tmp_path)
    at_home(monkeypatch, home, tmp_path)
    proj = home / ".claude" / "projects" / "-home-dev-demo"
    os.mkfifo(home / ".codex" / "sessions" / "2026" / "rollout-fifo.jsonl")
    os.mkfifo(home / ".gemini" / "tmp" / "proj" / "chats" / "session-fifo.jsonl")
    (home / ".gemini" / "tmp" / "proj" / "chats" / "session-dir.jsonl").mkdir()
    os.symlink("loop.jsonl", proj / "loop.jsonl")
    os.symlink("selfproj", proj.parent / "selfproj")
    errors = []
    logs = discover.discover(on_error=lambda path, e: errors.append(path))
    assert sorted(os.path.basename(x.path) for x in logs) == sorted(
        [f"{SESSION}.jsonl", "agent-ad3d745db96c336ff.jsonl", f"rollout-2026-12-01T20-15-55-{CODEX_SESSION}.jsonl",
         "session-2026-12-01T20-16-ea217351.jsonl"])
    assert sorted(os.path.basename(p) for p in errors) == ["loop.jsonl", "selfproj"]


def test_a_rollout_whose_first_line_is_too_long_to_peek_is_named_by_its_file(tmp_path, monkeypatch):
    from agent_trace.capture import history

    home = fake_home(tmp_path)
    at_home(monkeypatch, home, tmp_path)
    monkeypatch.setattr(history, "PEEK_MAX", 100)  # the session_meta line (the agent's instructions) is longer
    rollout = next(x for x in discover.discover() if x.kind == discover.CODEX)
    assert history._peek_session(rollout) == CODEX_SESSION


def test_a_log_modified_in_the_future_is_imported_to_its_end(tmp_path, monkeypatch):
    home = fake_home(tmp_path)
    at_home(monkeypatch, home, tmp_path)
    for p in home.rglob("*.jsonl"):
        os.utime(p, (4_102_444_800, 4_102_444_800))  # 2100: a wrong clock, a restored backup
    from agent_trace.cli import main

    assert main(["import", "--all", "--quiet"]) == 0
    scan = json.loads((history(tmp_path) / "state" / "scan.json").read_text())["logs"]
    assert scan and all(row[4] for row in scan.values())  # finished: not read again and again
    assert ev.SESSION_END in [e["type"] for e in read_session(history(tmp_path), SESSION)]


def test_a_cursor_holds_no_secret_of_the_log(tmp_path):
    # the parser's resume state keeps raw values of an unfinished turn; the
    # cursor saves them redacted (that one call may not pair on resume)
    from agent_trace.capture import log_import

    ghp, akia, sk = "ghp_" + "aB3dE5fG7h" * 4, "AKIA" + "ABCDEFGH23456789", "sk-ant-api03-" + "aB3dE5fG7h" * 6
    path = tmp_path / "c.json"
    log_import._write_cursor(str(path), {"path": f"/logs/{sk}.jsonl", "session": sk, "offset": 10, "state": {
        "calls": {ghp: [akia, 1.0], "toolu_01": ["Bash", 2.0]}, "prompt": sk, "started": True,
        "last_ts": "password=hunter2xyzzy"}})
    saved = path.read_text()
    assert not any(s in saved for s in (ghp, akia, sk, "hunter2xyzzy")), saved
    cur = json.loads(saved)
    assert cur["session"] is None and cur["offset"] == 10 and cur["state"]["calls"]["toolu_01"] == ["Bash", 2.0]
    plain = {"path": "/logs/s.jsonl", "session": "s1", "offset": 5, "state": None}
    log_import._write_cursor(str(path), plain)
    assert json.loads(path.read_text()) == plain
