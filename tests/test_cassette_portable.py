"""Portable cassettes without a network: moving recorded folders (strings,
JSON, SSE streams cut mid-path), the conversation view that tolerates drift
but not a changed decision, where agents say they work, fork points."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_trace.capture import llm_reassemble as ra
from agent_trace.capture.agent_env import places_in_request
from agent_trace.cassette.conversation import conversation, drift, latest_user_text
from agent_trace.cassette.fork import ForkError, ForkPoint
from agent_trace.cassette.workspace import PathMap, Places, clean
from agent_trace.proxy.sse import SSEParser

A = Places("/home/ana/proj", "/home/ana")
B = Places("/ci/build 42/src", "/root")


def test_a_folder_is_replaced_only_as_a_whole_path_prefix():
    pm = PathMap(A, B)
    assert pm.text("/home/ana/proj/src/app.py") == "/ci/build 42/src/src/app.py"
    assert pm.text("cd /home/ana/proj && ls") == "cd /ci/build 42/src && ls"
    assert pm.text("work in /home/ana/proj.") == "work in /ci/build 42/src."
    assert pm.text("/home/ana/.bashrc and ~/x") == "/root/.bashrc and ~/x"
    assert pm.text("/home/ana/project/x") == "/root/project/x"  # not in the workspace, in the home
    for same in ("/home/anabel/proj/x", "/x/home/ana/proj/a", "home/ana/proj", "/home/anabel", "proj/a"):
        assert pm.text(same) == same
    assert PathMap(Places("/home/ana/proj"), B).text("/home/ana/proj.json") == "/home/ana/proj.json"
    assert pm.text("/home/ana/.claude/projects/-home-ana-proj/memory/") == \
        "/root/.claude/projects/-ci-build-42-src/memory/"  # Claude Code's project slug moves too
    assert PathMap(A).text("/home/ana/proj/a /home/ana/b") == "<workspace>/a <home>/b"


def test_roots_that_cannot_be_mapped_safely_are_not():
    assert clean("/") is None and clean("relative/dir") is None and clean("") is None and clean(None) is None
    assert clean("C:\\") is None and clean("C:\\Users\\ana") == "C:\\Users\\ana"
    assert clean("/a\nb") is None and clean("/tmp/x/") == "/tmp/x"
    assert not PathMap(Places("/", "/"), B) and not PathMap(A, A)
    odd = Places("/tmp/a+b(c)[d]*", None)  # regex characters are literal
    assert PathMap(odd, Places("/w", None)).text("/tmp/a+b(c)[d]*/f and /tmp/aab") == "/w/f and /tmp/aab"


_SEG = st.text("abcXYZ019._-", min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))


@settings(max_examples=200, deadline=None)
@given(st.lists(_SEG, min_size=1, max_size=4), st.text(" \n\"'`=:()<>,;", max_size=3))
def test_property_paths_under_the_root_move_and_come_back(tail, before):
    rel = "/".join(tail)
    there = PathMap(A, B).text(f"{before}/home/ana/proj/{rel}")
    assert there == f"{before}/ci/build 42/src/{rel}"
    assert PathMap(B, A).text(there) == f"{before}/home/ana/proj/{rel}"


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("/homeanprojx. -_\n\"")), max_size=60))
def test_property_text_without_the_folders_is_left_alone(s):
    pm = PathMap(A, B)
    if "/home/ana" not in s and "-home-ana-proj" not in s:
        assert pm.text(s) == s
    assert PathMap(A, A).text(s) == s


def _anthropic_sse(blocks) -> list[str]:
    """A streamed message whose tool input and text arrive cut in three."""
    ev = [("message_start", {"type": "message_start", "message": {"id": "m1", "type": "message", "role": "assistant",
                                                                    "content": [], "usage": {"input_tokens": 1}}})]
    for i, b in enumerate(blocks):
        if b["type"] == "tool_use":
            raw = json.dumps(b["input"])
            ev.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                "type": "tool_use", "id": "t1", "name": b["name"], "input": {}}}))
            parts = [raw[:20], raw[20:27], raw[27:]]
            ev += [("content_block_delta", {"type": "content_block_delta", "index": i,
                                            "delta": {"type": "input_json_delta", "partial_json": p}}) for p in parts]
        else:
            kind = b["type"]
            ev.append(("content_block_start", {"type": "content_block_start", "index": i,
                                               "content_block": {"type": kind, kind: ""}}))
            text = b[kind]
            delta = "thinking_delta" if kind == "thinking" else "text_delta"
            ev += [("content_block_delta", {"type": "content_block_delta", "index": i,
                                            "delta": {"type": delta, kind: text[j:j + 9]}})
                   for j in range(0, len(text), 9)]
        ev.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    ev.append(("message_stop", {"type": "message_stop"}))
    return [f"event: {n}\ndata: {json.dumps(d)}\n\n" for n, d in ev]


def _reassemble(chunks, api="anthropic.messages") -> dict:
    parser, stream = SSEParser(), ra.stream_for(api)
    for c in chunks:
        for e in parser.feed(c.encode()):
            if e["data"] and e["data"] != "[DONE]":
                stream.feed(e["event"], json.loads(e["data"]))
    return stream.result()


def test_a_stream_cut_mid_path_is_joined_mapped_and_put_back():
    chunks = _anthropic_sse([
        {"type": "thinking", "thinking": "I will write /home/ana/proj/notes.txt"},
        {"type": "text", "text": "Writing /home/ana/proj/notes.txt now."},
        {"type": "tool_use", "name": "Write", "input": {"file_path": "/home/ana/proj/notes.txt", "content": "x"}}])
    moved = PathMap(A, B).stream(chunks)
    msg = _reassemble(moved)
    assert msg["content"][0]["thinking"] == "I will write /home/ana/proj/notes.txt"  # signed: untouched
    assert msg["content"][1]["text"] == "Writing /ci/build 42/src/notes.txt now."
    assert msg["content"][2]["input"] == {"file_path": "/ci/build 42/src/notes.txt", "content": "x"}
    assert len(moved) == len(chunks)  # event for event: the stream keeps its shape
    assert PathMap(B, Places("/elsewhere", None)).stream(chunks) is chunks  # nothing to move: unchanged
    whole = ["".join(chunks)]  # chunks as an SDK received them (not cut at events)
    assert _reassemble(PathMap(A, B).stream(whole)) == msg


def test_openai_streams_and_bodies_move_too():
    args = json.dumps({"path": "/home/ana/proj/a.py"})
    def chunk(part):
        call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "read", "arguments": part}}
        return f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'tool_calls': [call]}}]})}\n\n"

    chunks = [chunk(args[:15]), chunk(args[15:]), "data: [DONE]\n\n"]
    msg = _reassemble(PathMap(A, B).stream(chunks), "openai.chat")
    assert json.loads(msg["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]) == \
        {"path": "/ci/build 42/src/a.py"}
    body = {"json": {"content": [{"type": "tool_use", "input": {"file_path": "/home/ana/proj/x"}},
                                 {"type": "thinking", "thinking": "/home/ana/proj"}]}}
    out = PathMap(A, B).response({"status": 200, "body": body})
    assert out["body"]["json"]["content"][0]["input"]["file_path"] == "/ci/build 42/src/x"
    assert out["body"]["json"]["content"][1]["thinking"] == "/home/ana/proj"


# -- the conversation view ---------------------------------------------------------
def _request(system="You are Claude. Today's date is 2026-12-01.", tools=("Write", "Bash"), ids=("toolu_1",),
             result="File created", prompt="write the notes", model="claude-opus-5-5", cache=False):
    reminder = {"type": "text", "text": "<system-reminder>\nAttribution: ...\n</system-reminder>\n"}
    tool_result = {"type": "tool_result", "tool_use_id": ids[0], "content": result}
    if cache:
        tool_result["cache_control"] = {"type": "ephemeral"}
    return {"model": model, "system": [{"type": "text", "text": system}],
            "tools": [{"name": t, "input_schema": {"type": "object"}} for t in tools],
            "metadata": {"user_id": "session-xyz"},
            "messages": [{"role": "user", "content": [reminder, {"type": "text", "text": prompt}]},
                         {"role": "system", "content": "# Environment\n - Primary working directory: /a"},
                         {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"},
                                                           {"type": "tool_use", "id": ids[0], "name": "Write",
                                                            "input": {"file_path": "notes.txt"}}]},
                         {"role": "user", "content": [tool_result]}]}


def test_what_changes_between_versions_and_machines_is_not_a_decision():
    base = conversation(_request())
    for other in (_request(system="You are Claude. Today's date is 2027-01-02."), _request(tools=("Bash", "Write")),
                  _request(ids=("toolu_zz",)), _request(cache=True), _request(model="claude-next")):
        assert conversation(other) == base
    assert drift(_request(), _request(system="new", tools=("Bash", "Write"), model="m2")) == [
        "model claude-opus-5-5 -> m2", "system prompt", "tool list (order or schemas)"]


def test_what_the_agent_decided_is():
    base = conversation(_request())
    assert conversation(_request(result="File NOT created")) != base
    assert conversation(_request(prompt="write the notes twice")) != base
    changed = _request()
    changed["messages"][2]["content"][1]["input"] = {"file_path": "other.txt"}
    assert conversation(changed) != base
    no_tools = _request()
    del no_tools["tools"]
    assert conversation(no_tools) != base  # a side request (titles, summaries) is not the agent loop
    assert latest_user_text(_request()) == "" and latest_user_text(
        {"messages": [{"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"},
                      {"role": "user", "content": "and tomorrow?"}]}) == "and tomorrow?"


def test_openai_chat_and_responses_bodies_have_a_conversation_too():
    chat = {"model": "gpt", "messages": [
        {"role": "system", "content": "today is Monday"}, {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_9", "type": "function", "function": {
            "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_9", "content": "sunny"}]}
    view = conversation(chat)
    assert view["turns"] == [{"role": "user", "text": "weather?"},
                             {"tool_use": "get_weather", "input": {"city": "Paris"}, "call": "call1"},
                             {"tool_result": "call1", "content": "sunny", "is_error": False}]
    responses = {"model": "gpt", "instructions": "be brief", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "weather?"}]},
        {"type": "function_call", "name": "get_weather", "arguments": "{\"city\": \"Paris\"}", "call_id": "fc_1"},
        {"type": "function_call_output", "call_id": "fc_1", "output": "sunny"}]}
    assert conversation(responses)["turns"] == view["turns"]
    assert conversation({"input": "just text"})["turns"] == [{"role": "user", "text": "just text"}]


# -- where agents say they work ------------------------------------------------------
def test_claude_code_and_codex_say_where_they_work():
    main = [json.loads(line) for line in (FIXTURES / "transcript-main.jsonl").read_text().splitlines() if line]
    system = next(e["message"] for e in main if (e.get("message") or {}).get("role") == "system")
    memory = "You have a persistent file-based memory at `/home/dev/.claude/projects/-home-dev-demo/memory/`."
    body = {"system": [{"type": "text", "text": memory}], "messages": [system]}
    assert places_in_request(body) == ("/home/dev/demo", "/home/dev")
    older = {"system": "Here is useful information:\n<env>\nWorking directory: /srv/app\nPlatform: linux\n</env>",
             "messages": []}
    assert places_in_request(older) == ("/srv/app", None)
    codex = {"input": [{"role": "user", "content": [{"type": "input_text", "text":
             "<environment_context>\n  <cwd>/home/dev/demo</cwd>\n  <shell>bash</shell>\n</environment_context>"}]}]}
    assert places_in_request(codex) == ("/home/dev/demo", None)
    # hostile prompts: long runs read back a bounded amount (linear), lines without a path say nothing
    assert places_in_request({"system": "/a" * 100_000 + " /.claude/projects/x"}) == (None, None)
    assert places_in_request({"system": "Working directory: relative/dir\n" + "/.claude/projects/" * 5000})[0] is None
    tools_only = {"tools": [{"description": "Working directory: /not/this"}], "messages": []}
    assert places_in_request(tools_only) == (None, None) and places_in_request("junk") == (None, None)


def test_fork_points_parse_and_resolve():
    assert ForkPoint(3).calls == 3 and ForkPoint("0").calls == 0 and ForkPoint("divergence").divergence
    entries = [{"kind": "http", "request": {"path": "/v1/models", "body": None}},
               {"kind": "http", "request": {"path": "/v1/messages", "body": {"json": {"messages": [
                   {"role": "user", "content": "fix the tests"}]}}}},
               {"kind": "http", "request": {"path": "/v1/messages", "body": {"json": {"messages": [
                   {"role": "user", "content": "fix the tests"}, {"role": "assistant", "content": "done"},
                   {"role": "user", "content": "now the docs"}]}}}}]
    assert ForkPoint("prompt:the docs").resolve(entries).calls == 1
    assert ForkPoint("prompt:fix").resolve(entries).calls == 0
    with pytest.raises(ForkError, match="containing 'nowhere'"):
        ForkPoint("prompt:nowhere").resolve(entries)
    for bad in ("-1", "soon", "prompt:", True, 2.5):
        with pytest.raises(ForkError):
            ForkPoint(bad)


def test_cassette_diff_compares_two_checkouts_of_one_task_equal(tmp_path):
    from agent_trace.cassette import format as fmt

    def one(root, answer):
        return [{"kind": "http", "request": {"method": "POST", "path": "/v1/messages", "body": {"json": {
            "messages": [{"role": "user", "content": f"fix {root}/app.py"}]}}},
            "response": {"status": 200, "body": {"json": {"content": [{"type": "text", "text": answer}]}}}}]

    fmt.save(str(tmp_path / "a.json"), one("/home/ana/proj", "done"), {"root": "/home/ana/proj"})
    fmt.save(str(tmp_path / "b.json"), one("/ci/42/proj", "done"), {"root": "/ci/42/proj"})
    fmt.save(str(tmp_path / "c.json"), one("/ci/42/proj", "not done"), {"root": "/ci/42/proj"})
    same = json.loads(run_cli("cassette", "diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--json").stdout)
    assert same["same"] == 1 and same["changed"] == []
    other = json.loads(run_cli("cassette", "diff", str(tmp_path / "a.json"), str(tmp_path / "c.json"), "--json").stdout)
    assert other["changed"][0]["where"].startswith("response") and "not done" in other["changed"][0]["b"]


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                     lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
                         st.sampled_from(["role", "content", "type", "text", "messages", "input", "tool_calls",
                                          "system", "id", "name", "tool_use_id", "function", "arguments", "delta",
                                          "choices", "index", "partial_json", "thinking"]) | st.text(max_size=5),
                         kids, max_size=5), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_JSON, _JSON)
def test_property_hostile_requests_and_recordings_never_crash_the_readers(a, b):
    """Whatever a request or a recording holds, the views and mappers
    answer (the replay server reads what any client sends)."""
    conversation(a)
    drift(a, b)
    latest_user_text(a)
    places_in_request(a)
    pm = PathMap(Places("/home/ana/proj", "/home/ana"), B)
    pm.json(a)
    pm.response({"status": 200, "body": {"json": a}})
    chunks = [f"event: x\ndata: {json.dumps(a)}\n\n", "data: {not json\n\n", f"data: {json.dumps(b)}\n\n"]
    pm.stream(chunks)
    PathMap(Places("/x/y"), Places("/z")).stream([{"b64": "AAEC"}, "data: /x/y/f\n\n"])


def test_odd_shapes_where_lists_are_expected():
    odd = {"messages": [{"role": "assistant", "content": 5, "tool_calls": 7}], "tools": 3, "system": 9}
    assert conversation(odd) == {"tools": True, "turns": []}
    chunk = "data: " + json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": 5, "content": 1}}]}) + "\n\n"
    assert PathMap(A, B).stream([chunk]) == [chunk]
    from agent_trace.analysis.toolfacts import wire_calls

    for data in ({"message": {"content": 5, "choices": [{"message": {"tool_calls": 3}}], "output": "x"}},
                 {"body": {"choices": 4}}, {"message": "text"}, None):
        assert wire_calls({"data": data}) == []


def test_serve_fork_options_fail_with_one_line(tmp_path):
    from agent_trace.cassette import format as fmt

    path = str(tmp_path / "c.json")
    fmt.save(path, [{"kind": "http", "request": {"method": "POST", "path": "/v1/messages", "body": {"json": {
        "messages": [{"role": "user", "content": "fix it"}]}}}, "response": {"status": 200, "body": {"json": {}}}}])
    for args, says in ((["--llm", path, "--fork-at", "1"], b"--fork-at and --upstream go together"),
                       (["--llm", path, "--fork-at", "prompt:nope", "--upstream", "http://127.0.0.1:9"],
                        b"no recorded model call has a user prompt containing 'nope'"),
                       (["--llm", path, "--fork-at", "soon", "--upstream", "http://127.0.0.1:9"],
                        b"fork point must be a number"),
                       (["--mcp", path, "--workspace", str(tmp_path)], b"are for --llm")):
        r = run_cli("serve", *args)
        assert r.returncode == 2 and says in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr


def test_a_broken_recording_is_answered_with_the_reason_not_dropped():
    import io

    from agent_trace.cassette.core import Cassette
    from agent_trace.cassette.llm_server import Player, request_call

    body = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()
    entries = [{"kind": "http", "request": request_call("POST", "/v1/messages", [], body),
                "response": {"status": 200, "body": {"b64": "a"}}}]  # not base64
    log = io.StringIO()
    reply = Player(Cassette.from_entries(entries, "c.json"), log=log).answer(
        request_call("POST", "/v1/messages", [], body))
    assert reply.status == 400 and b"internal error" in reply.chunks[0] and "internal error" in log.getvalue()
