"""Full-session parsers of Codex rollouts and Gemini CLI chat logs, on the
real captures in tests/fixtures (the e2e tests run them on files the real
programs write): events, pairing, usage, ids shared with the hooks,
incremental parsing, damage."""

from __future__ import annotations

import json
import shutil

import pytest

from agent_trace import event as ev
from agent_trace.capture import codex_rollout, gemini_chat
from agent_trace.capture.hooks import events_from_hook
from agent_trace.capture.transcript import llm_event_id

from conftest import REPO

CODEX = REPO / "tests" / "fixtures" / "codex-0.171"
GEMINI = REPO / "tests" / "fixtures" / "gemini-0.61"


def payloads(folder):
    return [json.loads(line) for line in (folder / "hook-payloads.jsonl").read_text().splitlines() if line.strip()]


def test_codex_rollout_is_a_whole_session():
    log = codex_rollout.parse_log(str(CODEX / "rollout.jsonl"))
    assert log.session == "01a2333f-e54c-7d01-9642-0ad828850087" and log.cwd == "/home/dev/demo"
    assert log.skipped == 0 and log.end == (CODEX / "rollout.jsonl").stat().st_size
    types = [e["type"] for e in log.events]
    assert types == [ev.SESSION_START, ev.USER_PROMPT, ev.TOOL_CALL, ev.LLM_RESPONSE, ev.TOOL_RESULT,
                     ev.ASSISTANT_MESSAGE, ev.LLM_RESPONSE, ev.TURN_END]
    call = log.events[2]
    assert call["tool"] == "Bash" and call["data"]["tool_input"] == {"command": "echo hi > out.txt"}
    llm = [e for e in log.events if e["type"] == ev.LLM_RESPONSE]
    assert [e["usage"] for e in llm] == [{"input": 90, "output": 7, "cache_read": 10},
                                         {"input": 91, "output": 7, "cache_read": 10}]
    assert all(e["model"] == "gpt-5.5" for e in llm)
    # the LLM proxy and the PostModelRequest hook derive the same id from the response id
    assert llm[0]["id"] == llm_event_id(log.session, "resp_cx_basic_0")
    assert log.events[1]["data"]["prompt"] == "do the scripted task"
    assert log.events[5]["data"]["text"] == "done (cx_basic): 1 tool result(s) seen"


def test_codex_ids_equal_what_the_hooks_record():
    log = codex_rollout.parse_log(str(CODEX / "rollout.jsonl"))
    hooked = {}
    for p in payloads(CODEX):
        for e in events_from_hook(p, None, "codex"):
            hooked[e["type"]] = e["id"]
    by_type = {e["type"]: e["id"] for e in log.events}
    for t in (ev.TOOL_CALL, ev.TOOL_RESULT, ev.USER_PROMPT, ev.TURN_END):
        assert by_type[t] == hooked[t], t


def test_codex_incremental_and_torn_lines(tmp_path):
    src = (CODEX / "rollout.jsonl").read_bytes()
    lines = src.splitlines(keepends=True)
    path = tmp_path / "rollout.jsonl"
    cut = sum(len(x) for x in lines[:10])
    path.write_bytes(src[:cut] + lines[10][:30])  # a torn line being written
    first = codex_rollout.parse_log(str(path))
    assert first.end == cut and first.skipped == 0
    path.write_bytes(src[:cut] + b"{not json\n" + b'["a list"]\n' + src[cut:])
    rest = codex_rollout.parse_log(str(path), first.end, final=True)
    assert rest.skipped == 2 and rest.session == first.session
    whole = codex_rollout.parse_log(str(CODEX / "rollout.jsonl"))
    assert [e["id"] for e in first.events + rest.events] == [e["id"] for e in whole.events]
    assert rest.events[-2]["model"] == "gpt-5.5"  # the model from before the resume point


def test_codex_failed_and_blocked_calls_are_errors():
    fail = {"type": "function_call_output", "call_id": "c1",
            "output": "Chunk ID: 1\nWall time: 0.0 seconds\nProcess exited with code 1\nOutput:\nnope\n"}
    fake = {"type": "function_call_output", "call_id": "c2",
            "output": "Chunk ID: 1\nProcess exited with code 0\nOutput:\nProcess exited with code 9\n"}
    blocked = {"type": "function_call_output", "call_id": "c3",
               "output": "Command blocked by PreToolUse hook: no. Command: rm x"}
    patch = {"type": "custom_tool_call_output", "call_id": "c4", "output": "Exit code: 1\nOutput:\nbad hunk"}
    assert codex_rollout.output_failed(fail["output"], None) == (True, 1)
    assert codex_rollout.output_failed(fake["output"], None) == (False, 0)
    assert codex_rollout.output_failed(blocked["output"], None) == (True, None)
    assert codex_rollout.output_failed(patch["output"], None) == (True, 1)
    assert codex_rollout.output_failed("Wall time: 0.1 seconds\naborted by user", None) == (True, None)
    assert codex_rollout.output_failed("", {"status": "failed", "exit_code": 2}) == (True, 2)


