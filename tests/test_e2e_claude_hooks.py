"""A real Claude Code session with hooks installed by ``agent-strace setup``.

Claude Code 2.1.x runs in print mode, offline, against the scripted endpoint;
the session it records is checked event by event.
"""

from __future__ import annotations

import json
import sys

import pytest

from agent_trace import event as ev
from agent_trace.analysis.summary import summarize

from conftest import REPO, read_session, run_cli
from support.anthropic_stub import Stub
from support.claude_code import claude_bin, run_claude

pytestmark = pytest.mark.e2e

PROMPT = "do the scripted task"
SUB_PROMPT = "look at notes"


def scenario(project):
    notes = str(project / "notes.txt")
    return {
        PROMPT: [
            [{"text": "Writing notes."}, {"tool": "Write", "input": {"file_path": notes, "content": "first line\n"}}],
            [{"tool": "Read", "input": {"file_path": notes}}],
            [{"tool": "Edit", "input": {"file_path": notes, "old_string": "first line",
                                        "new_string": "edited line", "replace_all": False}}],
            [{"tool": "Bash", "input": {"command": "cat does-not-exist.txt", "description": "fail on purpose"}}],
            [{"tool": "mcp__echo__echo", "input": {"text": "hello mcp"}}],
            [{"tool": "Agent", "input": {"description": "helper", "prompt": SUB_PROMPT,
                                         "subagent_type": "general-purpose"}}],
            [{"text": "Finished the task."}],
        ],
        SUB_PROMPT: [
            [{"tool": "Read", "input": {"file_path": notes}}],
            [{"text": "Subagent report: notes read."}],
        ],
    }


@pytest.fixture
def project(tmp_path):
    p = tmp_path / "proj"
    p.mkdir()
    (p / ".mcp.json").write_text(json.dumps({"mcpServers": {"echo": {
        "command": sys.executable, "args": [str(REPO / "tests" / "support" / "mcp_echo_server.py")]}}}))
    return p


ALLOWED = "Write,Read,Edit,Bash,Agent,mcp__echo__echo"


def test_real_claude_code_session_is_captured_event_by_event(project, tmp_path, trace_dir):
    claude_bin()
    home = tmp_path / "home"
    home.mkdir()
    r = run_cli("setup", "--scope", "project", "--project", str(project))
    assert r.returncode == 0, r.stderr
    with Stub(scenario(project)) as stub:
        out = run_claude(project, home, stub.url, PROMPT, ALLOWED,
                         extra_args=["--mcp-config", str(project / ".mcp.json")],
                         env_extra={"AGENT_TRACE_DIR": str(trace_dir), "MCP_CONNECTION_NONBLOCKING": "0",
                                    "ENABLE_TOOL_SEARCH": "false"})
    assert out["_returncode"] == 0, out
    session = out["session_id"]
    events = read_session(trace_dir, session)
    assert events, f"nothing recorded; claude stderr: {out['_stderr'][-1000:]}"
    assert all(e["session"] == session for e in events)
    assert (project / "notes.txt").read_text() == "edited line\n"

    main_calls = [e for e in events if e["type"] == ev.TOOL_CALL and "agent_id" not in e]
    assert [e["tool"] for e in main_calls] == ["Write", "Read", "Edit", "Bash", "mcp__echo__echo", "Agent"]
    assert main_calls[0]["data"]["tool_input"] == {"file_path": str(project / "notes.txt"),
                                                   "content": "first line\n"}

    ends = {e["tool_use_id"]: e for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)}
    by_tool = {c["tool"]: ends[c["tool_use_id"]] for c in main_calls}
    assert by_tool["Write"]["type"] == ev.TOOL_RESULT and by_tool["Write"]["status"] == "ok"
    read_resp = by_tool["Read"]["data"]["tool_response"]
    assert read_resp["file"]["content"] == "first line\n"  # structured, not a repr string
    assert by_tool["Edit"]["data"]["tool_input"]["new_string"] == "edited line"
    bash = by_tool["Bash"]
    assert bash["type"] == ev.TOOL_ERROR and "No such file or directory" in bash["error"]["message"]
    assert bash["error"]["is_interrupt"] is False and isinstance(bash["duration_ms"], (int, float))
    mcp = by_tool["mcp__echo__echo"]
    assert mcp["type"] == ev.TOOL_RESULT and "HELLO MCP" in json.dumps(mcp["data"]["tool_response"])

    # subagent: attributed by agent_id, with its own tool call and LLM turns
    starts = [e for e in events if e["type"] == ev.SUBAGENT_START]
    assert len(starts) == 1
    agent_id = starts[0]["agent_id"]
    sub_calls = [e for e in events if e["type"] == ev.TOOL_CALL and e.get("agent_id") == agent_id]
    assert [e["tool"] for e in sub_calls] == ["Read"]
    assert any(e["type"] == ev.SUBAGENT_STOP and e.get("agent_id") == agent_id for e in events)

    # LLM turns from the transcripts: model and real usage, once per response
    llm = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    assert len(llm) == len({e["data"]["message_id"] for e in llm}) >= 9
    for e in llm:
        assert e["usage"] == {"input": 1000, "output": 50, "cache_read": 200, "cache_write": 100}
        assert e["model"]
    assert any(e.get("agent_id") == agent_id for e in llm)
    assert any(e["data"]["stop_reason"] == "tool_use" for e in llm)

    s = summarize(events)
    assert s.ended and s.title == PROMPT and s.tool_errors == 1
    assert s.tokens["input"] == 1000 * len(llm)

    # the CLI readers see the same session
    listed = json.loads(run_cli("list", "--json").stdout)
    assert listed[0]["session"] == session and listed[0]["llm_calls"] == len(llm)
    exported = run_cli("export", session[:8], "--format", "jsonl").stdout.decode().splitlines()
    assert len(exported) == len(events)


