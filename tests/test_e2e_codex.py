"""A real Codex CLI 0.171 (npm @openai/codex), offline, with hooks installed
by ``agent-strace setup --cli codex --trust``: every event, rules that do
what they say and what the trace says, usage from the real responses."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter

import pytest

from agent_trace import event as ev
from agent_trace.analysis.summary import summarize
from agent_trace.capture import codex_rollout
from agent_trace.capture.transcript import llm_event_id

from conftest import read_session, run_cli
from support.codex_cli import VERSION, codex_bin, run_codex, write_config
from support.responses_stub import ResponsesStub

pytestmark = pytest.mark.e2e

PROMPT = "do the scripted task"
COLLAB = {"namespace": "collaboration"}
ADD = "*** Begin Patch\n*** Add File: notes.txt\n+first line\n*** End Patch\n"
MOVE = ("*** Begin Patch\n*** Update File: notes.txt\n*** Move to: moved.txt\n@@\n-first line\n+edited line\n"
        "*** End Patch\n")


def patch_step(text):
    return [{"tool": "apply_patch", "patch": text}]


def shell_step(cmd):
    return [{"tool": "exec_command", "input": {"cmd": cmd}}]


@pytest.fixture
def codex(tmp_path, trace_dir):
    """(project, home, setup output): hooks installed and trusted as a user would."""
    codex_bin()
    home, project = tmp_path / "home", tmp_path / "proj"
    project.mkdir()
    home.mkdir()
    return project, home


def install(project, home, url):
    write_config(home, url)
    r = run_cli("setup", "--cli", "codex", "--project", str(project), "--trust", env={"HOME": str(home)})
    assert r.returncode == 0, r.stderr
    return r.stdout.decode()


def events_of(trace_dir, r):
    assert r.session, r.stderr[-2000:]
    return read_session(trace_dir, r.session)


def test_real_codex_session_is_captured_event_by_event(codex, trace_dir):
    project, home = codex
    scenario = {
        "Task name: /root/helper": [shell_step("cat moved.txt"), [{"text": "Subagent report: read it."}]],
        PROMPT: [shell_step("echo hi > out.txt"), patch_step(ADD), patch_step(MOVE), shell_step("cat nope.txt"),
                 shell_step("seq 1 200000"),
                 [{"tool": "spawn_agent", "input": {"task_name": "helper", "message": "read moved.txt",
                                                    "fork_turns": "none"}, "item": COLLAB}],
                 [{"tool": "wait_agent", "input": {"timeout_ms": 10000}, "item": COLLAB}],
                 [{"text": "Finished the task."}]]}
    with ResponsesStub(scenario) as stub:
        out = install(project, home, stub.url)
        assert "trusted 14 agent-strace hooks" in out and "trusted the project" in out
        r = run_codex(project, home, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)}, args=["--enable", "multi_agent_v2"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert (project / "moved.txt").read_text() == "edited line\n" and not (project / "notes.txt").exists()
    events = events_of(trace_dir, r)
    assert all(e["session"] == r.session and e["source"] == "codex" for e in events)

    # every hook event Codex fired, recorded once
    by_name = Counter(e["name"] for e in events if e["source"] == "codex")
    n_responses = len(stub.response_ids)
    assert by_name["SessionStart"] == 1 and by_name["UserPromptSubmit"] == 1 and by_name["Stop"] == 1
    assert by_name["SessionEnd"] == 1 and by_name["SubagentStart"] == 1 and by_name["SubagentStop"] == 1
    assert by_name["PreToolUse"] == by_name["PostToolUse"] == 8
    assert by_name["PreModelRequest"] == by_name["PostModelRequest"] == n_responses
    assert len({e["id"] for e in events}) == len(events)

    calls = [e for e in events if e["type"] == ev.TOOL_CALL]
    assert [c["tool"] for c in calls if not c.get("agent_id")] == [
        "Bash", "apply_patch", "apply_patch", "Bash", "Bash", "collaborationspawn_agent", "collaborationwait_agent"]
    assert calls[1]["data"]["tool_input"] == {"command": ADD}  # lossless
    ends = {e["tool_use_id"]: e for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)}
    assert set(ends) == {c["tool_use_id"] for c in calls}  # every call paired with its result
    failing = ends[calls[3]["tool_use_id"]]
    assert failing["type"] == ev.TOOL_ERROR and failing["error"]["exit_code"] == 1
    assert "No such file or directory" in failing["error"]["message"]
    assert all(ends[c["tool_use_id"]]["type"] == ev.TOOL_RESULT for c in calls if c is not calls[3])
    long = ends[calls[4]["tool_use_id"]]  # Codex cut the output it handed over: noted
    (cut,) = long["truncated"]
    assert cut["by"] == "codex" and cut["original_tokens"] > 100_000 and cut["omitted_bytes"] > 0

    # the subagent: attributed by agent_id, its own call and model turns
    start = next(e for e in events if e["type"] == ev.SUBAGENT_START)
    sub = start["agent_id"]
    assert [c["data"]["tool_input"] for c in calls if c.get("agent_id") == sub] == [{"command": "cat moved.txt"}]
    assert any(e["type"] == ev.SUBAGENT_STOP and e["agent_id"] == sub for e in events)

    # one llm.response per model response, real usage, the id every source derives
    llm = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    assert sorted(e["id"] for e in llm) == sorted(llm_event_id(r.session, rid) for rid in stub.response_ids)
    assert all(e["usage"] == {"input": 900, "output": 40, "cache_read": 300} and e["model"] == "gpt-5.5"
               for e in llm)
    s = summarize(events)
    assert s.llm_calls == n_responses and s.tokens["input"] == 900 * n_responses
    assert s.tool_calls == 8 and s.tool_errors == 1 and s.ended and s.title == PROMPT

    # the rollout parser sees the same calls and responses, with the same ids
    rollout = next(e for e in events if e["name"] == "SessionStart")["data"]["transcript_path"]
    log = codex_rollout.parse_log(rollout, final=True)
    assert log.session == r.session and log.skipped == 0
    hook_ids = {e["id"] for e in events}
    parsed = [e for e in log.events if e["type"] in (ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR,
                                                     ev.LLM_RESPONSE, ev.USER_PROMPT, ev.TURN_END)]
    assert parsed and all(e["id"] in hook_ids for e in parsed)
    assert {e["type"] for e in parsed if e["id"] == failing["id"]} == {ev.TOOL_ERROR}

    # doctor: healthy, and it knows when Codex last recorded
    r = run_cli("doctor", "--cli", "codex", "--project", str(project),
                env={"HOME": str(home), "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]})
    assert r.returncode == 0, r.stdout
    assert b"all 14 hooks trusted" in r.stdout and b"last recorded" in r.stdout


def rules(project, text):
    (project / ".agent-strace").mkdir(exist_ok=True)
    (project / ".agent-strace" / "rules.toml").write_text(text)


def decisions(events):
    return [e for e in events if e["type"] == ev.RULE_DECISION]


def test_deny_rules_see_apply_patch_paths(codex, trace_dir):
    project, home = codex
    (project / "src").mkdir()
    rules(project, '[[deny]]\npaths = ["secrets/**"]\nreason = "secrets are off limits"\n\n'
                   '[[allow]]\npaths = ["src/**", "secrets/**"]\n')
    scenario = {PROMPT: [patch_step("*** Begin Patch\n*** Add File: secrets/key.txt\n+k\n*** End Patch\n"),
                         patch_step("*** Begin Patch\n*** Add File: elsewhere.txt\n+x\n*** End Patch\n"),
                         patch_step("*** Begin Patch\n*** Add File: src/ok.txt\n+fine\n*** End Patch\n"),
                         [{"text": "done"}]]}
    with ResponsesStub(scenario) as stub:
        install(project, home, stub.url)
        r = run_codex(project, home, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    assert r.returncode == 0, r.stderr[-2000:]
    assert not (project / "secrets").exists() and not (project / "elsewhere.txt").exists()
    assert (project / "src" / "ok.txt").read_text() == "fine\n"
    events = events_of(trace_dir, r)
    ds = decisions(events)
    assert [(d["status"], d["name"]) for d in ds] == [("denied", "deny.paths"), ("denied", "allow.paths")]
    assert "secrets are off limits" in ds[0]["data"]["reason"]
    # the blocked calls ran nothing and have no result; Codex saw the reason
    blocked = {d["tool_use_id"] for d in ds}
    assert not [e for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR) and e["tool_use_id"] in blocked]
    outputs = [json.dumps(q["body"]["input"]) for q in stub.requests]
    assert any("Command blocked by PreToolUse hook: agent-strace: secrets are off limits" in o for o in outputs)


@pytest.mark.parametrize("action", ["stop", "kill", "warn"])
def test_stop_kill_and_warn_do_what_the_trace_says(codex, trace_dir, action):
    project, home = codex
    # (Codex itself refuses rm -rf: a command it would run)
    rules(project, f'[[deny]]\ncommands = ["touch forbidden*"]\naction = "{action}"\n')
    scenario = {PROMPT: [shell_step("echo one > one.txt"), shell_step("touch forbidden; echo two > two.txt"),
                         shell_step("echo three > three.txt"), [{"text": "done"}]]}
    with ResponsesStub(scenario) as stub:
        install(project, home, stub.url)
        r = run_codex(project, home, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    events = events_of(trace_dir, r)
    (d,) = decisions(events)
    ran = {p.name for p in project.glob("*.txt")}
    results = {e["tool_use_id"] for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)}
    if action == "warn":
        assert r.returncode == 0 and ran == {"one.txt", "two.txt", "three.txt"}
        assert d["status"] == "warned" and d["tool_use_id"] in results
        # Codex takes the answer (a systemMessage: a warning on the hook run; codex exec does not print it)
        assert r.stderr.count("hook: PreToolUse Completed") == 3 and "Failed" not in r.stderr
        return
    # stop and kill: the call did not run, nothing after it ran, and the trace says so
    assert ran == {"one.txt"}, (ran, r.stderr[-2000:])
    assert d["status"] == ("stopped" if action == "stop" else "killed") and d["tool_use_id"] not in results
    assert any(e["type"] == ev.POSTMORTEM for e in events)
    if action == "stop":
        # Codex rejects continue:false at PreToolUse: the turn is interrupted instead
        assert r.returncode != 0 and "turn interrupted" in r.stderr
        assert any(e["type"] == ev.TURN_END and e["name"] == "Interrupt" for e in events)
        assert "PreToolUse hook returned unsupported" not in r.stderr
    else:
        assert r.returncode != 0


def test_limits_and_budget_count_real_calls_and_usage(codex, trace_dir):
    project, home = codex
    rules(project, "[limits]\ntool_calls = 2\naction = \"deny\"\n")
    scenario = {PROMPT: [shell_step("echo 1 > a1.txt"), shell_step("echo 2 > a2.txt"), shell_step("echo 3 > a3.txt"),
                         [{"text": "done"}]]}
    with ResponsesStub(scenario) as stub:
        install(project, home, stub.url)
        r = run_codex(project, home, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    assert {p.name for p in project.glob("a*.txt")} == {"a1.txt", "a2.txt"}
    (d,) = decisions(events_of(trace_dir, r))
    assert d["name"] == "limits.tool_calls" and d["status"] == "denied"

    # a token budget fires from the usage Codex reported (1,240 tokens per response)
    rules(project, "[budget]\ntokens = 2000\n")
    scenario = {PROMPT: [shell_step(f"echo {i} > b{i}.txt") for i in range(1, 5)] + [[{"text": "done"}]]}
    with ResponsesStub(scenario) as stub:
        write_config(home, stub.url)
        r = run_codex(project, home, PROMPT, {"AGENT_TRACE_DIR": str(trace_dir)})
    events = events_of(trace_dir, r)
    (d,) = decisions(events)
    assert d["name"] == "budget.tokens" and d["status"] == "stopped"
    made = sorted(p.name for p in project.glob("b*.txt"))
    # the budget is crossed by the second response: the call it asks for (or, when
    # its usage is not in yet, the next one) is stopped, and nothing after it runs
    assert made in (["b1.txt"], ["b1.txt", "b2.txt"]), made
    s = summarize(events)
    assert sum(s.tokens.values()) == 1240 * len(stub.response_ids)  # each response counted once


def test_setup_without_trust_says_what_is_missing_and_uninstall_restores(codex, tmp_path):
    project, home = codex
    cfg = write_config(home, "http://127.0.0.1:9/v1")
    original = cfg.read_text()
    r = run_cli("setup", "--cli", "codex", "--project", str(project), env={"HOME": str(home)})
    out = r.stdout.decode()
    assert r.returncode == 0 and "not yet" in out and "--trust" in out
    assert sum("note: Codex runs hooks only once you trust them" in line for line in out.splitlines()) == 1
    # the hook command does not depend on the interpreter: approvals survive a reinstall
    hooks_before = (project / ".codex" / "hooks.json").read_text()
    run_cli("setup", "--cli", "codex", "--project", str(project), "--trust", env={"HOME": str(home)})
    run_cli("setup", "--cli", "codex", "--project", str(project), "--python", "/usr/bin/python3",
            env={"HOME": str(home)})  # a machine-path reinstall changes the commands ...
    r = run_cli("doctor", "--cli", "codex", "--project", str(project), env={"HOME": str(home)})
    assert r.returncode == 4 and b"changed since they were approved" in r.stdout, r.stdout  # ... doctor says so
    run_cli("setup", "--cli", "codex", "--project", str(project), env={"HOME": str(home)})
    assert (project / ".codex" / "hooks.json").read_text() == hooks_before
    r = run_cli("setup", "--cli", "codex", "--project", str(project), "--uninstall", env={"HOME": str(home)})
    assert r.returncode == 0, r.stderr
    assert cfg.read_text() == original and not (project / ".codex").exists()


def test_codex_version_is_the_one_verified():
    from support.npm import installed_version

    codex_bin()
    assert installed_version("npm-codex", "@openai/codex") == VERSION