def test_codex_tool_names_match_the_hooks():
    assert codex_rollout.tool_and_input({"type": "custom_tool_call", "name": "apply_patch", "input": "P"}) == \
        ("apply_patch", {"command": "P"})
    assert codex_rollout.tool_and_input({"type": "function_call", "name": "exec_command",
                                         "arguments": '{"cmd": "ls"}'}) == ("Bash", {"command": "ls"})
    assert codex_rollout.tool_and_input({"type": "function_call", "name": "spawn_agent", "namespace": "collaboration",
                                         "arguments": '{"task_name": "x"}'}) == ("collaborationspawn_agent",
                                                                                 {"task_name": "x"})
    assert codex_rollout.tool_and_input({"type": "function_call", "name": "shell",
                                         "arguments": '{"command": ["bash", "-lc", "ls -a"]}'}) == \
        ("Bash", {"command": "ls -a"})


def test_codex_call_outcome_reads_the_tail(tmp_path):
    path = tmp_path / "r.jsonl"
    filler = json.dumps({"type": "event_msg", "payload": {"type": "x", "pad": "y" * 5000}}) + "\n"
    done = json.dumps({"type": "event_msg", "payload": {"type": "item_completed", "item": {
        "type": "CommandExecution", "id": "call_9", "status": "failed", "exit_code": 3}}},
        separators=(",", ":")) + "\n"
    path.write_text(filler * 50 + done + filler * 30)
    assert codex_rollout.call_outcome(str(path), "call_9") == {"type": "CommandExecution", "id": "call_9",
                                                               "status": "failed", "exit_code": 3}
    assert codex_rollout.call_outcome(str(path), "call_8") is None
    assert codex_rollout.call_outcome(str(tmp_path / "missing"), "call_9") is None


def test_gemini_chat_log_is_a_whole_session():
    log = gemini_chat.parse_log(str(GEMINI / "chat-session.jsonl"))
    assert log.session == "ea217351-26f1-4feb-8237-aa819df95b8b" and log.skipped == 0
    types = [e["type"] for e in log.events]
    assert types == [ev.SESSION_START, ev.USER_PROMPT, ev.LLM_RESPONSE, ev.TOOL_CALL, ev.TOOL_RESULT,
                     ev.LLM_RESPONSE, ev.TOOL_CALL, ev.TOOL_RESULT, ev.LLM_RESPONSE, ev.ASSISTANT_MESSAGE]
    llm = [e for e in log.events if e["type"] == ev.LLM_RESPONSE]
    # one per model call (the message is written twice), cached tokens kept
    assert len(llm) == 3 and llm[0]["usage"] == {"input": 90, "output": 7, "cache_read": 10}
    assert llm[0]["model"] == "gemini-3.8-flash"
    calls = [e for e in log.events if e["type"] == ev.TOOL_CALL]
    assert [c["tool"] for c in calls] == ["run_shell_command", "write_file"]
    assert calls[1]["data"]["tool_input"]["content"] == "héllo ✓ \"q\" \\ back\nline2\n"


def test_gemini_tool_ids_equal_what_the_hooks_record(tmp_path, monkeypatch):
    log = gemini_chat.parse_log(str(GEMINI / "chat-session.jsonl"))
    monkeypatch.setenv("AGENT_TRACE_DIR", str(tmp_path / "store"))
    from agent_trace.capture import gemini_calls
    from agent_trace.store import Store

    store = Store(str(tmp_path / "store"))
    hooked = []
    for p in payloads(GEMINI):
        for e in events_from_hook(p, None, "gemini"):
            gemini_calls.assign(store, e)
            hooked.append(e)
    hook_ids = {(e["type"], e["id"]) for e in hooked if e["type"] in (ev.TOOL_CALL, ev.TOOL_RESULT)}
    log_ids = {(e["type"], e["id"]) for e in log.events if e["type"] in (ev.TOOL_CALL, ev.TOOL_RESULT)}
    assert hook_ids == log_ids and len(log_ids) == 4


