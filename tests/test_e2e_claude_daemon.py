"""A real Claude Code 2.1 with HTTP hooks into the agent-strace daemon
(``setup --transport http``), offline against the scripted endpoint.

* every event recorded once, the daemon started on demand by SessionStart;
* the daemon SIGKILLed mid-session and restarted: the session is complete
  after the next sync point, nothing duplicated, the recovery recorded;
* a deny rule still blocks while the daemon is down (both enforcement modes);
* requests without the secret, or from a web page, refused.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

import pytest

from agent_trace import event as ev
from agent_trace.analysis.summary import summarize

from conftest import read_session, run_cli
from support.anthropic_stub import Stub
from support.claude_code import claude_bin, run_claude
from support.daemon import PrivateDaemon
from test_e2e_claude_hooks import ALLOWED, PROMPT, scenario

pytestmark = pytest.mark.e2e



@pytest.fixture
def world(tmp_path, monkeypatch):
    """A project, a home, a private daemon (not running), hooks installed."""
    claude_bin()
    project = tmp_path / "proj"
    project.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    daemon = PrivateDaemon(tmp_path, monkeypatch)
    w = type("World", (), {"project": project, "home": home, "daemon": daemon, "tmp": tmp_path})()
    yield w
    daemon.stop()


def install(w, *extra):
    r = run_cli("setup", "--transport", "http", "--project", str(w.project), *extra, env={"HOME": str(w.home)})
    assert r.returncode == 0, r.stderr


def claude(w, stub, prompt, allowed, trace_dir, extra_args=(), env=None):
    out = run_claude(w.project, w.home, stub.url, prompt, allowed, extra_args=list(extra_args),
                     env_extra={"AGENT_TRACE_DIR": str(trace_dir), **w.daemon.env, **(env or {})})
    assert out["_returncode"] == 0, out
    return out


def transcript_tool_ids(w, session: str) -> tuple[set, set]:
    """tool_use ids and tool_result ids in the session's transcripts (main and subagents)."""
    uses, results = set(), set()
    for f in (w.home / ".claude" / "projects").rglob("*.jsonl"):
        for line in f.read_text().splitlines():
            entry = json.loads(line)
            if entry.get("sessionId") != session:
                continue
            content = (entry.get("message") or {}).get("content")
            for b in content if isinstance(content, list) else []:
                if b.get("type") == "tool_use":
                    uses.add(b["id"])
                elif b.get("type") == "tool_result":
                    results.add(b["tool_use_id"])
    return uses, results


def assert_once_each(events):
    ids = Counter(e["id"] for e in events)
    assert not [i for i, n in ids.items() if n > 1], "duplicated ids"
    calls = Counter(e["tool_use_id"] for e in events if e["type"] == ev.TOOL_CALL)
    ends = Counter(e["tool_use_id"] for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR))
    assert all(n == 1 for n in calls.values()) and all(n == 1 for n in ends.values())
    return calls, ends


def test_http_hooks_record_every_event_once(world, trace_dir):
    w = world
    (w.project / ".mcp.json").write_text(json.dumps({"mcpServers": {"echo": {
        "command": sys.executable, "args": [str(__import__("conftest").REPO / "tests" / "support" /
                                                "mcp_echo_server.py")]}}}))
    install(w)
    assert not w.daemon.running()
    with Stub(scenario(w.project)) as stub:
        out = claude(w, stub, PROMPT, ALLOWED, trace_dir, ["--mcp-config", str(w.project / ".mcp.json")],
                     {"MCP_CONNECTION_NONBLOCKING": "0", "ENABLE_TOOL_SEARCH": "false"})
    assert w.daemon.running(), "the SessionStart hook did not start the daemon"
    w.daemon.sync()
    session = out["session_id"]
    events = read_session(trace_dir, session)
    assert (w.project / "notes.txt").read_text() == "edited line\n"

    calls, ends = assert_once_each(events)
    uses, results = transcript_tool_ids(w, session)
    assert set(calls) == uses and set(ends) == results  # nothing the agent did is missing
    main_calls = [e for e in events if e["type"] == ev.TOOL_CALL and "agent_id" not in e]
    assert [e["tool"] for e in main_calls] == ["Write", "Read", "Edit", "Bash", "mcp__echo__echo", "Agent"]
    bash = next(e for e in events if e["type"] == ev.TOOL_ERROR)
    assert bash["tool"] == "Bash" and "No such file or directory" in bash["error"]["message"]
    assert [e["type"] for e in events if e["type"] in (ev.SUBAGENT_START, ev.SUBAGENT_STOP)] == \
        [ev.SUBAGENT_START, ev.SUBAGENT_STOP]
    llm = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    assert len(llm) == len({e["data"]["message_id"] for e in llm}) >= 9
    s = summarize(events)
    assert s.ended and s.title == PROMPT and s.tool_errors == 1

    # every payload the daemon took in is in the store once; it took in all hook events
    st = json.loads(w.daemon.cli("status", "--json").stdout)
    delivered = [e for e in events if e["source"] == "claude-code" and e.get("name") != "transcript"
                 and e["type"] != ev.SESSION_START]
    assert st["received"] == len(delivered) and st["not_recorded"] == 0
    assert not [e for e in events if e.get("name") == "recovery"]  # nothing had to be recovered

    # the daemon Claude Code started refuses what a stranger or a web page sends
    p = {"session_id": session, "hook_event_name": "Notification", "message": "forged"}
    assert w.daemon.post("/agent-strace/hook/claude", p, secret=False)[0] == 401
    assert w.daemon.post("/agent-strace/hook/claude", p, headers={"Origin": "https://evil.example"})[0] == 403
    assert len(read_session(trace_dir, session)) == len(events)


