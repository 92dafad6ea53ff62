"""The hook handler on real Claude Code 2.1.328 payloads, and on hostile input."""

import json
import os
import shutil

import pytest

from agent_trace import event as ev
from agent_trace.capture.hooks import canonical_name, events_from_hook
from agent_trace.capture.log_import import import_session
from agent_trace.capture.transcript import read_responses
from agent_trace.store.sink import FileSink
from agent_trace.store import Store
from agent_trace.analysis.summary import summarize

from conftest import FIXTURES, fixture_payloads, read_session, run_cli

SESSION = "e8f720b7-94ae-4a8c-bae2-3ba0f907bf8b"


def test_kebab_and_original_names():
    assert canonical_name("pre-tool-use") == "PreToolUse"
    assert canonical_name("post-tool-use-failure") == "PostToolUseFailure"
    assert canonical_name("user_prompt_submit") == "UserPromptSubmit"
    assert canonical_name("PreToolUse") == "PreToolUse"
    assert canonical_name("subagent-stop") == "SubagentStop"
    assert canonical_name("brand-new-event") == "BrandNewEvent"


def feed_fixture(trace_dir):
    for p in fixture_payloads():
        r = run_cli("hook", input=json.dumps(p).encode())
        assert r.returncode == 0 and r.stdout == b"", r.stderr
    return read_session(trace_dir, SESSION)


def test_fixture_session_is_recorded_losslessly(trace_dir):
    payloads = fixture_payloads()
    events = feed_fixture(trace_dir)
    hook_events = [e for e in events if e["type"] != ev.LLM_RESPONSE]
    assert len(hook_events) == len(payloads)
    for p, e in zip(payloads, hook_events):
        assert e["data"] == p  # the whole payload, unchanged
        assert e["session"] == SESSION and e["name"] == p["hook_event_name"]
    types = [e["type"] for e in hook_events]
    assert types[:4] == [ev.SESSION_START, ev.USER_PROMPT, ev.TOOL_CALL, ev.TOOL_RESULT]
    assert types[-1] == ev.SESSION_END
    assert types.count(ev.TOOL_ERROR) == 3 and types.count(ev.USER_PROMPT) == 2

    errors = [e for e in hook_events if e["type"] == ev.TOOL_ERROR]
    assert errors[0]["error"] == {
        "message": "Exit code 2\nls: cannot access 'WS': No such file or directory", "is_interrupt": False}
    assert errors[0]["duration_ms"] == 23 and errors[0]["tool"] == "Bash" and errors[0]["status"] == "error"

    # calls pair with results by tool_use_id, with no state files involved
    calls = {e["tool_use_id"]: e for e in hook_events if e["type"] == ev.TOOL_CALL}
    ends = {e["tool_use_id"]: e for e in hook_events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)}
    assert set(calls) == set(ends) and len(calls) == 8
    assert not os.path.exists(os.path.join(trace_dir, "state", "pairs"))

    # subagent attribution; its PostToolUse(Agent) arrived before SubagentStart
    sub = [e for e in hook_events if e.get("agent_id") == "ad3d745db96c336ff"]
    assert [e["type"] for e in sub] == [ev.SUBAGENT_START, ev.TOOL_CALL, ev.TOOL_RESULT, ev.SUBAGENT_STOP]
    assert all(e["agent_type"] == "general-purpose" for e in sub)
    assert sub[1]["tool"] == "Read"


def test_summary_of_fixture_session(trace_dir):
    events = feed_fixture(trace_dir)
    s = summarize(events)
    assert s.tool_calls == 8 and s.tool_errors == 3 and s.prompts == 2 and s.ended
    assert s.tools["Bash"][:2] == [2, 2] and s.subagents == ["ad3d745db96c336ff"]
    assert s.title == "do the scripted task"


def test_unknown_events_are_stored_generically():
    p = {"session_id": "s", "hook_event_name": "FutureThing", "new_field": {"x": [1, 2]}}
    (e,) = events_from_hook(p, None, "claude-code")
    assert e["type"] == ev.GENERIC and e["name"] == "FutureThing" and e["data"] == p


def test_event_name_from_argument_when_payload_has_none(trace_dir):
    r = run_cli("hook", "post-tool-use-failure",
                input=json.dumps({"session_id": "s2", "tool_name": "Bash", "error": "boom"}).encode())
    assert r.returncode == 0
    (e,) = read_session(trace_dir, "s2")
    assert e["type"] == ev.TOOL_ERROR and e["error"]["message"] == "boom"


@pytest.mark.parametrize("raw,msg", [
    (b"", b"empty input"),
    (b"   \n", b"empty input"),
    (b"{not json", b"not JSON"),
    (b"[1,2,3]", b"not an object"),
    (b'"a string"', b"not an object"),
    (b"\x00\x01\x02\xff\xfe", b"not JSON"),
])
def test_hostile_stdin_fails_open(trace_dir, raw, msg):
    r = run_cli("hook", "pre-tool-use", input=raw)
    assert r.returncode == 0 and r.stdout == b""
    assert msg in r.stderr and r.stderr.count(b"\n") <= 2
    assert not os.path.exists(os.path.join(trace_dir, "sessions")) or not os.listdir(
        os.path.join(trace_dir, "sessions"))


