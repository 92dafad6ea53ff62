"""The Claude Agent SDK (pinned in tests/frameworks/requirements.txt) driving
the real Claude Code CLI (npm, 2.1.x) offline: our in-process hooks record
what the CLI hooks record, our rules answer its PreToolUse (a denied command
does not run), model calls count once (transcript import and LLM proxy share
ids), and the run replays from a cassette with the scripted API gone.  Three
Claude Code runs in one test: the CLI is slow to start."""

from __future__ import annotations

import json
from collections import Counter
import subprocess
import sys

import pytest
from conftest import run_cli
from support.anthropic_stub import Stub
from support.claude_code import claude_bin, claude_env, run_claude
from support.frameworks import run_app
from support.processes import Background, free_port, wait_port

from agent_trace import event as ev
from agent_trace.analysis.summary import summarize
from agent_trace.capture.llm_wire import LlmObserver
from agent_trace.capture.log_import import import_session
from agent_trace.integrations.claude_sdk_hooks import EVENTS
from agent_trace.proxy.http_forward import ReverseProxy
from agent_trace.store import Store
from agent_trace.store.reader import iter_events
from agent_trace.store.sink import FileSink

pytestmark = pytest.mark.e2e

PROMPT = "do the sdk task"
SUB = "check the notes"
RULES = '[[deny]]\ncommands = ["rm -rf *"]\nreason = "no deleting here"\n'


def scenario(project):
    notes = str(project / "notes.txt")
    return {PROMPT: [[{"tool": "Write", "input": {"file_path": notes, "content": "hello\n"}}],
                     [{"tool": "Bash", "input": {"command": "cat missing.txt", "description": "fails"}}],
                     [{"tool": "Agent", "input": {"description": "helper", "prompt": SUB,
                                                  "subagent_type": "general-purpose"}}],
                     [{"tool": "Bash", "input": {"command": "rm -rf build", "description": "clean"}}],
                     [{"text": "All done."}]],
            SUB: [[{"tool": "Read", "input": {"file_path": notes}}], [{"text": "Notes say hello."}]]}


def make_project(root):
    root.mkdir()
    (root / "build").mkdir()
    (root / "build" / "keep.txt").write_text("precious\n")
    (root / ".agent-strace").mkdir()
    (root / ".agent-strace" / "rules.toml").write_text(RULES)
    return root


def events_of(trace_dir, session):
    return list(iter_events(Store(str(trace_dir)).path_for(session)))


def sdk_run(project, home, base_url, trace_dir):
    env = claude_env(home, base_url, {"AGENT_TRACE_DIR": str(trace_dir)})
    return run_app("claude_sdk_app", "--cli", claude_bin(), "--cwd", str(project), "--prompt", PROMPT, "--trace",
                   env=env)


def hook_story(events) -> list[tuple]:
    """What the hooks the SDK can register recorded, comparable across runs
    (ids, times and the background subagent's interleaving aside)."""
    out = []
    for e in events:
        if e["source"] != "claude-code" or e.get("name") not in EVENTS:
            continue
        data = e.get("data") if isinstance(e.get("data"), dict) else {}
        inp = data.get("tool_input") or {}
        if isinstance(inp, dict):
            inp = {k: v for k, v in inp.items() if k != "description"}
        out.append((e["type"], e.get("name"), e.get("tool"), json.dumps(inp, sort_keys=True),
                    bool(e.get("agent_id")), e.get("status") or ""))
    return sorted(out)


