"""A real Claude Code (offline, scripted endpoint) hits a deny rule and a
budget threshold; a webhook receiver standing in for Slack gets exactly one
alert for each, and the agent never waits for it: the receiver holds its
answer to the first alert until Claude Code has finished (the sender sends
one alert at a time, so the second arrives once the first is answered)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import pytest

from agent_trace import event as ev

from conftest import read_session, run_cli
from support.anthropic_stub import Stub
from support.claude_code import claude_bin, run_claude
from support.webhook import Receiver

pytestmark = pytest.mark.e2e

PROMPT = "scripted notify task"


def git(cwd, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


def test_deny_and_budget_alerts_from_a_real_claude_code(tmp_path, trace_dir):
    claude_bin()
    project = tmp_path / "proj"
    (project / "secrets").mkdir(parents=True)
    (project / "secrets" / "key.txt").write_text("original\n")
    assert run_cli("setup", "--project", str(project)).returncode == 0
    home = tmp_path / "home"
    home.mkdir()
    release = threading.Event()
    # each scripted response reports 1,000 input + 50 output + 200/100 cache tokens (1,350)
    steps = [[{"tool": "Write", "input": {"file_path": str(project / "secrets" / "key.txt"), "content": "x\n"}}]]
    steps += [[{"tool": "Bash", "input": {"command": f"echo b{i} >> log.txt", "description": "s"}}] for i in range(3)]
    steps += [[{"text": "Done."}]]
    with Receiver(hold=release) as hook:
        (project / ".agent-strace").mkdir()
        (project / ".agent-strace" / "rules.toml").write_text(f"""
[budget]
tokens = 8000
[[deny]]
paths = ["secrets/**"]
reason = "secrets are off limits"
[[notify]]
url = "{hook.url}"
format = "slack"
on = ["denied", "budget"]
budget = [50]
""")
        git(project, "init", "-q", "-b", "agent-run")
        git(project, "add", ".")
        git(project, "commit", "-qm", "before the agent")
        base = git(project, "rev-parse", "HEAD")
        try:
            with Stub({PROMPT: steps}) as stub:
                out = run_claude(project, home, stub.url, PROMPT, "Write,Bash",
                                 env_extra={"AGENT_TRACE_DIR": str(trace_dir)})
            finished = time.time()
            arrived = [p["at"] for p in hook.posts]
        finally:
            release.set()
        posts = hook.wait_for(2, timeout=20)
        time.sleep(1.0)
    assert out["_returncode"] == 0, out
    assert (project / "secrets" / "key.txt").read_text() == "original\n"
    assert (project / "log.txt").read_text().split() == ["b0", "b1", "b2"]
    # the deny alert arrived while the agent worked and was not answered before it finished
    assert len(arrived) == 1 and arrived[0] < finished and posts[0]["answered_at"] >= finished
    assert "denied" in posts[0]["body"]["text"]
    assert len(hook.posts) == 2
    texts = sorted(p["body"]["text"] for p in hook.posts)
    session = out["session_id"]
    assert texts[0] == "agent-strace: Session " + session[:8] + " in proj passed 50% of its budget: " + \
        texts[0].split("budget: ", 1)[1]
    assert texts[1] == "agent-strace: Tool call denied in proj: Write (rule deny.paths)"
    budget_post = next(p for p in hook.posts if "budget" in p["body"]["text"])
    spent = int(budget_post["body"]["text"].split("budget: ")[1].split(" tokens")[0].replace(",", ""))
    assert 4000 <= spent < 8000
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in budget_post["body"]["blocks"][1]["fields"]}
    assert fields["*Session*"] == session
    events = read_session(trace_dir, session)
    decision = next(e for e in events if e["type"] == ev.RULE_DECISION)
    assert decision["status"] == "denied" and decision["tool"] == "Write"
    status = json.loads(run_cli("notify", "status", "--json").stdout)
    assert sum(s["alerts"] for s in status) == 2
    # the session is linked to git: start and end recorded, the Bash-made file is in the diff and
    # not among the edit tools' files (the one Write was denied: it changed nothing)
    notes = [e["data"] for e in events if e["type"] == ev.ANNOTATION and e.get("name") == "git"]
    assert [n["phase"] for n in notes] == ["start", "end"] and notes[0]["head"] == base
    assert notes[1]["diff"] == ["log.txt"] and notes[1]["dirty"] is True and notes[1]["branch"] == "agent-run"
    row = next(r for r in json.loads(run_cli("list", "--json", "--branch", "agent-run").stdout)
               if r["session"] == session)
    assert row["files_changed"] == [] and row["git"]["start"] == base
