"""Whole-session import of Claude Code transcripts (capture/transcript.py),
on the real 2.1.328 captures: every happening once, with the ids the hooks
give the same happenings."""

from __future__ import annotations

import json
import shutil

from agent_trace import event as ev
from agent_trace.analysis.summary import summarize
from agent_trace.capture.hooks import events_from_hook
from agent_trace.capture.log_import import import_log, import_session
from agent_trace.capture.transcript import parse_log
from agent_trace.store import Store
from agent_trace.store.sink import FileSink

from conftest import FIXTURES, fixture_payloads, read_session, run_cli
from test_hooks import SESSION, copy_transcripts

AGENT = "ad3d745db96c336ff"


def imported(trace_dir, tmp_path):
    main = copy_transcripts(tmp_path)
    store = Store(str(trace_dir))
    n = import_session(store, FileSink(store), str(main), SESSION, final=True)
    return n, read_session(trace_dir, SESSION)


def test_whole_session_from_the_real_transcripts(trace_dir, tmp_path):
    n, events = imported(trace_dir, tmp_path)
    assert n == len(events)
    by = {}
    for e in events:
        by.setdefault(e["type"], []).append(e)
    (start,) = by[ev.SESSION_START]
    assert start["data"]["cwd"] == "/home/dev/demo" and start["data"]["version"] == "2.1.328"
    prompts = by[ev.USER_PROMPT]
    assert [p["data"]["prompt"] for p in prompts][0] == "do the scripted task"
    assert prompts[1]["data"]["prompt"].startswith("<task-notification>") and len(prompts) == 2
    calls = by[ev.TOOL_CALL]
    assert [c["tool"] for c in calls if not c.get("agent_id")] == ["Write", "Read", "Edit", "Bash", "Bash",
                                                                   "Grep", "Agent"]
    assert calls[0]["data"]["tool_input"] == {"file_path": "/home/dev/demo/notes.txt", "content": "first line\n"}
    assert [(c["tool"], c["agent_id"]) for c in calls if c.get("agent_id")] == [("Read", AGENT)]
    ends = {e["tool_use_id"]: e for e in by[ev.TOOL_RESULT] + by[ev.TOOL_ERROR]}
    assert set(ends) == {c["tool_use_id"] for c in calls}  # every call paired with its result
    errors = by[ev.TOOL_ERROR]
    assert [e["tool"] for e in errors] == ["Bash", "Bash", "Grep"]
    assert errors[0]["error"]["message"].startswith("Exit code 2\nls: cannot access 'WS'")
    read = next(e for e in by[ev.TOOL_RESULT] if e["tool"] == "Read" and not e.get("agent_id"))
    assert read["data"]["tool_response"]["file"]["content"] == "first line\n"  # the structured result
    assert all(isinstance(e["duration_ms"], int) for e in ends.values())
    llm = by[ev.LLM_RESPONSE]
    assert len(llm) == 11 == len({e["data"]["message_id"] for e in llm})
    assert all(e["usage"] == {"input": 1200, "output": 60, "cache_read": 300, "cache_write": 0} for e in llm)
    assert sum(1 for e in llm if e.get("agent_id") == AGENT) == 2
    assert [e for e in llm if not e.get("agent_id")][-1]["data"]["content"] == [{"type": "text", "text": "Done."}]
    (sub_start,) = by[ev.SUBAGENT_START]
    assert sub_start["agent_type"] == "general-purpose" and sub_start["data"]["prompt"] == "look at notes"
    assert [e["agent_id"] for e in by[ev.SUBAGENT_STOP]] == [AGENT]
    assert [e["data"]["last_assistant_message"] for e in by[ev.TURN_END]] == ["Finished the task.", "Done."]
    assert all(e["name"] == "transcript" and e["source"] == "claude-code" for e in events)
    s = summarize(events)
    assert (s.tool_calls, s.tool_errors, s.llm_calls, s.prompts) == (8, 3, 11, 2)
    assert s.title == "do the scripted task" and s.cwd == "/home/dev/demo"