def test_invalid_utf8_inside_json_is_kept(trace_dir):
    raw = b'{"session_id":"u8","hook_event_name":"PreToolUse","tool_input":{"command":"echo \xff\xfe"}}'
    r = run_cli("hook", input=raw)
    assert r.returncode == 0 and b"not valid UTF-8" in r.stderr
    (e,) = read_session(trace_dir, "u8")
    assert e["data"]["tool_input"]["command"].encode("utf-8", "surrogateescape") == b"echo \xff\xfe"


def test_30mb_input_is_recorded_capped_and_fast_enough_to_not_fail(trace_dir):
    big = "A" * (30 * 1024 * 1024)
    p = {"session_id": "big", "hook_event_name": "PreToolUse", "tool_name": "Write",
         "tool_use_id": "t", "tool_input": {"file_path": "/x", "content": big}}
    r = run_cli("hook", input=json.dumps(p).encode())
    assert r.returncode == 0, r.stderr
    (e,) = read_session(trace_dir, "big")
    assert e["truncated"][0]["path"] == "data.tool_input.content"
    assert e["truncated"][0]["chars"] == len(big)
    assert e["data"]["tool_input"]["file_path"] == "/x"


def test_unwritable_store_fails_open(tmp_path):
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the store should be")
    r = run_cli("hook", input=b'{"session_id":"s","hook_event_name":"Stop"}',
                env={"AGENT_TRACE_DIR": str(blocker)})
    assert r.returncode == 0 and b"could not record" in r.stderr


def test_secrets_in_hook_payloads_never_reach_disk(trace_dir):
    key = "sk-ant-api03-" + "Q" * 40
    p = {"session_id": "sec", "hook_event_name": "PreToolUse", "tool_name": "Bash",
         "tool_input": {"command": f"curl -H 'x-api-key: {key}' https://api.anthropic.com"}}
    run_cli("hook", input=json.dumps(p).encode())
    raw = (trace_dir / "sessions" / "sec.jsonl").read_bytes()
    assert key.encode() not in raw and b"[REDACTED]" in raw


def test_store_goes_to_payload_cwd_when_no_dir_is_configured(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "AGENT_TRACE_DIR"}
    import subprocess
    import sys

    p = {"session_id": "cw", "hook_event_name": "SessionStart", "cwd": str(tmp_path / "proj")}
    (tmp_path / "proj").mkdir()
    subprocess.run([sys.executable, "-m", "agent_trace", "hook"], input=json.dumps(p).encode(),
                   env=env, cwd=str(tmp_path), check=True)
    assert (tmp_path / "proj" / ".agent-traces" / "sessions" / "cw.jsonl").exists()


# -- transcripts -------------------------------------------------------------

def copy_transcripts(tmp_path):
    """Lay the fixture transcripts out as Claude Code does."""
    proj = tmp_path / "claude-home" / "projects" / "-home-dev-demo"
    (proj / SESSION / "subagents").mkdir(parents=True)
    main = proj / f"{SESSION}.jsonl"
    shutil.copy(FIXTURES / "transcript-main.jsonl", main)
    for name in ("transcript-subagent-agent-ad3d745db96c336ff.jsonl",
                 "transcript-subagent-agent-ad3d745db96c336ff.meta.json"):
        shutil.copy(FIXTURES / name, proj / SESSION / "subagents" / name.replace("transcript-subagent-", ""))
    return main


def record_with_transcripts(tmp_path):
    """Feed the fixture payloads through the real hook, transcripts laid out
    as Claude Code does, so the session has its LLM turns too."""
    main = copy_transcripts(tmp_path)
    for p in fixture_payloads():
        if "transcript_path" in p:
            p["transcript_path"] = str(main)
        run_cli("hook", input=json.dumps(p).encode())


def expected_responses():
    ids = {}
    for name in ("transcript-main.jsonl", "transcript-subagent-agent-ad3d745db96c336ff.jsonl"):
        for line in open(FIXTURES / name, encoding="utf-8"):
            d = json.loads(line)
            if d.get("type") == "assistant":
                ids[d["message"]["id"]] = d["message"]["usage"]
    return ids


