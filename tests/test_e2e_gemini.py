"""A real Gemini CLI 0.61 (npm @google/gemini-cli), offline, with hooks
installed by ``agent-strace setup --cli gemini --trust``: calls paired
without call ids and counted once, one LLM turn per model call with cached
tokens, rules that do what they say."""

from __future__ import annotations

import os
import sys
from collections import Counter

import pytest

from agent_trace import event as ev
from agent_trace.analysis.summary import summarize
from agent_trace.capture import gemini_chat

from conftest import read_session, run_cli
from support.gemini_cli import VERSION, gemini_bin, prepare_home, run_gemini
from support.gemini_stub import GeminiStub

pytestmark = pytest.mark.e2e

PROMPT = "do the scripted task"
USAGE = {"input": 1100, "output": 60, "cache_read": 400}  # prompt 1500 of which 400 cached


@pytest.fixture
def gemini(tmp_path, trace_dir):
    gemini_bin()
    home, project = tmp_path / "home", tmp_path / "proj"
    project.mkdir()
    prepare_home(home)
    return project, home


def install(project, home, trust=True):
    r = run_cli("setup", "--cli", "gemini", "--project", str(project), *(["--trust"] if trust else []),
                env={"HOME": str(home)})
    assert r.returncode == 0, r.stderr
    return r.stdout.decode()


