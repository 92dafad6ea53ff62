"""Transcripts written by a real Claude Code (2.1.x, print mode, offline
against the scripted endpoint) import as whole sessions, with the ids its
hooks give the same happenings, and report the usage ccusage reports."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from agent_trace import event as ev
from agent_trace.analysis.summary import summarize

from conftest import read_session, run_cli
from support.anthropic_stub import Stub
from support.claude_code import claude_bin, run_claude
from support.npm import npm_install

pytestmark = pytest.mark.e2e

PROMPT = "do the history task"
SUB_PROMPT = "check the notes file"
ALLOWED = "Write,Read,Edit,Bash,Agent"
# what the real API sends: cache writes split by lifetime (the 1-hour ones cost more)
USAGE = {"input_tokens": 1000, "output_tokens": 50, "cache_read_input_tokens": 200,
         "cache_creation_input_tokens": 100,
         "cache_creation": {"ephemeral_5m_input_tokens": 40, "ephemeral_1h_input_tokens": 60}}


def scenario(project):
    notes = str(project / "notes.txt")
    return {
        PROMPT: [
            [{"text": "Writing notes."}, {"tool": "Write", "input": {"file_path": notes, "content": "first line\n"}}],
            [{"tool": "Read", "input": {"file_path": notes}}],
            [{"tool": "Edit", "input": {"file_path": notes, "old_string": "first line",
                                        "new_string": "edited line", "replace_all": False}}],
            [{"tool": "Bash", "input": {"command": "cat does-not-exist.txt", "description": "fail on purpose"}}],
            [{"tool": "Agent", "input": {"description": "helper", "prompt": SUB_PROMPT,
                                         "subagent_type": "general-purpose"}}],
            [{"text": "Finished the task."}],
        ],
        SUB_PROMPT: [
            [{"tool": "Read", "input": {"file_path": notes}}],
            [{"text": "Subagent report: notes read."}],
        ],
    }


def run_session(tmp_path, name: str, home, env_extra=None):
    project = tmp_path / name
    project.mkdir()
    with Stub(scenario(project), usage=USAGE) as stub:
        out = run_claude(project, home, stub.url, PROMPT, ALLOWED, env_extra=env_extra)
    assert out["_returncode"] == 0, out
    return project, out["session_id"]


def transcript_usage(home) -> tuple[int, dict]:
    """API messages and their usage summed straight from the transcripts
    (each message once, whatever number of entries Claude wrote for it)."""
    seen = {}
    for root, _dirs, files in os.walk(home / ".claude" / "projects"):
        for f in files:
            if f.endswith(".jsonl"):
                for line in open(os.path.join(root, f), encoding="utf-8"):
                    e = json.loads(line)
                    m = e.get("message")
                    if e.get("type") == "assistant" and isinstance(m, dict) and m.get("usage"):
                        seen[m["id"]] = m["usage"]
    total = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
    for u in seen.values():
        total["input"] += u.get("input_tokens", 0)
        total["output"] += u.get("output_tokens", 0)
        total["cache_read"] += u.get("cache_read_input_tokens", 0)
        total["cache_write"] += u.get("cache_creation_input_tokens", 0)
    return len(seen), total


def test_real_transcripts_import_as_whole_sessions(tmp_path, monkeypatch):
    claude_bin()
    home = tmp_path / "home"
    home.mkdir()
    project, session = run_session(tmp_path, "plain", home)  # no hooks: only Claude's own transcript
    monkeypatch.delenv("AGENT_TRACE_DIR")
    monkeypatch.setenv("HOME", str(home))
    r = run_cli("import", "--all", "--json")
    assert r.returncode == 0, r.stderr
    history = tmp_path / "xdg-data" / "agent-strace" / "history"
    events = read_session(history, session)
    calls = [e for e in events if e["type"] == ev.TOOL_CALL]
    main = [e for e in calls if not e.get("agent_id")]
    assert [e["tool"] for e in main] == ["Write", "Read", "Edit", "Bash", "Agent"]
    assert main[0]["data"]["tool_input"] == {"file_path": str(project / "notes.txt"), "content": "first line\n"}
    sub = [e for e in calls if e.get("agent_id")]
    assert [e["tool"] for e in sub] == ["Read"]
    ends = {e["tool_use_id"]: e for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)}
    assert set(ends) == {c["tool_use_id"] for c in calls}
    bash = ends[main[3]["tool_use_id"]]
    assert bash["type"] == ev.TOOL_ERROR and "No such file or directory" in bash["error"]["message"]
    assert ends[main[1]["tool_use_id"]]["data"]["tool_response"]["file"]["content"] == "first line\n"
    assert any(e["type"] == ev.SUBAGENT_START and e["agent_id"] == sub[0]["agent_id"] for e in events)
    prompts = [e for e in events if e["type"] == ev.USER_PROMPT]
    assert prompts[0]["data"]["prompt"] == PROMPT
    n_messages, tokens = transcript_usage(home)
    llm = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    assert len(llm) == n_messages >= 8
    s = summarize(events)
    assert s.tokens == tokens and (s.tool_calls, s.tool_errors) == (6, 1) and s.title == PROMPT
    assert [e["type"] for e in events].count(ev.SESSION_START) == 1
    # usage across history says the same; a second import adds nothing
    d = json.loads(run_cli("usage", "daily", "--json").stdout)
    assert {k: d["totals"][k] for k in tokens} == tokens
    again = json.loads(run_cli("import", "--all", "--json").stdout)
    assert again["events"] == 0
    hits = json.loads(run_cli("search", "does-not-exist", "--failed", "--json", "--no-import").stdout)
    assert hits["total"] == 1 and hits["hits"][0]["session"] == session
    # ccusage reads the same transcripts to the same tokens
    exe = npm_install("npm-ccusage", ["ccusage@20.0.24"]) / "ccusage"
    cc = subprocess.run([str(exe), "claude", "daily", "--json", "--offline"], capture_output=True, text=True,
                        env={**os.environ, "HOME": str(home)}, timeout=120)
    t = json.loads(cc.stdout)["totals"]
    assert (t["inputTokens"], t["outputTokens"], t["cacheReadTokens"], t["cacheCreationTokens"]) == \
        (tokens["input"], tokens["output"], tokens["cache_read"], tokens["cache_write"])
    assert t["totalCost"] > 0 and abs(d["totals"]["cost_usd"] - t["totalCost"]) <= 0.01 * t["totalCost"]


def test_import_after_real_hooks_repeats_nothing_and_shares_their_ids(tmp_path, monkeypatch):
    claude_bin()
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "hooked"
    project.mkdir()
    monkeypatch.delenv("AGENT_TRACE_DIR")
    monkeypatch.setenv("HOME", str(home))
    assert run_cli("setup", "--scope", "local", "--project", str(project)).returncode == 0
    with Stub(scenario(project)) as stub:
        out = run_claude(project, home, stub.url, PROMPT, ALLOWED,
                         env_extra={"XDG_DATA_HOME": str(tmp_path / "xdg-data")})
    assert out["_returncode"] == 0, out
    session = out["session_id"]
    store = project / ".agent-traces"
    recorded = read_session(store, session)
    hooks = {e["id"]: e["type"] for e in recorded if e.get("name") != "transcript"}
    assert sum(t == ev.TOOL_CALL for t in hooks.values()) == 6
    before = summarize(recorded)
    r = run_cli("import", "--all", "--json")
    assert r.returncode == 0, r.stderr
    raw = [json.loads(x) for x in open(store / "sessions" / f"{session}.jsonl", encoding="utf-8")]
    assert len(raw) == len({e["id"] for e in raw})  # nothing twice in the file
    after = summarize(read_session(store, session))
    assert (after.tool_calls, after.tool_errors, after.llm_calls, after.prompts) == \
        (before.tool_calls, before.tool_errors, before.llm_calls, before.prompts)
    # the same transcript imported on its own gives the hooks' events the same ids
    scratch = tmp_path / "scratch"
    transcript = next((home / ".claude" / "projects").rglob(f"{session}.jsonl"))
    assert run_cli("import", str(transcript), "--trace-dir", str(scratch)).returncode == 0
    imported = {e["id"]: e["type"] for e in read_session(scratch, session)}
    shared = {i: t for i, t in hooks.items() if t in (ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR,
                                                      ev.USER_PROMPT, ev.SUBAGENT_START)}
    assert len(shared) >= 14
    assert {i: imported.get(i) for i in shared} == shared
