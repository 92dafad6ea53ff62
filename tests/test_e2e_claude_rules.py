"""Rules that really stop a real Claude Code (offline, scripted endpoint)."""

from __future__ import annotations

import json
import sys

import pytest

from agent_trace import event as ev

from conftest import read_session, run_cli
from support.anthropic_stub import Stub
from support.claude_code import claude_bin, run_claude

pytestmark = pytest.mark.e2e

PROMPT = "scripted rules task"


@pytest.fixture
def project(tmp_path):
    p = tmp_path / "proj"
    (p / "secrets").mkdir(parents=True)
    (p / "secrets" / "key.txt").write_text("original secret\n")
    assert run_cli("setup", "--project", str(p)).returncode == 0
    return p


def rules(project, text):
    (project / ".agent-strace").mkdir(exist_ok=True)
    (project / ".agent-strace" / "rules.toml").write_text(text)


def go(project, tmp_path, trace_dir, steps, allowed="Write,Read,Edit,Bash"):
    claude_bin()
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    with Stub({PROMPT: steps}) as stub:
        out = run_claude(project, home, stub.url, PROMPT, allowed, env_extra={"AGENT_TRACE_DIR": str(trace_dir)})
    return out, stub.requests, read_session(trace_dir, out["session_id"])


def tool_results_sent_to_model(requests) -> list[str]:
    """Each tool result the model saw, once (every request repeats the history)."""
    seen = {}
    for r in requests:
        for m in r["body"].get("messages", []):
            if m["role"] == "user" and isinstance(m["content"], list):
                for b in m["content"]:
                    if b.get("type") == "tool_result":
                        seen[b.get("tool_use_id")] = json.dumps(b.get("content"))
    return list(seen.values())


def test_deny_rule_leaves_the_file_untouched_and_tells_the_agent(project, tmp_path, trace_dir):
    rules(project, '[[deny]]\npaths = ["secrets/**", ".env"]\nreason = "secrets are off limits"\n')
    key = str(project / "secrets" / "key.txt")
    out, requests, events = go(project, tmp_path, trace_dir, [
        [{"tool": "Write", "input": {"file_path": key, "content": "stolen\n"}}],
        [{"tool": "Bash", "input": {"command": "echo pwned > secrets/key.txt", "description": "sneak"}}],
        [{"text": "Gave up."}]])
    assert out["_returncode"] == 0, out
    assert (project / "secrets" / "key.txt").read_text() == "original secret\n"
    decisions = [e for e in events if e["type"] == ev.RULE_DECISION]
    assert [(d["status"], d["tool"]) for d in decisions] == [("denied", "Write"), ("denied", "Bash")]
    told = tool_results_sent_to_model(requests)
    assert sum("secrets are off limits" in t for t in told) == 2
    replay = run_cli("replay", out["session_id"]).stdout.decode()
    assert "= DENIED by deny.paths (secrets are off limits)" in replay


def test_tool_call_cap_stops_the_session(project, tmp_path, trace_dir):
    rules(project, "[limits]\ntool_calls = 2\n")
    steps = [[{"tool": "Bash", "input": {"command": f"echo step{i} >> log.txt", "description": "s"}}]
             for i in range(6)] + [[{"text": "Done."}]]
    out, requests, events = go(project, tmp_path, trace_dir, steps)
    log = (project / "log.txt").read_text().split()
    assert log == ["step0", "step1"]  # the third call never ran, nor anything after it
    d = [e for e in events if e["type"] == ev.RULE_DECISION]
    assert d and d[0]["status"] == "stopped" and d[0]["name"] == "limits.tool_calls"
    pm = [e for e in events if e["type"] == ev.POSTMORTEM]
    assert pm and pm[0]["data"]["totals"]["tool_calls"] == 3
    text = run_cli("postmortem", out["session_id"]).stdout.decode()
    assert "STOP by rule limits.tool_calls" in text and "last events:" in text


def test_budget_rule_fires_from_real_token_usage(project, tmp_path, trace_dir):
    # each scripted response reports 1,000 input + 50 output + 200/100 cache tokens
    rules(project, "[budget]\ntokens = 3000\n")
    steps = [[{"tool": "Bash", "input": {"command": f"echo b{i} >> budget.txt", "description": "s"}}]
             for i in range(8)] + [[{"text": "Done."}]]
    out, requests, events = go(project, tmp_path, trace_dir, steps)
    ran = (project / "budget.txt").read_text().split()
    assert 1 <= len(ran) < 8
    d = next(e for e in events if e["type"] == ev.RULE_DECISION)
    assert d["name"] == "budget.tokens" and d["status"] == "stopped"
    llm_before = [e for e in events if e["type"] == ev.LLM_RESPONSE and e["ts"] <= d["ts"]]
    assert sum(sum(e["usage"].values()) for e in llm_before) >= 3000  # real usage, from the transcript


def test_broken_rules_file_denies_with_the_reason(project, tmp_path, trace_dir):
    rules(project, "[limits]\ntool_calls = -1\n")
    out, requests, events = go(project, tmp_path, trace_dir, [
        [{"tool": "Bash", "input": {"command": "echo x > x.txt", "description": "s"}}], [{"text": "ok"}]])
    assert not (project / "x.txt").exists()
    told = tool_results_sent_to_model(requests)
    assert any("rules file is broken" in t and "tool_calls must be a positive finite number" in t for t in told)


def test_watch_timeout_kills_a_real_claude_code(project, tmp_path, trace_dir):
    import os
    import subprocess
    import time

    from support.claude_code import claude_env

    exe = claude_bin()
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    with Stub({PROMPT: [[{"text": "thinking for a long time"}]]}, delay=180) as stub:
        env = claude_env(home, stub.url, {"AGENT_TRACE_DIR": str(trace_dir)})
        t0 = time.monotonic()
        # 15 s: long enough for Claude Code to start and record its session on a
        # loaded machine; the model answers only after 180 s, so only the kill ends it
        r = subprocess.run([sys.executable, "-m", "agent_trace", "watch", "--quiet", "--timeout", "15s", "--",
                            exe, "-p", PROMPT, "--output-format", "json", "--allowedTools", "Bash"],
                           cwd=project, env=env, capture_output=True, timeout=170)
        elapsed = time.monotonic() - t0
    assert r.returncode == 4, r.stderr
    assert 15.0 <= elapsed < 170, elapsed  # ended by the limit, long before the model would answer
    assert b"time limit of 15s reached" in r.stderr
    leftovers = subprocess.run(["pgrep", "-f", f"{exe} -p {PROMPT}"], capture_output=True)
    assert leftovers.stdout.strip() == b"", "claude still running"
    session = json.loads(run_cli("list", "--json").stdout)[0]["session"]
    events = read_session(trace_dir, session)
    assert any(e["type"] == ev.RULE_DECISION and e["status"] == "killed" for e in events)
    assert os.path.exists(project)