def test_transcript_import_one_event_per_response_with_usage(trace_dir, tmp_path):
    main = copy_transcripts(tmp_path)
    r = run_cli("import", str(main))
    assert r.returncode == 0, r.stderr
    llm = [e for e in read_session(trace_dir, SESSION) if e["type"] == ev.LLM_RESPONSE]
    want = expected_responses()
    assert sorted(e["data"]["message_id"] for e in llm) == sorted(want)
    for e in llm:
        u = want[e["data"]["message_id"]]
        assert e["usage"] == {"input": u["input_tokens"], "output": u["output_tokens"],
                              "cache_read": u["cache_read_input_tokens"],
                              "cache_write": u["cache_creation_input_tokens"]}
        assert e["model"] == "claude-opus-5-5" and e["data"]["stop_reason"] in ("tool_use", "end_turn")
    sub = [e for e in llm if e.get("agent_id") == "ad3d745db96c336ff"]
    assert len(sub) == 2
    # importing again creates no duplicates
    run_cli("import", str(main))
    again = [e for e in read_session(trace_dir, SESSION) if e["type"] == ev.LLM_RESPONSE]
    assert len(again) == len(llm)


def test_hooks_import_transcripts_at_stop_and_session_end(trace_dir, tmp_path):
    main = copy_transcripts(tmp_path)
    sub_path = main.parent / SESSION / "subagents" / "agent-ad3d745db96c336ff.jsonl"
    for p in fixture_payloads():
        if "transcript_path" in p:
            p["transcript_path"] = str(main)
        if "agent_transcript_path" in p:
            p["agent_transcript_path"] = str(sub_path)
        assert run_cli("hook", input=json.dumps(p).encode()).returncode == 0
    events = read_session(trace_dir, SESSION)
    llm = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    assert len(llm) == len(expected_responses()) == len({e["id"] for e in llm})
    s = summarize(events)
    assert s.llm_calls == len(llm) and s.tokens["input"] == sum(e["usage"]["input"] for e in llm)
    assert s.cost_usd > 0
    # an on-demand import after the hooks adds nothing
    run_cli("import", str(main))
    assert len([e for e in read_session(trace_dir, SESSION) if e["type"] == ev.LLM_RESPONSE]) == len(llm)


def test_incomplete_last_response_is_held_back_until_final(tmp_path):
    """A message whose blocks are still being written (no stop reason yet) is
    held back; one with a stop reason is complete and imported at once."""
    src = (FIXTURES / "transcript-main.jsonl").read_bytes().splitlines(keepends=True)
    last_assistant = max(i for i, line in enumerate(src) if b'"type":"assistant"' in line)
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join(src[: last_assistant + 1]))
    complete, _ = read_responses(str(path), "s", final=False)
    streaming = json.loads(src[last_assistant])
    streaming["message"]["stop_reason"] = None
    path.write_bytes(b"".join(src[:last_assistant]) + json.dumps(streaming).encode() + b"\n")
    events, offset = read_responses(str(path), "s", final=False)
    final_events, _ = read_responses(str(path), "s", final=True)
    assert len(final_events) == len(events) + 1 == len(complete)
    more, _ = read_responses(str(path), "s", start=offset, final=True)
    assert len(more) == 1 and more[0]["id"] == final_events[-1]["id"]


def test_import_is_idempotent_even_without_cursor(trace_dir, tmp_path):
    main = copy_transcripts(tmp_path)
    store = Store(str(trace_dir))
    n1 = import_session(store, FileSink(store), str(main), SESSION, final=True)
    shutil.rmtree(trace_dir / "state")
    n2 = import_session(store, FileSink(store), str(main), SESSION, final=True)
    assert n1 > 0 and n2 == 0


def test_import_missing_file_is_a_clear_error():
    r = run_cli("import", "/nonexistent/t.jsonl")
    assert r.returncode == 2 and b"no such file" in r.stderr


def test_hook_ids_are_derived_from_the_agents_own_ids():
    """The same tool call, prompt or subagent seen twice (two hook processes,
    or a hook and the transcript import) gets the same event id."""
    from agent_trace.capture.hooks import events_from_hook

    base = {"session_id": "s1", "prompt_id": "p1"}
    call = {**base, "hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_use_id": "toolu_1"}
    result = {**base, "hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_use_id": "toolu_1"}
    failure = {**base, "hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "tool_use_id": "toolu_1"}
    first, again = events_from_hook(call, None, "claude-code")[0], events_from_hook(call, None, "claude-code")[0]
    assert first["id"] == again["id"] == ev.derived_id("s1", "tool.call", "toolu_1")
    res, err = events_from_hook(result, None, "claude-code")[0], events_from_hook(failure, None, "claude-code")[0]
    assert res["id"] == err["id"] != first["id"]
    prompt = events_from_hook({**base, "hook_event_name": "UserPromptSubmit", "prompt": "hi"}, None, "claude-code")[0]
    assert prompt["id"] == ev.derived_id("s1", "user.prompt", "p1")
    # another session, same tool_use_id: another id
    other = events_from_hook({**call, "session_id": "s2"}, None, "claude-code")[0]
    assert other["id"] != first["id"]
    # no agent id to derive from: a fresh random id each time
    start = {"session_id": "s1", "hook_event_name": "SessionStart"}
    first_start, second_start = (events_from_hook(start, None, "claude-code")[0] for _ in range(2))
    assert first_start["id"] != second_start["id"]
