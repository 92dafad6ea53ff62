"""The rules file, glob matching and the decision formats."""

import json
import subprocess
import sys
import time

import pytest

from agent_trace.control.answer import hook_output
from agent_trace.control.engine import Decision, _shell_targets
from agent_trace.control.globs import match_path, match_text
from agent_trace.control.policy import PolicyError, validate

from conftest import run_cli

ISSUE_EXAMPLE = '''# .agent-strace/rules.toml
[budget]
usd = 5.0                  # stop the session past $5 of real usage
[limits]
tool_calls = 200
duration = "30m"
[[deny]]
paths = ["secrets/**", ".env"]   # writes and edits
reason = "secrets are off limits"
[[deny]]
commands = ["rm -rf /*", "git push --force*"]
'''


def test_the_example_from_the_issue_works_as_written(tmp_path):
    (tmp_path / ".agent-strace").mkdir()
    (tmp_path / ".agent-strace" / "rules.toml").write_text(ISSUE_EXAMPLE)
    r = run_cli("rules", "check", cwd=tmp_path)
    assert r.returncode == 0 and b"ok, 4 rules" in r.stdout
    pol = json.loads(run_cli("rules", "check", "--json", cwd=tmp_path).stdout)
    assert pol["budget"]["usd"] == 5.0 and pol["limits"]["duration_s"] == 1800
    assert pol["deny"][0]["reason"] == "secrets are off limits" and pol["deny"][1]["commands"][1] == "git push --force*"


@pytest.mark.parametrize("raw,msg", [
    ({"budgte": {}}, "unknown key 'budgte'"),
    ({"budget": {}}, "[budget]: give usd and/or tokens"),
    ({"budget": {"usd": -1}}, "usd must be a positive finite number"),
    ({"limits": {"duration": "soon"}}, "bad duration"),
    ({"deny": [{"reason": "x"}]}, "[[deny]] #1: needs paths, commands, tools or mcp"),
    ({"deny": [{"paths": ["a"], "action": "explode"}]}, "action must be one of warn, deny, stop, kill, pause"),
    ({"deny": [{"paths": "a", "scope": "both"}]}, "scope must be one of write, read, any"),
    ({"allow": [{"commands": ["ls"]}]}, "allow takes paths or tools"),
])
def test_precise_errors(raw, msg):
    with pytest.raises(PolicyError, match=None) as e:
        validate(raw, "r.toml")
    assert msg in str(e.value)


def test_globs():
    assert match_path("secrets/**", "secrets/a/b.txt") and match_path("secrets/**", "secrets/x")
    assert not match_path("secrets/**", "src/secrets.py")
    assert match_path(".env", ".env") and match_path(".env", "config/.env") and not match_path(".env", ".envrc")
    assert match_path("**/*.pem", "a/b/key.pem") and match_path("src/*.py", "src/a.py")
    assert not match_path("src/*.py", "src/sub/a.py")
    assert match_text("git push --force*", "git push --force origin main")
    assert match_text("rm -rf /*", "rm -rf /") and not match_text("rm -rf /*", "rm -rf ./build")
    assert _shell_targets("echo x > .env && cat a | tee -a log.txt out.txt") == [".env", "log.txt", "out.txt"]
    assert _shell_targets("make 2>/dev/null") == []


def test_decision_formats_per_agent():
    d = Decision("deny", "deny.paths", "secrets are off limits")
    claude = hook_output(d, "claude-code")
    assert claude["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "secrets are off limits" in claude["hookSpecificOutput"]["permissionDecisionReason"]
    assert "continue" not in claude
    stop = hook_output(Decision("stop", "budget.usd", "over budget"), "claude-code")
    assert stop["continue"] is False and "over budget" in stop["stopReason"]
    # Codex rejects continue/stopReason in PreToolUse: a valid deny, the stop is an interrupt
    cx = hook_output(Decision("stop", "budget.usd", "over budget"), "codex")
    assert cx["hookSpecificOutput"]["permissionDecision"] == "deny" and set(cx) == {"hookSpecificOutput"}
    gem = hook_output(d, "gemini")
    assert gem["decision"] == "deny" and "secrets" in gem["reason"]
    assert "systemMessage" in hook_output(Decision("warn", "loop", "looping"), "claude-code")


def test_gemini_before_tool_is_enforced(tmp_path, trace_dir):
    (tmp_path / ".agent-strace").mkdir()
    (tmp_path / ".agent-strace" / "rules.toml").write_text('[[deny]]\ncommands = ["rm -rf *"]\n')
    payload = {"session_id": "g1", "hook_event_name": "BeforeTool", "cwd": str(tmp_path),
               "tool_name": "run_shell_command", "tool_input": {"command": "rm -rf build"}}
    r = run_cli("hook", "--cli", "gemini", input=json.dumps(payload).encode())
    assert json.loads(r.stdout)["decision"] == "deny"


def test_watch_attaches_to_a_running_process_by_pid(trace_dir):
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    t0 = time.monotonic()
    r = run_cli("watch", "--quiet", "--timeout", "1s", "--pid", str(p.pid))
    assert r.returncode == 4 and time.monotonic() - t0 < 30  # the child sleeps 60 s: only the limit ends it
    assert p.wait(5) == -15 and b"agent stopped by SIGTERM" in r.stderr
