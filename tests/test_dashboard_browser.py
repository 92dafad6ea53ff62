"""The web dashboard and ``share`` pages in a real headless Chromium."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import run_cli
from support.browser import finish, run_script, start_script
from support.processes import Background, free_port, wait_port

from agent_trace import event as ev
from agent_trace.store.sink import FileSink
from agent_trace.store.paths import Store


def _demo_session(tmp_path) -> tuple[str, str]:
    proj = tmp_path / "proj"
    r = run_cli("demo", "--dir", str(proj))
    assert r.returncode == 0, r.stderr
    store = proj / ".agent-traces"
    session = next((store / "sessions").iterdir()).name[: -len(".jsonl")]
    return str(store), session


def _tool(sink, session, name, tid, ok=True, **data):
    sink.emit(ev.make_event(ev.TOOL_CALL, session, "claude-code", tool=name, tool_use_id=tid,
                            data={"tool_input": data}))
    sink.emit(ev.make_event(ev.TOOL_RESULT if ok else ev.TOOL_ERROR, session, "claude-code", tool=name,
                            tool_use_id=tid, duration_ms=5, status="ok" if ok else "error",
                            data={"tool_response": {"stdout": "fine"}}))


def test_dashboard_list_session_and_live_update(tmp_path):
    root, session = _demo_session(tmp_path)
    store = Store(root)
    live = "live-session-0001"
    sink = FileSink(store)
    sink.emit(ev.make_event(ev.ANNOTATION, session, "agent-strace", name="git", data={
        "phase": "end", "branch": "feature/login", "head": "9f8e7d6" + "0" * 33, "base": "1a2b3c4" + "0" * 33,
        "commits": ["9f8e7d6" + "0" * 33], "dirty": True, "project": "acme/widgets"}))
    sink.emit(ev.make_event(ev.SESSION_START, live, "claude-code", data={"cwd": str(tmp_path)}))
    _tool(sink, live, "Read", "t1", file_path=str(tmp_path / "a.txt"))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with Background([sys.executable, "-m", "agent_trace", "--trace-dir", root, "ui", "--port", str(port)]) as srv:
        wait_port(port, proc=srv.proc)
        proc = start_script("dashboard.cjs", base, session, live)
        ready = proc.stdout.readline()
        if not ready.startswith("{"):
            finish(proc)  # raises with the script's output
        assert json.loads(ready) == {"ready": True}
        time.sleep(0.3)
        _tool(sink, live, "LiveTool", "t2", command="echo live")
        sink.emit(ev.make_event(ev.TOOL_CALL, live, "claude-code", tool="Write", tool_use_id="t3",
                                data={"tool_input": {"file_path": str(tmp_path / "secrets" / "key.pem")}}))
        sink.emit(ev.make_event(ev.RULE_DECISION, live, "agent-strace", name="no-secrets", status="denied",
                                tool_use_id="t3", data={"reason": "path matches secrets/**"}))
        result = finish(proc)

    assert result["list_rows"] == 2
    assert "do the scripted task" in result["row_text"] and "claude-code" in result["row_text"]
    assert "feature/login@9f8e7d6*" in result["row_text"]
    assert result["git_line"] == ("branch feature/login · 1a2b3c4..9f8e7d6 · 1 commit(s): 9f8e7d6 · dirty · "
                                  "acme/widgets")
    assert result["filtered_ended"] == 1
    tools = " ".join(result["tool_rows"])
    for name in ("Write(notes.txt)", "Read(notes.txt)", "Edit(notes.txt)", "Bash(", "Grep(", "Agent("):
        assert name in tools, (name, tools)
    assert result["error_rows"] == 3  # the demo's three failed tools are highlighted
    assert result["visible_when_errors"] == 3
    assert "8" in result["cards"] and "$0.0842" in result["cards"]
    assert "ad3d745d" in result["tree"]
    assert result["chart_bars"] > 0
    assert "INPUT" in result["details"].upper() and "notes.txt" in result["details"]
    assert result["live_cards_before"] == "1" and result["live_cards_after"] in ("2", "3")
    assert result["live_after"] > result["live_before"]
    assert "key.pem) = DENIED by no-secrets (path matches secrets/**)" in result["decision_row"]
    assert result["foreign_requests"] == [] and result["page_errors"] == []
    print(f"live update shown {result['live_update_ms']} ms after the append")


def test_share_page_offline_redacted_and_capped(tmp_path):
    store = Store(str(tmp_path / "st"))
    store.ensure()
    session = "share-me"
    secret = "sk-ant-api03-" + "A" * 90
    huge = "x" * (30 * 1024 * 1024)
    lines = [
        ev.make_event(ev.SESSION_START, session, "claude-code", data={"cwd": "/w"}),
        ev.make_event(ev.USER_PROMPT, session, "claude-code", data={"prompt": f"use key {secret}"}),
        ev.make_event(ev.TOOL_CALL, session, "claude-code", tool="Write", tool_use_id="w1",
                      data={"tool_input": {"file_path": "/w/big.txt", "content": huge}}),
        ev.make_event(ev.TOOL_RESULT, session, "claude-code", tool="Write", tool_use_id="w1", status="ok",
                      duration_ms=12, data={"tool_response": {"ok": True}}),
        ev.make_event(ev.LLM_RESPONSE, session, "claude-code", model="claude-sonnet-4-5-20250929",
                      usage={"input": 100, "output": 10}),
    ]
    # written raw, as a store with redaction and caps turned off would hold them
    with open(store.path_for(session), "w") as f:
        for e in lines:
            f.write(json.dumps(e) + "\n")
    assert os.path.getsize(store.path_for(session)) > 30 * 1024 * 1024

    out = tmp_path / "share.html"
    r = run_cli("--trace-dir", store.root, "share", session, "-o", str(out))
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    assert len(page.encode()) < 1024 * 1024, len(page)
    assert secret not in page and "sk-ant-api03-AAAA" not in page
    assert "http://" not in page.split("<script>")[0] and "https://" not in page.split("<script>")[0]

    result = run_script("share.cjs", str(out))
    assert result["blocked_requests"] == [] and result["page_errors"] == []
    assert any("Write(big.txt)" in t for t in result["tool_rows"]), result["tool_rows"]
    assert "cut" in result["note"] and "redacted" in result["note"]
    assert "30,000,000" in result.get("details", "") or "31,457,280" in result.get("details", "")
    assert "claude-code" in result["cards"]


def test_ui_refuses_ingest_and_server_requires_token_beyond_loopback(tmp_path):
    r = run_cli("server", "--host", "0.0.0.0", "--port", "0", "--storage", str(tmp_path / "s"),
                env={**os.environ, "AGENT_STRACE_TOKEN": ""})
    assert r.returncode == 2 and b"needs a token" in r.stderr
    port = free_port()
    with Background([sys.executable, "-m", "agent_trace", "--trace-dir", str(tmp_path / "s"), "ui",
                     "--port", str(port)]) as srv:
        wait_port(port, proc=srv.proc)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/events", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        assert err.value.code == 404 and b"read-only" in err.value.read()
