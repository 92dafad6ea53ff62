"""A real OpenCode 1.18 (npm opencode-ai), offline, with the plugin that
``agent-strace setup --cli opencode`` installs: the same event model as the
other agents, rules at tool.execute.before."""

from __future__ import annotations

import os
import sys
from collections import Counter

import pytest

from agent_trace import event as ev
from agent_trace.analysis.summary import summarize
from agent_trace.store import Store
from agent_trace.store.reader import iter_events

from conftest import run_cli
from support.chat_stub import ChatStub
from support.opencode_cli import VERSION, opencode_bin, prepare, run_opencode

pytestmark = pytest.mark.e2e

PROMPT = "do the scripted task"
SUB = "look at the notes"


@pytest.fixture
def opencode(tmp_path, trace_dir):
    opencode_bin()
    home, project = tmp_path / "home", tmp_path / "proj"
    project.mkdir()
    home.mkdir()
    r = run_cli("setup", "--cli", "opencode", "--project", str(project), env={"HOME": str(home)})
    assert r.returncode == 0, r.stderr
    return project, home


def only_session(trace_dir):
    files = list(Store(str(trace_dir)).session_files())
    assert len(files) == 1, [f.name for f in files]
    return list(iter_events(files[0].path))


def test_real_opencode_session_is_captured_event_by_event(opencode, trace_dir):
    project, home = opencode
    notes = str(project / "notes.txt")
    scenario = {
        SUB: [[{"tool": "read", "input": {"filePath": notes}}], [{"text": "Subagent report: notes read."}]],
        PROMPT: [[{"tool": "bash", "input": {"command": "echo hi > out.txt", "description": "write"}}],
                 [{"tool": "write", "input": {"filePath": notes, "content": "héllo ✓\n"}}],
                 [{"tool": "bash", "input": {"command": "cat nope.txt", "description": "fail"}}],
                 [{"tool": "task", "input": {"description": "helper", "prompt": SUB, "subagent_type": "general"}}],
                 [{"text": "Finished the task."}]]}
    with ChatStub(scenario) as stub:
        prepare(project, home, stub.url)
        r = run_opencode(project, home, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    assert r.returncode == 0, r.stderr[-3000:]
    assert (project / "notes.txt").read_text() == "héllo ✓\n"
    events = only_session(trace_dir)
    session = events[0]["session"]
    assert all(e["session"] == session and e["source"] == "opencode" for e in events)
    names = Counter(e["name"] for e in events)
    assert names["SessionStart"] == 1 and names["UserPromptSubmit"] >= 1 and names["SessionEnd"] == 1
    assert names["SubagentStart"] == 1 and names["SubagentStop"] == 1 and names["Stop"] >= 1
    assert len({e["id"] for e in events}) == len(events)

    calls = [e for e in events if e["type"] == ev.TOOL_CALL]
    main = [c for c in calls if not c.get("agent_id")]
    assert [c["tool"] for c in main] == ["bash", "write", "bash", "task"]
    assert main[1]["data"]["tool_input"]["content"] == "héllo ✓\n"
    ends = {e["tool_use_id"]: e for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)}
    assert set(ends) == {c["tool_use_id"] for c in calls}
    failing = ends[main[2]["tool_use_id"]]
    assert failing["type"] == ev.TOOL_ERROR and failing["error"]["exit_code"] == 1
    sub = next(e for e in events if e["type"] == ev.SUBAGENT_START)["agent_id"]
    assert [c["tool"] for c in calls if c.get("agent_id") == sub] == ["read"]

    llm = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    assert len(llm) == stub.scripted_calls  # once per model reply, though OpenCode reports it twice
    assert all(e["usage"] == {"input": 800, "output": 30, "cache_read": 100} and e["model"] == "stub-model"
               for e in llm)
    s = summarize(events)
    assert s.tool_calls == 5 and s.tool_errors == 1 and s.ended

    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    r = run_cli("doctor", "--cli", "opencode", "--project", str(project), env=env)
    assert r.returncode == 0 and b"plugin for 12 events" in r.stdout and b"last recorded" in r.stdout, r.stdout


def rules(project, text):
    (project / ".agent-strace").mkdir(exist_ok=True)
    (project / ".agent-strace" / "rules.toml").write_text(text)


@pytest.mark.parametrize("action", ["deny", "stop"])
def test_rules_block_at_tool_execute_before(opencode, trace_dir, action):
    project, home = opencode
    budget = '[budget]\ntokens = 1500\n' if action == "deny" else ""
    rules(project, f'[[deny]]\npaths = ["secrets/**"]\naction = "{action}"\n\n{budget}')
    scenario = {PROMPT: [[{"tool": "write", "input": {"filePath": str(project / "secrets" / "k.txt"),
                                                      "content": "k"}}],
                         [{"tool": "bash", "input": {"command": "echo 1 > a1.txt", "description": "x"}}],
                         [{"tool": "bash", "input": {"command": "echo 2 > a2.txt", "description": "x"}}],
                         [{"text": "done"}]]}
    with ChatStub(scenario) as stub:
        prepare(project, home, stub.url)
        run_opencode(project, home, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    events = only_session(trace_dir)
    ds = [e for e in events if e["type"] == ev.RULE_DECISION]
    assert not (project / "secrets").exists()
    blocked = [e for e in events
               if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR) and e["tool_use_id"] == ds[0]["tool_use_id"]]
    assert all(e["type"] == ev.TOOL_ERROR for e in blocked)  # OpenCode reports the blocked call as failed
    if action == "deny":
        # the agent went on; then the budget (930 tokens a reply, reported when the reply is
        # finished) stops the call of the third reply, having seen the first two
        assert [(d["name"], d["status"]) for d in ds] == [("deny.paths", "denied"), ("budget.tokens", "stopped")]
        assert (project / "a1.txt").exists() and not (project / "a2.txt").exists()
        assert "1,860" in ds[1]["data"]["reason"]
    else:
        assert [d["status"] for d in ds] == ["stopped"]  # the session was aborted: nothing after it
        assert not (project / "a1.txt").exists() and stub.scripted_calls == 1


def test_uninstall_removes_the_plugin(opencode):
    project, home = opencode
    r = run_cli("setup", "--cli", "opencode", "--project", str(project), "--uninstall", env={"HOME": str(home)})
    assert r.returncode == 0 and not (project / ".opencode").exists()


def test_opencode_version_is_the_one_verified():
    from support.npm import installed_version

    opencode_bin()
    assert installed_version("npm-opencode", "opencode-ai") == VERSION