def test_gemini_failed_shell_and_incremental(tmp_path):
    lines = (GEMINI / "chat-session.jsonl").read_text().splitlines(keepends=True)
    rec = json.loads(lines[6])
    rec["toolCalls"][0]["result"][0]["functionResponse"]["response"]["output"] = "Output: x\nExit Code: 2\n"
    lines[6] = json.dumps(rec) + "\n"
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(lines[:6]))
    first = gemini_chat.parse_log(str(path))
    path.write_text("".join(lines))
    rest = gemini_chat.parse_log(str(path), first.end)
    whole = gemini_chat.parse_log(str(path))
    assert [e["id"] for e in first.events + rest.events] == [e["id"] for e in whole.events]
    err = next(e for e in whole.events if e["type"] == ev.TOOL_ERROR)
    assert err["tool"] == "run_shell_command" and err["error"]["message"] == "exit code 2"


@pytest.mark.parametrize("parser", [codex_rollout.parse_log, gemini_chat.parse_log])
def test_parsers_never_crash_on_hostile_lines(tmp_path, parser):
    path = tmp_path / "log.jsonl"
    hostile = [b"\xff\xfe garbage\n", b"null\n", b"[]\n", b'{"type": 5, "payload": []}\n',
               b'{"type": "response_item", "payload": {"type": "function_call"}}\n',
               b'{"id": 3, "type": "gemini", "toolCalls": "x", "tokens": "y"}\n',
               b'{"$set": "x"}\n', b'{"type": "event_msg", "payload": {"type": "task_complete"}}\n',
               b'{"id": "m", "type": "gemini", "toolCalls": [{"status": "success"}, 7], "tokens": {"input": "1"}}\n',
               b'{"sessionId": ["x"]}\n', b"[" * 5000 + b"\n"]
    path.write_bytes(b"".join(hostile))
    log = parser(str(path), final=True)
    assert log.end == path.stat().st_size and log.skipped >= 3


def test_parsers_work_on_copies_of_real_logs(tmp_path):
    shutil.copy(CODEX / "rollout.jsonl", tmp_path / "r.jsonl")
    again = codex_rollout.parse_log(str(tmp_path / "r.jsonl"))
    again2 = codex_rollout.parse_log(str(tmp_path / "r.jsonl"))
    assert [e["id"] for e in again.events] == [e["id"] for e in again2.events]


def test_gemini_compaction_only_when_the_chat_restarted(tmp_path):
    """Gemini restarts its chat on the same file after it compressed the
    history (a ``$set`` of sessionId mid-log); PreCompress alone is nothing."""
    lines = (GEMINI / "chat-session.jsonl").read_text().splitlines(keepends=True)
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(lines))
    assert not [e for e in gemini_chat.parse_log(str(path)).events if e["type"] == ev.COMPACT]
    restart = json.dumps({"$set": {"sessionId": "ea217351-26f1-4feb-8237-aa819df95b8b",
                                   "lastUpdated": "2026-12-01T20:17:00.000Z"}}) + "\n"
    path.write_text("".join(lines) + restart)
    (c,) = [e for e in gemini_chat.parse_log(str(path)).events if e["type"] == ev.COMPACT]
    assert c["name"] == "ChatCompressed" and c["ts"].startswith("2026-12-01T20:17:00")


def test_hook_import_takes_llm_turns_once_and_leaves_the_rest_to_a_whole_import(tmp_path):
    """The Stop hook's import (agent_import: LLM turns only, under the hook's
    session id) keeps a cursor of its own: a later `import` of the same log
    still brings the whole session, and nothing is written twice."""
    from agent_trace.capture import agent_import, log_import
    from agent_trace.capture.log_parsers import parser_for
    from agent_trace.store.paths import Store
    from agent_trace.store.reader import iter_events
    from agent_trace.store.sink import FileSink

    store = Store(str(tmp_path / ".agent-traces"))
    sink = FileSink(store)
    log = tmp_path / "rollout.jsonl"
    shutil.copy(CODEX / "rollout.jsonl", log)
    session = "01a2333f-e54c-7d01-9642-0ad828850087"
    assert agent_import.import_log(store, sink, "codex", str(log), session, final=True) == 2
    assert agent_import.import_log(store, sink, "codex", str(log), session, final=True) == 0
    got = list(iter_events(store.path_for(session)))
    assert [e["type"] for e in got] == [ev.LLM_RESPONSE, ev.LLM_RESPONSE] and {e["session"] for e in got} == {session}
    whole = log_import.import_log(store, sink, str(log), session, final=True, parse=parser_for("codex"))
    assert whole.events == 6  # the rest of the session; the two LLM turns were there already
    types = [e["type"] for e in iter_events(store.path_for(session))]
    assert types.count(ev.LLM_RESPONSE) == 2 and ev.TOOL_CALL in types and len(types) == 8