def test_mcp_server_through_record_lands_in_the_hook_session(project, tmp_path, trace_dir):
    """Claude Code -> agent-strace record -> MCP server: the tool call is in the
    hook log and in the MCP log of the same session, counted once."""
    claude_bin()
    home = tmp_path / "home"
    home.mkdir()
    assert run_cli("setup", "--project", str(project)).returncode == 0
    r = run_cli("setup", "mcp", "--project", str(project))
    assert r.returncode == 0, r.stderr
    wrapped = json.loads((project / ".mcp.json").read_text())["mcpServers"]["echo"]
    assert "record" in wrapped["args"] and wrapped["args"][-1].endswith("mcp_echo_server.py")
    steps = {PROMPT: [[{"tool": "mcp__echo__echo", "input": {"text": "via proxy"}}], [{"text": "Done."}]]}
    with Stub(steps) as stub:
        out = run_claude(project, home, stub.url, PROMPT, "mcp__echo__echo",
                         extra_args=["--mcp-config", str(project / ".mcp.json")],
                         env_extra={"AGENT_TRACE_DIR": str(trace_dir), "MCP_CONNECTION_NONBLOCKING": "0",
                                    "ENABLE_TOOL_SEARCH": "false"})
    assert out["_returncode"] == 0, out
    events = read_session(trace_dir, out["session_id"])
    hook_calls = [e for e in events if e["type"] == ev.TOOL_CALL]
    assert [(e["source"], e["tool"]) for e in hook_calls] == [("claude-code", "mcp__echo__echo")]
    mcp = [e for e in events if e["type"] == ev.MCP_MESSAGE and e["source"] == "mcp-stdio"]
    call = next(e for e in mcp if e.get("method") == "tools/call" and e["name"] == "request")
    answer = next(e for e in mcp if e["name"] == "response" and e.get("parent") == call["id"])
    assert call["data"]["params"]["arguments"] == {"text": "via proxy"}
    assert answer["data"]["result"]["content"][0]["text"] == "VIA PROXY"
    result = next(e for e in events if e["type"] == ev.TOOL_RESULT)
    assert "VIA PROXY" in json.dumps(result["data"]["tool_response"])
    assert summarize(events).tool_calls == 1
    # undo restores the original server entry
    assert run_cli("setup", "mcp", "--uninstall", "--project", str(project)).returncode == 0
    restored = json.loads((project / ".mcp.json").read_text())["mcpServers"]["echo"]
    assert restored == {"command": sys.executable,
                        "args": [str(REPO / "tests" / "support" / "mcp_echo_server.py")]}