def test_imported_ids_are_the_hooks_ids(trace_dir, tmp_path):
    """Every hook event with an id derived from the agent's ids has a twin
    in the import: same id, same type."""
    _, events = imported(trace_dir, tmp_path)
    mine = {e["id"]: e["type"] for e in events}
    checked = 0
    for p in fixture_payloads():
        (h,) = events_from_hook(p, None, "claude-code")
        if h["type"] in (ev.SESSION_START, ev.SESSION_END) or (h["type"] == ev.TURN_END and h.get("agent_id")):
            continue  # random ids (no agent id to derive from), or a subagent's Stop
        assert mine.get(h["id"]) == h["type"], (p["hook_event_name"], h.get("tool_use_id"))
        checked += 1
    assert checked == 22


def test_import_after_the_hooks_adds_only_what_they_could_not_see(trace_dir, tmp_path):
    main = copy_transcripts(tmp_path)
    for p in fixture_payloads():
        p.pop("transcript_path", None)  # hooks only: no Stop-time import
        p.pop("agent_transcript_path", None)
        assert run_cli("hook", input=json.dumps(p).encode()).returncode == 0
    hooked = read_session(trace_dir, SESSION)
    store = Store(str(trace_dir))
    import_session(store, FileSink(store), str(main), SESSION, final=True)
    raw = [json.loads(x) for x in open(store.path_for(SESSION), encoding="utf-8")]
    assert len(raw) == len({e["id"] for e in raw})  # nothing written twice
    added = raw[len(hooked):]
    assert {e["type"] for e in added} == {ev.LLM_RESPONSE}  # hooks saw all else
    s = summarize(read_session(trace_dir, SESSION))
    assert (s.tool_calls, s.tool_errors, s.llm_calls, s.prompts) == (8, 3, 11, 2)
    # and again: nothing new
    assert import_session(store, FileSink(store), str(main), SESSION, final=True) == 0


def test_damage_is_skipped_and_counted(tmp_path):
    lines = (FIXTURES / "transcript-main.jsonl").read_bytes().splitlines(keepends=True)
    damaged = [lines[0], b"{not json\n", b'"a string"\n',
               b'{"type":"hologram","sessionId":"x","timestamp":"2026-11-21T19:02:19.000Z"}\n',
               b'{"type":"hologram"}\n', b'{"type":"user","message":{"role":"user","content":"\xff\xfe"}}\n',
               *lines[1:], b'{"type":"assistant","message":{"id":"msg_torn"']
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join(damaged))
    res = parse_log(str(path), final=True)
    assert res.skipped == {"corrupt": 3, "torn": 1, "unknown": 2}
    assert res.unknown_types == {"hologram": 2}
    clean = parse_log(str(FIXTURES / "transcript-main.jsonl"), final=True)
    assert [e["id"] for e in res.events] == [e["id"] for e in clean.events]
    # not final: the torn line is a write in progress, left for next time
    live = parse_log(str(path))
    assert live.skipped["torn"] == 0 and live.end == len(b"".join(damaged[:-1]))


def test_one_response_per_message_with_its_largest_usage(tmp_path):
    """Claude writes one entry per content block, repeating the usage; while
    it streams, earlier blocks may carry partial output counts."""
    base = {"type": "assistant", "sessionId": "s", "requestId": "req_1", "cwd": "/p"}
    entries = []
    for i, (block, out, stop) in enumerate([({"type": "thinking", "thinking": "hm", "signature": "x" * 50}, 5, None),
                                            ({"type": "text", "text": "Let me look."}, 9, None),
                                            ({"type": "tool_use", "id": "toolu_1", "name": "Bash",
                                              "input": {"command": "ls"}}, 30, "tool_use")]):
        entries.append({**base, "uuid": f"u{i}", "timestamp": f"2026-01-01T00:00:0{i}.000Z",
                        "message": {"id": "msg_1", "role": "assistant", "model": "claude-sonnet-4-5",
                                    "content": [block], "stop_reason": stop,
                                    "usage": {"input_tokens": 10, "output_tokens": out,
                                              "cache_read_input_tokens": 100, "cache_creation_input_tokens": 7}}})
    entries.append({"type": "user", "sessionId": "s", "uuid": "u9", "timestamp": "2026-01-01T00:00:04.500Z",
                    "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                                              "content": "a\nb"}]}})
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries))
    res = parse_log(str(path), final=True)
    llm = [e for e in res.events if e["type"] == ev.LLM_RESPONSE]
    assert len(llm) == 1 and llm[0]["usage"] == {"input": 10, "output": 30, "cache_read": 100, "cache_write": 7}
    assert [b["type"] for b in llm[0]["data"]["content"]] == ["thinking", "text", "tool_use"]
    assert "signature" not in llm[0]["data"]["content"][0] and "input" not in llm[0]["data"]["content"][2]
    (call,) = [e for e in res.events if e["type"] == ev.TOOL_CALL]
    (result,) = [e for e in res.events if e["type"] == ev.TOOL_RESULT]
    assert call["data"]["tool_input"] == {"command": "ls"} and result["tool"] == "Bash"
    assert result["duration_ms"] == 2500
    assert [e["type"] for e in res.events][-4:] == [ev.LLM_RESPONSE, ev.TOOL_CALL, ev.TOOL_RESULT, ev.SESSION_END]


