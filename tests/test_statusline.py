"""statusline: the line's figures, its caches, its hot path, setup --statusline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from agent_trace import event as ev
from agent_trace.render import statusline
from agent_trace.store import Store
from agent_trace.store.sink import FileSink

from conftest import run_cli
from test_hooks import SESSION, copy_transcripts

PER_MESSAGE = (1200 * 5.0 + 60 * 25.0 + 300 * 0.5) / 1e6  # the fixture's usage at claude-opus prices


def payload(main, **extra):
    p = {"hook_event_name": "Status", "session_id": SESSION, "transcript_path": str(main), "cwd": "/nowhere",
         "model": {"id": "claude-opus-5-5", "display_name": "Opus 5.5"}}
    p.update(extra)
    return p


def test_session_cost_tools_and_context_from_the_transcripts(tmp_path):
    main = copy_transcripts(tmp_path)
    line = statusline.render(payload(main))
    parts = line.split(" | ")
    assert parts[0] == "Opus 5.5"
    assert parts[1] == f"session ${11 * PER_MESSAGE:.3f} 8 tools"  # 9 main + 2 subagent messages; 7 + 1 calls
    assert parts[-1] == "ctx 1%"  # 1500 of 200,000 tokens in the last message
    with_window = payload(main, context_window={"context_window_size": 200000, "current_usage": {
        "input_tokens": 10, "cache_read_input_tokens": 99990, "cache_creation_input_tokens": 0}})
    assert statusline.render(with_window).endswith("ctx 50%")
    assert statusline.render(payload(main, context_window={"used_percentage": 12.4})).endswith("ctx 12%")


def test_appended_messages_are_counted_once(tmp_path):
    main = copy_transcripts(tmp_path)
    statusline.render(payload(main))
    entry = {"type": "assistant", "sessionId": SESSION, "timestamp": "2026-11-21T19:05:00.000Z",
             "message": {"id": "msg_new", "model": "claude-opus-5-5", "role": "assistant",
                         "content": [{"type": "text", "text": "a"}],
                         "usage": {"input_tokens": 1200, "output_tokens": 60, "cache_read_input_tokens": 300}}}
    second = json.loads(json.dumps(entry))
    second["message"]["content"] = [{"type": "tool_use", "id": "toolu_x", "name": "Bash", "input": {}}]
    with open(main, "a") as f:
        f.write(json.dumps(entry, separators=(",", ":")) + "\n" + json.dumps(second, separators=(",", ":")) + "\n")
        f.write('{"type":"assistant","message":{"id":"msg_torn"')  # still being written
    line = statusline.render(payload(main))
    assert f"session ${12 * PER_MESSAGE:.3f} 9 tools" in line


def test_today_block_and_background_refresh(tmp_path):
    main = copy_transcripts(tmp_path)
    now = time.time()
    spawned = []
    line = statusline.render(payload(main), now=now, spawn=lambda: spawned.append(1))
    assert "today" not in line and spawned == [1]  # nothing cached yet: a refresh is started
    statusline.render(payload(main), now=now + 1, spawn=lambda: spawned.append(1))
    assert spawned == [1]  # not again within half a minute
    day = time.strftime("%Y-%m-%d", time.localtime(now))
    cache = os.path.join(statusline._data_dir(), "statusline.json")
    with open(cache, "w") as f:
        json.dump({"computed_at": now, "day": day, "today_usd": 12.345,
                   "block": {"start": now - 3600, "end": now + 2 * 3600 + 13 * 60 + 30, "usd": 8.1}}, f)
    line = statusline.render(payload(main), now=now, spawn=lambda: spawned.append(1))
    assert "| today $12.35 | block $8.10 2h13m left |" in line and spawned == [1]


def test_last_rule_decision_from_the_project_store(tmp_path, monkeypatch):
    main = copy_transcripts(tmp_path)
    project = tmp_path / "proj"
    store = Store(str(project / ".agent-traces"))
    FileSink(store).emit(ev.make_event(ev.RULE_DECISION, SESSION, "agent-strace", name="no-rm-rf",
                                       status=ev.DENIED, data={"reason": "rm -rf"}))
    p = payload(main, workspace={"project_dir": str(project), "current_dir": str(project)})
    monkeypatch.delenv("AGENT_TRACE_DIR")
    assert statusline.render(p).endswith("| rule denied no-rm-rf")


def test_hot_path_imports_and_bad_input(tmp_path):
    from agent_trace.cli.statusline_cmd import LAUNCH
    from agent_trace.setup.hook_command import LAUNCH as SETUP_LAUNCH

    assert LAUNCH == SETUP_LAUNCH
    main = copy_transcripts(tmp_path)
    code = ("import sys, io; sys.stdin = io.TextIOWrapper(io.BytesIO(sys.argv[1].encode()));"
            "from agent_trace.cli import main; main(['statusline']);"
            "print(sorted(m for m in ('argparse', 're', 'json', 'datetime', 'subprocess', 'hashlib',"
            "'agent_trace.store.reader', 'agent_trace.analysis.summary') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code, json.dumps(payload(main))], capture_output=True, text=True,
                       env={**os.environ, "HOME": str(tmp_path)})
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("Opus 5.5 | session $") and lines[-1] == "[]", r
    for bad in (b"", b"{oops", b"[1,2]", b'{"model": 5, "session_id": 7}', b"\xff\xfe"):
        r = run_cli("statusline", input=bad, env={"HOME": str(tmp_path)})
        assert r.returncode == 0 and len(r.stdout.splitlines()) == 1, (bad, r)


def test_refresh_computes_today_and_the_active_block(trace_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no agent logs to import here
    now = time.time()
    ts = ev.now_iso(now - 600)
    FileSink(Store(str(trace_dir))).emit(ev.make_event(
        ev.LLM_RESPONSE, "live", "claude-code", ts=ts, model="claude-sonnet-4-5", data={"message_id": "m1"},
        usage={"input": 100_000, "output": 0}))
    assert run_cli("statusline", "--refresh").returncode == 0
    with open(os.path.join(statusline._data_dir(), "statusline.json")) as f:
        cache = json.load(f)
    assert cache["today_usd"] == 0.3 and cache["day"] == time.strftime("%Y-%m-%d", time.localtime(now))
    assert cache["block"]["usd"] == 0.3 and cache["block"]["end"] > now
    assert cache["block"]["end"] - cache["block"]["start"] == 5 * 3600


def test_setup_statusline_merged_idempotent_and_undone(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    settings = home / ".claude" / "settings.json"
    theirs = {"type": "command", "command": "~/bin/my-line.sh"}
    settings.write_text(json.dumps({"model": "opus", "statusLine": theirs}))
    r = run_cli("setup", "--statusline")
    assert r.returncode == 0 and b"your status line was replaced" in r.stdout, r
    data = json.loads(settings.read_text())
    assert data["model"] == "opus" and "statusline" in data["statusLine"]["command"]
    assert data["statusLine"]["type"] == "command"
    assert b"already up to date" in run_cli("setup", "--statusline").stdout
    # the installed command really prints a line
    r = subprocess.run(data["statusLine"]["command"], shell=True, input=b"{}", capture_output=True)
    assert r.returncode == 0 and r.stdout.strip()
    assert run_cli("setup", "--statusline", "--uninstall").returncode == 0
    assert json.loads(settings.read_text()) == {"model": "opus", "statusLine": theirs}
    assert b"no agent-strace status line" in run_cli("setup", "--statusline", "--uninstall").stdout
    # a file setup created is removed again
    settings.unlink()
    assert run_cli("setup", "--statusline").returncode == 0 and settings.exists()
    assert run_cli("setup", "--statusline", "--uninstall").returncode == 0 and not settings.exists()
    assert run_cli("setup", "--statusline", "--cli", "codex").returncode == 2


def test_foreign_text_and_numbers_cannot_reshape_the_line(tmp_path):
    main = copy_transcripts(tmp_path)
    p = payload(main, model={"display_name": "Opus\x1b[31m\nsecond line\u202e"},
                context_window={"used_percentage": 1e308})
    line = statusline.render(p)
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert line.startswith("Opus[31msecond line | ") and line.endswith("ctx 999%")
    assert statusline.render(payload(main, context_window={"used_percentage": 1e999})).endswith("ctx 1%")


def test_the_cache_keeps_counts_and_fingerprints_only(tmp_path):
    main = copy_transcripts(tmp_path)
    statusline.render(payload(main))
    fig = statusline.SessionFigures(SESSION, str(main))
    cache = open(fig.path).read()
    assert str(main) not in cache and "msg_" not in cache and "claude-" not in cache and "service_tier" not in cache
    for f in fig.st["files"].values():
        assert all(type(n) is int for n in f[2])


def test_a_line_longer_than_a_read_is_skipped_and_the_rest_counted(tmp_path, monkeypatch):
    main = copy_transcripts(tmp_path)
    monkeypatch.setattr(statusline, "CHUNK", 4096)
    with open(main, "a") as f:
        f.write('{"type":"assistant","message":{"content":"' + "x" * 10000 + '"}}\n')
    first = statusline.render(payload(main))
    entry = {"type": "assistant", "message": {"id": "msg_after", "model": "claude-opus-5-5", "role": "assistant",
                                              "content": [], "usage": {"input_tokens": 1200, "output_tokens": 60,
                                                                       "cache_read_input_tokens": 300}}}
    with open(main, "a") as f:
        f.write(json.dumps(entry, separators=(",", ":")) + "\n")
    line = statusline.render(payload(main))
    assert f"session ${12 * PER_MESSAGE:.3f} 8 tools" in line, (first, line)