def test_real_gemini_session_is_captured_event_by_event(gemini, trace_dir):
    project, home = gemini
    out = install(project, home)
    assert "trusted the folder" in out
    scenario = {PROMPT: [
        [{"tool": "run_shell_command", "input": {"command": "echo hi > out.txt"}}],
        [{"tool": "write_file", "input": {"file_path": "notes.txt", "content": "héllo ✓\nline2\n"}}],
        [{"tool": "run_shell_command", "input": {"command": "cat nope.txt"}}],
        [{"tool": "read_file", "input": {"file_path": "notes.txt"}},
         {"tool": "read_file", "input": {"file_path": "out.txt"}}],
        [{"text": "All done: the scripted task is finished."}]]}
    with GeminiStub(scenario) as stub:
        r = run_gemini(project, home, stub.url, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    assert r.returncode == 0, r.stderr[-3000:]
    assert (project / "notes.txt").read_text() == "héllo ✓\nline2\n"
    events = read_session(trace_dir, r.session)
    by_name = Counter(e["name"] for e in events if e["source"] == "gemini" and e["type"] != ev.LLM_RESPONSE)
    assert by_name == {"SessionStart": 1, "UserPromptSubmit": 1, "PreToolUse": 5, "PostToolUse": 5, "Stop": 1,
                       "SessionEnd": 1}, by_name
    assert len({e["id"] for e in events}) == len(events)

    calls = [e for e in events if e["type"] == ev.TOOL_CALL]
    assert [c["tool"] for c in calls] == ["run_shell_command", "write_file", "run_shell_command", "read_file",
                                          "read_file"]
    assert calls[1]["data"]["tool_input"]["content"] == "héllo ✓\nline2\n"  # lossless
    ends = [e for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)]
    assert sorted(e["tool_use_id"] for e in ends) == sorted(c["tool_use_id"] for c in calls)  # each paired once
    by_id = {e["tool_use_id"]: e for e in ends}
    for c in calls:  # the result of each call is for that call's input (parallel reads included)
        assert by_id[c["tool_use_id"]]["data"]["tool_input"] == c["data"]["tool_input"]
    fail = by_id[calls[2]["tool_use_id"]]
    assert fail["type"] == ev.TOOL_ERROR and fail["error"]["exit_code"] == 1

    llm = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    assert len(llm) == stub.scripted_calls == 5  # one per model call, though streamed in chunks
    assert all(e["usage"] == USAGE and e["model"] == "gemini-2.5-flash" for e in llm)
    assert not [e for e in events if e["type"] == ev.COMPACT]  # nothing was compressed
    s = summarize(events)
    assert s.tool_calls == 5 and s.tool_errors == 1 and s.llm_calls == 5 and s.ended
    assert s.tokens["cache_read"] == 400 * 5

    # the chat-log parser on the real file: same calls, same ids
    chat = next(e for e in events if e["name"] == "SessionStart")["data"]["transcript_path"]
    log = gemini_chat.parse_log(chat, final=True)
    assert log.session == r.session and log.skipped == 0
    parsed = {(e["type"], e["id"]) for e in log.events if e["type"] in (ev.TOOL_CALL, ev.TOOL_RESULT,
                                                                        ev.TOOL_ERROR, ev.LLM_RESPONSE)}
    assert parsed == {(e["type"], e["id"]) for e in events if e["type"] in (ev.TOOL_CALL, ev.TOOL_RESULT,
                                                                            ev.TOOL_ERROR, ev.LLM_RESPONSE)}

    env = {"HOME": str(home), "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    r = run_cli("doctor", "--cli", "gemini", "--project", str(project), env=env)
    assert r.returncode == 0 and b"last recorded" in r.stdout, r.stdout


def rules(project, text):
    (project / ".agent-strace").mkdir(exist_ok=True)
    (project / ".agent-strace" / "rules.toml").write_text(text)


def test_rules_deny_limit_and_stop(gemini, trace_dir):
    project, home = gemini
    install(project, home)
    rules(project, '[[deny]]\npaths = ["secrets/**"]\n\n[limits]\ntool_calls = 3\naction = "deny"\n\n'
                   '[[deny]]\ncommands = ["touch forbidden*"]\naction = "stop"\n')
    scenario = {PROMPT: [
        [{"tool": "write_file", "input": {"file_path": "secrets/key.txt", "content": "k"}}],
        [{"tool": "run_shell_command", "input": {"command": "echo 1 > one.txt"}}],
        [{"tool": "run_shell_command", "input": {"command": "echo 2 > two.txt"}}],
        [{"tool": "run_shell_command", "input": {"command": "echo 3 > three.txt"}}],
        [{"text": "done"}]]}
    with GeminiStub(scenario) as stub:
        r = run_gemini(project, home, stub.url, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    events = read_session(trace_dir, r.session)
    ds = [e for e in events if e["type"] == ev.RULE_DECISION]
    # the denied write counts as a call: three calls, then the limit
    assert [(d["name"], d["status"]) for d in ds] == [("deny.paths", "denied"), ("limits.tool_calls", "denied")]
    assert not (project / "secrets").exists()
    assert {p.name for p in project.glob("*.txt")} == {"one.txt", "two.txt"}
    assert summarize(events).tool_calls == 4

    # stop: Gemini gets continue:false and stops the agent; the tool does not run
    rules(project, '[[deny]]\ncommands = ["touch forbidden*"]\naction = "stop"\n')
    scenario = {PROMPT: [[{"tool": "run_shell_command", "input": {"command": "touch forbidden; echo x > x.txt"}}],
                         [{"tool": "run_shell_command", "input": {"command": "echo y > y.txt"}}],
                         [{"text": "done"}]]}
    with GeminiStub(scenario) as stub:
        r = run_gemini(project, home, stub.url, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    events = read_session(trace_dir, r.session)
    (d,) = [e for e in events if e["type"] == ev.RULE_DECISION]
    assert d["status"] == "stopped" and not (project / "x.txt").exists() and not (project / "y.txt").exists()
    assert stub.scripted_calls == 1  # no model call after the stop
    assert not [e for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)]

    # a token budget from the usage in Gemini's chat log (1,560 tokens a call, cached included)
    rules(project, "[budget]\ntokens = 2000\n")
    scenario = {PROMPT: [[{"tool": "run_shell_command", "input": {"command": f"echo {i} > b{i}.txt"}}]
                         for i in (1, 2, 3)] + [[{"text": "done"}]]}
    with GeminiStub(scenario) as stub:
        r = run_gemini(project, home, stub.url, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    events = read_session(trace_dir, r.session)
    (d,) = [e for e in events if e["type"] == ev.RULE_DECISION]
    assert d["name"] == "budget.tokens" and d["status"] == "stopped" and "3,120" in d["data"]["reason"]
    assert {p.name for p in project.glob("b*.txt")} == {"b1.txt"}


def test_untrusted_folder_is_said_in_one_line(gemini, trace_dir):
    project, home = gemini
    out = install(project, home, trust=False)
    assert sum(line.startswith("note: Gemini CLI reads .gemini/settings.json") for line in out.splitlines()) == 1
    r = run_cli("doctor", "--cli", "gemini", "--project", str(project), env={"HOME": str(home)})
    assert r.returncode == 4 and b"is not trusted" in r.stdout
    with GeminiStub({PROMPT: [[{"text": "hi"}]]}) as stub:
        r = run_gemini(project, home, stub.url, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    assert r.returncode == 55  # what the note warned about
    r = run_cli("setup", "--cli", "gemini", "--project", str(project), "--uninstall", env={"HOME": str(home)})
    assert r.returncode == 0 and not (project / ".gemini").exists()


def test_gemini_version_is_the_one_verified():
    from support.npm import installed_version

    gemini_bin()
    assert installed_version("npm-gemini", "@google/gemini-cli") == VERSION