def test_claude_agent_sdk_hooks_record_enforce_count_once_and_replay(tmp_path):
    claude_bin()
    home = tmp_path / "home"
    home.mkdir()
    p1, p2, p3 = (make_project(tmp_path / n) for n in ("p1", "p2", "p3"))
    t1, t2, t3 = tmp_path / "t1", tmp_path / "t2", tmp_path / "t3"

    # 1. the SDK with our hooks, through the LLM proxy (which records the HTTP side)
    with Stub(scenario(p1)) as stub:
        obs = LlmObserver(FileSink(Store(str(t1))), "wire", None, stub.url)
        with ReverseProxy(stub.url, obs, prefix_base=True) as px:
            out = sdk_run(p1, home, px.url, t1)
        served = [r for r in stub.requests if r["path"].endswith("/messages")]
    assert "error" not in out, out
    assert sorted(out["tools"]) == ["Agent", "Bash", "Bash", "Read", "Write"] and not out["is_error"]
    session = out["session_id"]
    events = events_of(t1, session)
    assert {e["session"] for e in events} == {session}
    calls = [e for e in events if e["type"] == ev.TOOL_CALL]
    assert sorted((c["tool"], bool(c.get("agent_id"))) for c in calls) == [
        ("Agent", False), ("Bash", False), ("Bash", False), ("Read", True), ("Write", False)]
    for c in calls:  # ids derived from Claude's own tool_use ids, like the CLI hooks
        assert c["id"] == ev.derived_id(session, "tool.call", c["tool_use_id"])
        assert c["tool_use_id"].startswith("toolu_stub")
    assert (p1 / "notes.txt").read_text() == "hello\n"
    failed = next(e for e in events if e["type"] == ev.TOOL_ERROR)
    assert failed["tool"] == "Bash" and "No such file or directory" in failed["error"]["message"]
    # the rule answered PreToolUse: the command never ran
    decisions = [e for e in events if e["type"] == ev.RULE_DECISION]
    assert [(d["tool"], d["status"]) for d in decisions] == [("Bash", ev.DENIED)]
    assert (p1 / "build" / "keep.txt").read_text() == "precious\n"
    assert "no deleting here" in json.dumps([r["body"] for r in served])  # Claude was told why
    # the subagent, with its own tool call
    starts = [e for e in events if e["type"] == ev.SUBAGENT_START]
    assert len(starts) == 1 and [c["tool"] for c in calls if c.get("agent_id") == starts[0]["agent_id"]] == ["Read"]
    # model calls: the transcript import and the proxy see each; one id each, counted once
    # the transcript import derives the proxy's ids (the proxy's log thread may not have written a
    # call yet when Stop imports it: then the file holds both copies, and readers count it once)
    with open(Store(str(t1)).path_for(session), encoding="utf-8") as f:
        raw = [json.loads(line) for line in f if line.strip()]
    llm = [e for e in raw if e["type"] == ev.LLM_RESPONSE]
    by_source = {s: {e["id"] for e in llm if e["source"] == s} for s in ("claude-code", "llm-proxy")}
    assert by_source["claude-code"] <= by_source["llm-proxy"]  # imported at Stop (by the hooks' background
    # worker, which may run after the proxy wrote every call: then the import finds them all there)
    # the transcript on its own, imported into an empty store, gives exactly the proxy's ids
    transcript_file = next((home / ".claude" / "projects").glob(f"*/{session}.jsonl"))
    alone = Store(str(tmp_path / "alone"))
    alone_sink = FileSink(alone)
    import_session(alone, alone_sink, str(transcript_file), session)
    alone_sink.close()
    assert {e["id"] for e in events_of(tmp_path / "alone", session)
            if e["type"] == ev.LLM_RESPONSE} == by_source["llm-proxy"]
    s = summarize(events)
    assert s.llm_calls == len(by_source["llm-proxy"]) == len(served)
    assert s.tokens["input"] == 1000 * len(served)

    # 2. the same task with the CLI and the hooks `agent-strace setup` installs: the same events
    assert run_cli("setup", "--scope", "project", "--project", str(p2)).returncode == 0
    with Stub(scenario(p2)) as stub:
        cli = run_claude(p2, home, stub.url, PROMPT, "Write,Read,Bash,Agent",
                         env_extra={"AGENT_TRACE_DIR": str(t2)})
    assert cli["_returncode"] == 0, cli
    cli_events = events_of(t2, cli["session_id"])
    norm = str(p2), str(p1)
    cli_rows = Counter(tuple(x.replace(*norm) if isinstance(x, str) else x for x in row)
                       for row in hook_story(cli_events))
    sdk_rows = Counter(hook_story(events))

    def timing(row):  # the background subagent's events, and the turn its notification may open,
        return row[4] or row[0] in (ev.USER_PROMPT, ev.TURN_END)  # depend on when each run ended

    assert {r: n for r, n in cli_rows.items() if not timing(r)} == {r: n for r, n in sdk_rows.items() if not timing(r)}
    assert any(r[4] for r in cli_rows) and any(r[4] for r in sdk_rows)  # both saw the subagent

    # 3. replay: the proxy's capture as a cassette, served with the scripted API gone.  The background
    # subagent's end reaches the main agent when it does: real Claude Code may ask the model once more in
    # the replay than it did while recording (seen in the full suite: "all N recorded calls were already
    # played"), so a recording may play again (the closest one); the tool calls and the rule's decision
    # are checked below.
    cassette = tmp_path / "sdk.json"
    r = run_cli("--trace-dir", str(t1), "cassette", "from-session", session, "-o", str(cassette))
    assert r.returncode == 0, r.stderr
    (p1 / "notes.txt").unlink()
    port = free_port()
    with Background([sys.executable, "-m", "agent_trace", "serve", "--llm", str(cassette), "--port", str(port),
                     "--allow-repeats"],
                    stderr=subprocess.PIPE) as srv:
        wait_port(port, proc=srv.proc)
        again = sdk_run(p3, home, f"http://127.0.0.1:{port}", t3)
    assert sorted(again.get("tools") or ()) == sorted(out["tools"]), again  # the subagent runs in the background
    replayed = events_of(t3, again["session_id"])
    assert sorted((c["tool"], c["data"]["tool_input"].get("command") or "") for c in replayed
                  if c["type"] == ev.TOOL_CALL) == sorted((c["tool"], c["data"]["tool_input"].get("command") or "")
                                                          for c in calls)
    assert [(d["tool"], d["status"]) for d in replayed if d["type"] == ev.RULE_DECISION] == [("Bash", ev.DENIED)]
    assert (p3 / "build" / "keep.txt").exists()
    # the replayed Write really ran, in the replaying project (the cassette is portable: p1 -> p3)
    assert (p3 / "notes.txt").read_text() == "hello\n" and not (p1 / "notes.txt").exists()