class KillingStub(Stub):
    """Runs ``actions[n]`` just before serving step ``n`` of the main prompt."""

    def __init__(self, steps, actions):
        super().__init__(steps)
        self.actions = actions

    def respond(self, body):
        messages = body.get("messages") or []
        from support.anthropic_stub import _first_user_text

        if PROMPT_KILL in _first_user_text(messages):
            n = sum(1 for m in messages if m.get("role") == "assistant")
            action = self.actions.pop(n, None)
            if action:
                action()
        return super().respond(body)


PROMPT_KILL = "survive the daemon"


def test_daemon_killed_mid_session_is_complete_after_the_next_sync_point(world, trace_dir):
    w = world
    install(w)
    notes = str(w.project / "notes.txt")
    # Both SessionStart hooks start the daemon on demand: the one that loses waits
    # up to 0.2 s for the lock and takes over if the first dies meanwhile. Kill
    # whichever daemon daemon.json names until none is left (0.5 s).
    pid_of = f"grep -o '\"pid\":[0-9]*' {w.daemon.dir}/daemon.json 2>/dev/null | cut -d: -f2"
    kill_daemon = f"for i in 1 2 3 4 5; do kill -9 $({pid_of}) 2>/dev/null; sleep 0.1; done; true"
    steps = {PROMPT_KILL: [
        [{"tool": "Write", "input": {"file_path": notes, "content": "one\n"}}],
        [{"tool": "Bash", "input": {"command": kill_daemon, "description": "the daemon dies during this call"}}],
        [{"tool": "Read", "input": {"file_path": notes}}],
        [{"tool": "Edit", "input": {"file_path": notes, "old_string": "one", "new_string": "two"}}],
        [{"text": "Done."}],
    ]}
    # the Bash call SIGKILLs the daemon: its PostToolUse is lost; the Read is
    # refused (PreToolUse cannot be asked); the daemon is back for the Edit
    actions = {3: w.daemon.start}
    with KillingStub(steps, actions) as stub:
        out = claude(w, stub, PROMPT_KILL, "Write,Bash,Read,Edit", trace_dir)
    assert not actions, f"steps not reached: {sorted(actions)}"
    w.daemon.sync()
    session = out["session_id"]
    events = read_session(trace_dir, session)
    calls, ends = assert_once_each(events)
    uses, results = transcript_tool_ids(w, session)
    assert set(calls) == uses and set(ends) == results
    notes_text = (w.project / "notes.txt").read_text()
    assert notes_text == "two\n"
    read = next(e for e in events if e["type"] == ev.TOOL_ERROR and e.get("tool") == "Read")
    assert read["source"] == "claude-code"  # refused while the daemon was down: from the transcript
    (note,) = [e for e in events if e["type"] == ev.ANNOTATION and e.get("name") == "recovery"]
    assert note["data"]["recovered"] >= 2 and note["data"]["at"] in ("daemon start", "Stop", "SessionEnd")
    assert note["data"]["from"] and all(p.endswith(".jsonl") for p in note["data"]["from"])
    assert summarize(events).ended


@pytest.mark.parametrize("enforce", ["http", "command"])
def test_a_deny_rule_still_blocks_while_the_daemon_is_down(world, trace_dir, enforce):
    w = world
    (w.project / ".agent-strace").mkdir()
    (w.project / ".agent-strace" / "rules.toml").write_text(
        '[[deny]]\npaths = ["secrets/**"]\nreason = "secrets are off limits"\n')
    install(w, "--enforce", enforce)
    secret_file = w.project / "secrets" / "key.txt"
    notes = w.project / "notes.txt"
    notes.write_text("hello\n")
    steps = {PROMPT_KILL: [
        [{"tool": "Read", "input": {"file_path": str(notes)}}],
        [{"tool": "Write", "input": {"file_path": str(secret_file), "content": "leak\n"}}],
        [{"tool": "Read", "input": {"file_path": str(notes)}}],
        [{"text": "Done."}],
    ]}
    with KillingStub(steps, {1: w.daemon.kill}) as stub:
        out = claude(w, stub, PROMPT_KILL, "Read,Write", trace_dir)
    assert not secret_file.exists(), "a denied write went through while the daemon was down"
    results = [r for r in stub.requests if r["path"].endswith("/messages")
               and PROMPT_KILL in json.dumps(r["body"].get("messages", [])[:1])]
    last = results[-1]["body"]["messages"]
    tool_results = [b for m in last if isinstance(m.get("content"), list) for b in m["content"]
                    if b.get("type") == "tool_result"]
    assert len(tool_results) == 3
    write_result = json.dumps(tool_results[1])
    if enforce == "command":  # the rules themselves answered, and an allowed call still ran
        assert "secrets are off limits" in write_result
        assert "hello" in json.dumps(tool_results[2]) and not tool_results[2].get("is_error")
        decisions = [e for e in read_session(trace_dir, out["session_id"]) if e["type"] == ev.RULE_DECISION]
        assert [d["status"] for d in decisions] == [ev.DENIED]
    else:  # Claude Code refused the call because the daemon could not be asked
        assert tool_results[1].get("is_error") and "hook" in write_result.lower()