def test_run_puts_wire_calls_and_hook_events_in_one_session(project, tmp_path, trace_dir):
    """agent-strace run -- claude ...: the LLM proxy sits between Claude Code and
    the (scripted) API; hook events and wire captures land in Claude's session,
    each API response counted once although it is seen twice."""
    import subprocess

    from support.claude_code import claude_env

    exe = claude_bin()
    home = tmp_path / "home"
    home.mkdir()
    assert run_cli("setup", "--project", str(project)).returncode == 0
    steps = {PROMPT: [[{"tool": "Bash", "input": {"command": "echo wired", "description": "x"}}],
                      [{"text": "Done."}]]}
    with Stub(steps) as stub:
        env = claude_env(home, stub.url, {"AGENT_TRACE_DIR": str(trace_dir)})
        r = subprocess.run([sys.executable, "-m", "agent_trace", "run", "--", exe, "-p", PROMPT,
                            "--output-format", "json", "--allowedTools", "Bash"],
                           cwd=project, env=env, capture_output=True, timeout=180)
    assert r.returncode == 0, r.stderr
    session = json.loads(r.stdout)["session_id"]
    events = read_session(trace_dir, session)
    wire = [e for e in events if e["source"] == "llm-proxy"]
    hooks = [e for e in events if e["source"] == "claude-code" and e["type"] == ev.TOOL_CALL]
    assert hooks and [e["tool"] for e in hooks] == ["Bash"]
    requests = [e for e in wire if e["type"] == ev.LLM_REQUEST]
    responses = [e for e in wire if e["type"] == ev.LLM_RESPONSE]
    assert len(requests) >= 2 and len(responses) >= 2
    turn = [e for e in responses if e["data"].get("stop_reason") == "tool_use"]
    assert turn and turn[0]["data"]["message"]["content"][0]["input"] == {"command": "echo wired",
                                                                         "description": "x"}
    assert all(e["usage"]["input"] == 1000 for e in turn)
    # the same API response from the transcript import and from the wire has one id: the Stop-time
    # import finds the wire's copy of every response and writes none again
    llm = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    assert len(llm) == len({e["id"] for e in llm}) == len(responses)
    s = summarize(events)
    assert s.llm_calls == len({e["id"] for e in events if e["type"] == ev.LLM_RESPONSE})


def test_run_corpus_mode_with_follow_up_turns(project, tmp_path, trace_dir):
    import os
    import subprocess

    from support.claude_code import claude_env

    exe = claude_bin()
    home = tmp_path / "home"
    home.mkdir()
    tasks = tmp_path / "tasks.txt"
    tasks.write_text("# two tasks, two turns each\nfirst corpus task\n\nsecond corpus task\n")
    steps = {"first corpus task": [[{"text": "one"}], [{"text": "one more"}]],
             "second corpus task": [[{"text": "two"}], [{"text": "two more"}]]}
    with Stub(steps) as stub:
        env = claude_env(home, stub.url, {"AGENT_TRACE_DIR": str(trace_dir),
                                          "PATH": f"{os.path.dirname(exe)}:{os.environ['PATH']}"})
        r = subprocess.run([sys.executable, "-m", "agent_trace", "run", "--agent", "claude", "--tasks", str(tasks),
                            "--turns", "2"], cwd=project, env=env, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout[r.stdout.index(b"{"):])["tasks"]
    assert [t["turns"] for t in summary] == [2, 2] and all(t["exit_codes"] == [0, 0] for t in summary)
    assert summary[0]["session"] != summary[1]["session"]
    for n, t in enumerate(summary, 1):
        wire = [e for e in read_session(trace_dir, t["session"]) if e["type"] == ev.LLM_REQUEST]
        stamped = {(e["data"].get("task"), e["data"].get("turn")) for e in wire}
        assert {(n, 1), (n, 2)} <= stamped