def test_gemini_wrong_typed_values_cost_their_line(tmp_path):
    lines = (GEMINI / "chat-session.jsonl").read_text().splitlines(keepends=True)
    whole = gemini_chat.parse_log(str(GEMINI / "chat-session.jsonl"))
    for idx, change in ((6, lambda r: r.update(toolCalls=5)), (6, lambda r: r.update(toolCalls=True)),
                        (6, lambda r: r["toolCalls"][0]["result"][0].update(functionResponse="x")),
                        (6, lambda r: r["toolCalls"][0]["result"][0].update(functionResponse=[1])),
                        (4, lambda r: r["tokens"].update(input=10 ** 400)), (4, lambda r: r.update(model=[1])),
                        (4, lambda r: r.update(timestamp="9999-12-31T23:59:59.999Z"))):
        rec = json.loads(lines[idx])
        change(rec)
        path = tmp_path / "chat.jsonl"
        path.write_text("".join(lines[:idx] + [json.dumps(rec) + "\n"] + lines[idx + 1:]))
        log = gemini_chat.parse_log(str(path))
        assert log.end == path.stat().st_size and len(log.events) >= len(whole.events) - 2
        for e in log.events:
            assert e.get("model") is None or isinstance(e["model"], str)
            assert not e["ts"].startswith("9999")
            assert all(0 <= v <= 1 << 53 for v in (e.get("usage") or {}).values())


def test_codex_token_counts_beyond_any_real_one_are_left_out(tmp_path):
    lines = (CODEX / "rollout.jsonl").read_text().splitlines(keepends=True)
    rec = json.loads(lines[10])
    rec["payload"]["usage"]["input_tokens"] = 10 ** 400
    path = tmp_path / "r.jsonl"
    path.write_text("".join(lines[:10] + [json.dumps(rec) + "\n"] + lines[11:]))
    log = codex_rollout.parse_log(str(path))
    assert all(0 <= v <= 1 << 53 for e in log.events for v in (e.get("usage") or {}).values())
    assert ev.usage(input=10 ** 400, output=-1, cache_read=7) == {"cache_read": 7}


@pytest.mark.parametrize("parser,fixture", [(codex_rollout.parse_log, CODEX / "rollout.jsonl"),
                                            (gemini_chat.parse_log, GEMINI / "chat-session.jsonl")])
def test_an_over_long_line_costs_its_line_only(tmp_path, monkeypatch, parser, fixture):
    from agent_trace.capture import agent_log

    lines = fixture.read_bytes().splitlines(keepends=True)
    monkeypatch.setattr(agent_log, "MAX_LINE", max(len(x) for x in lines) + 1)
    big = b'{"x":"' + b"y" * (3 * agent_log.MAX_LINE) + b'"}\n'
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(lines[:2] + [big] + lines[2:]))
    log = parser(str(path))
    assert log.end == path.stat().st_size and log.skipped == 1
    assert [e["id"] for e in log.events] == [e["id"] for e in parser(str(fixture)).events]
    path.write_bytes(b"".join(lines) + big[:-1])  # over-long and still being written: left for later
    assert parser(str(path)).end == len(b"".join(lines))


@pytest.mark.parametrize("parser,fixture", [(codex_rollout.parse_log, CODEX / "rollout.jsonl"),
                                            (gemini_chat.parse_log, GEMINI / "chat-session.jsonl")])
def test_a_parse_in_read_limited_chunks_equals_one_parse(parser, fixture):
    whole = parser(str(fixture))
    events, start, size = [], 0, fixture.stat().st_size
    while start < size:
        part = parser(str(fixture), start, limit=1)  # one line a call
        assert part.end > start
        events += part.events
        start = part.end
    assert [(e["id"], e.get("tool"), e.get("status")) for e in events] == \
        [(e["id"], e.get("tool"), e.get("status")) for e in whole.events]  # tools and outcomes carried over