def test_incremental_import_reads_only_what_was_appended(trace_dir, tmp_path):
    """Cut the transcript mid-message, import, append the rest, import again:
    the same events as one import of the whole file, each once."""
    src = (FIXTURES / "transcript-main.jsonl").read_bytes()
    lines = src.splitlines(keepends=True)
    cut = next(i for i, x in enumerate(lines) if b'"msg_00009"' in x) + 1  # after a tool_use, before its result
    path = tmp_path / f"{SESSION}.jsonl"
    path.write_bytes(b"".join(lines[:cut]) + lines[cut][:40])  # and half a line
    store = Store(str(trace_dir))
    first = import_log(store, FileSink(store), str(path), SESSION)
    assert first.end == len(b"".join(lines[:cut]))
    with open(path, "ab") as f:
        f.write(lines[cut][40:] + b"".join(lines[cut + 1:]))
    second = import_log(store, FileSink(store), str(path), SESSION, final=True)
    assert second.bytes == len(src) - first.end
    got = read_session(trace_dir, SESSION)
    other = tmp_path / "other"
    other_store = Store(str(other))
    shutil.copy(FIXTURES / "transcript-main.jsonl", tmp_path / "whole.jsonl")
    import_log(other_store, FileSink(other_store), str(tmp_path / "whole.jsonl"), SESSION, final=True)
    want = read_session(other, SESSION)
    assert sorted(e["id"] for e in got) == sorted(e["id"] for e in want)
    result = next(e for e in got if e.get("tool_use_id") == "toolu_00008" and e["type"] == ev.TOOL_ERROR)
    assert result["tool"] == "Bash"  # the call's name carried over between the two imports


def test_compaction_and_meta_entries(tmp_path):
    entries = [
        {"type": "user", "sessionId": "c", "uuid": "a", "promptId": "p1", "timestamp": "2026-01-01T00:00:00.000Z",
         "message": {"role": "user", "content": "first"}},
        {"type": "user", "sessionId": "c", "uuid": "b", "isMeta": True, "timestamp": "2026-01-01T00:00:01.000Z",
         "message": {"role": "user", "content": "Caveat: local command output"}},
        {"type": "system", "subtype": "compact_boundary", "sessionId": "c", "uuid": "d",
         "timestamp": "2026-01-01T00:00:02.000Z", "compactMetadata": {"trigger": "auto", "preTokens": 155000}},
        {"type": "user", "sessionId": "c", "uuid": "e", "isCompactSummary": True,
         "timestamp": "2026-01-01T00:00:03.000Z", "message": {"role": "user", "content": "Summary: we did x"}},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))  # with spaces, as some tools write
    res = parse_log(str(path), final=True)
    types = [e["type"] for e in res.events]
    assert types == [ev.SESSION_START, ev.USER_PROMPT, ev.COMPACT, ev.COMPACT, ev.SESSION_END]
    assert res.events[2]["data"] == {"trigger": "auto", "pre_tokens": 155000, "uuid": "d"}
    assert res.events[3]["data"]["summary"] == "Summary: we did x"


def test_an_over_long_line_is_skipped_without_being_held(tmp_path, monkeypatch):
    from agent_trace.capture import transcript

    lines = (FIXTURES / "transcript-main.jsonl").read_bytes().splitlines(keepends=True)
    longest = max(len(x) for x in lines)
    monkeypatch.setattr(transcript, "MAX_LINE", longest + 1)
    big = b'{"type":"user","message":{"role":"user","content":"' + b"x" * (3 * longest) + b'"}}\n'
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join(lines[:5] + [big] + lines[5:]))
    res = parse_log(str(path), final=True)
    assert res.skipped["corrupt"] == 1 and res.end == path.stat().st_size
    clean = parse_log(str(FIXTURES / "transcript-main.jsonl"), final=True)
    assert [e["id"] for e in res.events] == [e["id"] for e in clean.events]
    # an over-long last line without its newline: a write in progress until the parse is final
    path.write_bytes(b"".join(lines) + big[:-1])
    live = parse_log(str(path))
    assert live.end == len(b"".join(lines)) and live.skipped["torn"] == 0
    done = parse_log(str(path), final=True)
    assert done.end == path.stat().st_size and done.skipped["torn"] == 1


def test_session_end_when_the_read_limit_is_met_at_the_last_line(tmp_path):
    src = FIXTURES / "transcript-main.jsonl"
    size = src.stat().st_size
    last = src.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[1]
    res = parse_log(str(src), final=True, limit=size - len(last))  # the limit is met by the last line
    assert res.end == size and res.events[-1]["type"] == ev.SESSION_END
    cut = parse_log(str(src), final=True, limit=size // 2)  # more to read: the session goes on
    assert cut.end < size and ev.SESSION_END not in [e["type"] for e in cut.events]


def test_wrong_typed_values_cost_their_line(tmp_path):
    base = {"sessionId": "w", "timestamp": "2026-01-01T00:00:00.000Z"}
    entries = [
        {**base, "type": ["user"]},
        {**base, "type": {"a": 1}},
        *({**base, "type": f"hologram-{i}"} for i in range(30)),
        {**base, "type": "user", "promptId": "p1", "message": {"role": "user", "content": "go"}},
        {**base, "type": "assistant", "message": {
            "id": "m1", "role": "assistant", "model": "claude-x", "stop_reason": "tool_use",
            "usage": {"input_tokens": 10 ** 400, "output_tokens": 5},
            "content": [{"type": "tool_use", "id": "t1", "name": [1], "input": {}}]}},
        {**base, "type": "user", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}},
        {**base, "type": "user", "timestamp": "0001-01-01T00:00:00.000Z", "promptId": "p2",
         "message": {"role": "user", "content": "at the dawn of time"}},
    ]
    path = tmp_path / "w.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in entries)
                    + '{"type":"user","message":' + "[" * 10_000 + "]" * 10_000 + "}\n")
    res = parse_log(str(path), final=True)
    assert res.skipped == {"corrupt": 1, "torn": 0, "unknown": 32}
    assert len(res.unknown_types) <= 21 and res.unknown_types["(list)"] == 1 and "(other types)" in res.unknown_types
    by = {e["type"]: e for e in res.events}
    assert "tool" not in by[ev.TOOL_CALL] and "tool" not in by[ev.TOOL_RESULT]
    assert by[ev.LLM_RESPONSE]["usage"] == {"output": 5}
    late = [e for e in res.events if e["type"] == ev.USER_PROMPT][-1]
    assert late["data"]["prompt"] == "at the dawn of time" and not late["ts"].startswith("0001")


def test_a_meta_that_is_not_a_small_regular_file_reads_as_none(tmp_path):
    import os

    from agent_trace.capture.transcript import read_meta

    log = tmp_path / "agent-a.jsonl"
    meta = tmp_path / "agent-a.meta.json"
    meta.write_text('{"agentType":"Explore"}')
    assert read_meta(str(log)) == {"agentType": "Explore"}
    meta.write_text("[" * 50_000 + "]" * 50_000)
    assert read_meta(str(log)) == {}
    meta.write_text('{"a":"' + "x" * (2 << 20) + '"}')
    assert read_meta(str(log)) == {}
    meta.unlink()
    os.mkfifo(meta)  # no writer: a blocking open would hang
    assert read_meta(str(log)) == {}
    meta.unlink()
    meta.symlink_to("/dev/zero")
    assert read_meta(str(log)) == {}
