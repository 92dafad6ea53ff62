"""Cassettes with the real openai and anthropic SDKs and traced functions:
record once against a scripted server, replay with the server gone."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from support.anthropic_stub import Stub as AnthropicStub
from support.openai_stub import OpenAIStub

from agent_trace.cassette import CassetteDivergence, CassetteUnplayed, record, replay, use_cassette
from agent_trace.sdk import trace_tool

openai = pytest.importorskip("openai", reason="the openai SDK is in the [dev] extra")
anthropic = pytest.importorskip("anthropic", reason="the anthropic SDK is in the [dev] extra")
KEY = "sk-test-not-a-real-key-000000000000"
DEAD = "http://127.0.0.1:9/v1"  # nothing listens: replay must not call out
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def oa(url):
    return openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)


def chat(client, text="weather in Paris?", stream=False, **kw):
    args = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "tools": TOOLS, **kw}
    if stream:
        return [c.model_dump() for c in client.chat.completions.create(
            stream=True, stream_options={"include_usage": True}, **args)]
    return client.chat.completions.create(**args)


def test_openai_record_then_replay_offline_with_sdk_types_and_streams(tmp_path):
    path = tmp_path / "c.json"
    with OpenAIStub() as up:
        with use_cassette(path):  # "once": no file yet, so it records
            live = chat(oa(up.url))
            live_stream = chat(oa(up.url), stream=True)
        n_requests = len(up.requests)
    assert n_requests == 2
    with replay(path):
        again = chat(oa(DEAD))
        again_stream = chat(oa(DEAD), stream=True)
    assert type(again) is type(live) and type(again).__name__ == "ChatCompletion"
    assert again.model_dump() == live.model_dump()
    assert again.choices[0].message.tool_calls[0].function.arguments == '{"city": "Paris"}'
    assert again_stream == live_stream and len(again_stream) >= 6  # the same chunks, as a stream
    text = path.read_text()
    assert KEY not in text and "authorization" not in text.lower()
    doc = json.loads(text)
    assert [e["kind"] for e in doc["entries"]] == ["http", "http"]
    assert doc["entries"][1]["response"]["stream"][0].startswith("data: ")


def test_anthropic_stream_and_async_replay(tmp_path):
    path = tmp_path / "a.json"
    steps = {"weather task": [[{"text": "Checking."}, {"tool": "get_weather", "input": {"city": "Paris"}}]]}
    kw = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "weather task"}]}

    def run(url):
        with anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=0).messages.stream(**kw) as st:
            events = [e.type for e in st]
            final = st.get_final_message()

        async def amain():
            return await anthropic.AsyncAnthropic(base_url=url, api_key=KEY, max_retries=0).messages.create(**kw)
        return events, final, asyncio.run(amain())

    with AnthropicStub(steps) as up, record(path):
        live = run(up.url)
    with replay(path):
        again = run(DEAD[:-3])
    assert again[0] == live[0] and "content_block_delta" in again[0]
    assert again[1].model_dump() == live[1].model_dump() and type(again[1]) is type(live[1])
    assert again[2].model_dump() == live[2].model_dump()
    assert again[1].content[-1].input == {"city": "Paris"}


def test_divergence_names_the_closest_recording_and_the_failing_matcher(tmp_path):
    path = tmp_path / "c.json"
    with OpenAIStub() as up, record(path):
        chat(oa(up.url), "first question")
        chat(oa(up.url), "second question")
    with pytest.raises(CassetteDivergence) as err:
        with replay(path, allow_unplayed=True):
            chat(oa(DEAD), "second questioN")
    msg = str(err.value)
    assert "call #1 POST /v1/chat/completions matches no recording" in msg
    assert "closest recording: #1" in msg and "matchers that failed: body" in msg
    assert "body.json.messages.0.content" in msg and "second question" in msg and "second questioN" in msg
    # played once each: a third call is past the end
    with pytest.raises(CassetteDivergence) as err:
        with replay(path):
            chat(oa(DEAD), "second question")
            chat(oa(DEAD), "first question")  # order does not matter
            chat(oa(DEAD), "first question")
    assert "already played" in str(err.value)
    with replay(path, allow_repeats=True):
        for _ in range(3):
            chat(oa(DEAD), "first question")
        chat(oa(DEAD), "second question")
    with pytest.raises(CassetteUnplayed, match="1 recorded call"):
        with replay(path):
            chat(oa(DEAD), "first question")


def test_modes_once_new_episodes_none_all_and_ignore(tmp_path):
    path = tmp_path / "c.json"
    with OpenAIStub() as up:
        with use_cassette(path, "once"):
            chat(oa(up.url), "a")
        with pytest.raises(CassetteDivergence):  # once + existing file = replay only
            with use_cassette(path, "once", allow_unplayed=True):
                chat(oa(up.url), "b")
        before = len(up.requests)
        with use_cassette(path, "new_episodes"):
            chat(oa(up.url), "a")  # replayed
            chat(oa(up.url), "b")  # recorded
        assert len(up.requests) == before + 1
        assert len(json.loads(path.read_text())["entries"]) == 2
        with use_cassette(path, "all"):
            chat(oa(up.url), "c")
        assert len(json.loads(path.read_text())["entries"]) == 1
    with replay(path, ignore=["body.json.messages.0.content", "body.json.temperature"]):
        chat(oa(DEAD), "anything at all", temperature=0.5)
    with pytest.raises(ValueError, match="record mode"):
        use_cassette(path, "sometimes")


def test_secrets_become_placeholders_that_still_match(tmp_path):
    path = tmp_path / "c.json"
    secret = "sk-ant-api03-Xk3vP9qLm2Rt7wZa8bYc4dNe6fGh1jKs0uVx5yQo-_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefAA"
    with OpenAIStub() as up, record(path):
        chat(oa(up.url), f"use this key: {secret}")
    text = path.read_text()
    assert secret not in text and "<secret:" in text
    with replay(path):
        chat(oa(DEAD), f"use this key: {secret}")
    with pytest.raises(CassetteDivergence):
        with replay(path, allow_unplayed=True):
            chat(oa(DEAD), "use this key: sk-ant-api03-" + "Q" * 95)


def test_transport_errors_are_recorded_and_raised_again(tmp_path):
    path = tmp_path / "c.json"
    with record(path):
        with pytest.raises(openai.APIConnectionError):
            chat(oa(DEAD))
    with replay(path):
        with pytest.raises(openai.APIConnectionError):
            chat(oa("http://127.0.0.1:10/v1"))
    spec = json.loads(path.read_text())["entries"][0]["response"]["exception"]
    assert spec["type"].endswith("ConnectError")


def test_traced_functions_replay_without_running(tmp_path):
    path = tmp_path / "f.json"
    runs = []

    @trace_tool
    def search(query: str) -> dict:
        runs.append(query)
        return {"hits": [query.upper()]}

    @trace_tool
    def lines(n: int):
        for i in range(n):
            runs.append(i)
            yield f"line {i}"

    @trace_tool
    async def fetch(url: str) -> str:
        runs.append(url)
        if "bad" in url:
            raise KeyError(url)
        return "page " + url

    @record(path)
    def first_run():
        out = [search("weather"), list(lines(3)), asyncio.run(fetch("a"))]
        with pytest.raises(KeyError):
            asyncio.run(fetch("bad"))
        return out

    live = first_run()
    assert len(runs) == 6
    runs.clear()
    with replay(path):
        assert asyncio.run(fetch("a")) == "page a"  # any order
        assert [search("weather"), list(lines(3))] == live[:2]
        with pytest.raises(KeyError):
            asyncio.run(fetch("bad"))
    assert runs == []  # nothing ran
    with pytest.raises(CassetteDivergence, match=r"search\(\)"):
        with replay(path, allow_unplayed=True):
            search("other")


def test_replayed_calls_are_still_traced(tmp_path, trace_dir):
    from conftest import read_session

    from agent_trace.sdk import instrument, session, uninstrument

    path = tmp_path / "c.json"
    with OpenAIStub() as up, record(path):
        chat(oa(up.url))
    instrument()
    try:
        with replay(path), session("replayed") as s:
            chat(oa(DEAD))
    finally:
        uninstrument()
    resp = [e for e in read_session(trace_dir, s.id) if e["type"] == "llm.response"]
    assert len(resp) == 1 and resp[0]["usage"]["output"] == 30


# -- portable cassettes, drift and forks, with the anthropic SDK ------------------
WEATHER = {"name": "get_weather", "description": "weather now", "input_schema": {"type": "object"}}
TASK = "weather task"


def agent(url, prompts, weather=lambda city: f"sunny in {city}", system="You are terse. Today is Monday."):
    """A small tool loop: each prompt, then tool calls until the model answers."""
    client = anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=0)
    messages, answers = [], []
    for p in prompts:
        messages.append({"role": "user", "content": p})
        while True:
            m = client.messages.create(model="claude-haiku-4-5", max_tokens=100, system=system, tools=[WEATHER],
                                       messages=messages)
            messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]})
            uses = [b for b in m.content if b.type == "tool_use"]
            if not uses:
                answers.append(m.content[0].text)
                break
            messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": u.id,
                                                          "content": weather(u.input["city"])} for u in uses]})
    return answers


def script(*texts):
    return {TASK: [[{"tool": "get_weather", "input": {"city": "Paris"}}], *[[{"text": t}] for t in texts]]}


@pytest.fixture
def two_turns(tmp_path):
    """A recorded run: a tool call, its answer, a second prompt (3 model calls)."""
    path = tmp_path / "two.json"
    with AnthropicStub(script("It is sunny.", "Tomorrow too.")) as up, record(path):
        assert agent(up.url, [TASK, "and tomorrow?"]) == ["It is sunny.", "Tomorrow too."]
    return path


def test_sdk_fork_after_n_calls_goes_live_and_writes_a_new_cassette(two_turns, tmp_path):
    new = tmp_path / "forked.json"
    with AnthropicStub(script("LIVE rainy.", "LIVE tomorrow."), first_id=900) as live:
        with use_cassette(two_turns, fork_at=1, fork_to=new):
            answers = agent(live.url, [TASK, "and tomorrow?"])
        assert len(live.requests) == 2  # the first call came from the cassette
    assert answers == ["LIVE rainy.", "LIVE tomorrow."]
    recorded, forked = json.loads(two_turns.read_text()), json.loads(new.read_text())
    assert len(forked["entries"]) == 3 and len(recorded["entries"]) == 3  # the source is left alone
    assert forked["entries"][0]["response"] == recorded["entries"][0]["response"]
    assert "msg_stub009" in json.dumps(forked["entries"][1]["response"])  # from the live model
    with replay(new):  # the fork replays as a cassette of its own
        assert agent(DEAD[:-3], [TASK, "and tomorrow?"]) == answers


def test_sdk_fork_at_a_prompt_and_at_the_first_divergence(two_turns, tmp_path):
    with AnthropicStub(script("LIVE rainy.", "LIVE tomorrow."), first_id=900) as live:
        with use_cassette(two_turns, fork_at="prompt:tomorrow", fork_to=tmp_path / "p.json"):
            assert agent(live.url, [TASK, "and tomorrow?"]) == ["It is sunny.", "LIVE tomorrow."]
        assert len(live.requests) == 1
        # the tool now answers differently: call 2 is the first that no recording matches
        with use_cassette(two_turns, fork_at="divergence", fork_to=tmp_path / "d.json"):
            answers = agent(live.url, [TASK, "and tomorrow?"], weather=lambda city: f"rain in {city}")
        assert answers == ["LIVE rainy.", "LIVE tomorrow."] and len(live.requests) == 3
    with pytest.raises(Exception, match="no recorded model call has a user prompt containing 'never said'"):
        with use_cassette(two_turns, fork_at="prompt:never said"):
            pass
    with pytest.raises(ValueError, match="fork point must be"):
        use_cassette(two_turns, fork_at="sometime")


def test_drift_outside_the_decisions_is_tolerated_and_a_changed_decision_is_named(two_turns, capsys):
    with replay(two_turns, tolerate_drift=True):  # another system prompt: the decisions are the same
        assert agent(DEAD[:-3], [TASK, "and tomorrow?"], system="You are terse. Today is Friday.") == [
            "It is sunny.", "Tomorrow too."]
    assert "tolerated changes: system prompt" in capsys.readouterr().err
    # (the anthropic SDK wraps what its transport raises: the divergence is the cause)
    with pytest.raises(anthropic.APIConnectionError) as err:
        with replay(two_turns, allow_unplayed=True):  # without tolerate_drift, any change diverges
            agent(DEAD[:-3], [TASK], system="You are terse. Today is Friday.")
    assert isinstance(err.value.__cause__, CassetteDivergence)
    assert "matchers that failed: body" in str(err.value.__cause__)
    with pytest.raises(anthropic.APIConnectionError) as err:
        with replay(two_turns, tolerate_drift=True, allow_unplayed=True):
            agent(DEAD[:-3], [TASK], weather=lambda city: f"rain in {city}")
    msg = str(err.value.__cause__)
    assert "call #2 POST /v1/messages matches no recording" in msg
    assert ("first difference at conversation.turns.2.content (tool result of get_weather (call1)): "
            "recorded sunny in Paris / now rain in Paris") in msg, msg


def test_a_cassette_recorded_in_one_folder_replays_in_another(tmp_path, monkeypatch):
    """Tool inputs name files in the recording's folder; replayed elsewhere,
    they name the same files in the replaying folder, and requests that
    carry the new folder's paths still match."""
    a, b = tmp_path / "alice" / "proj", tmp_path / "bob" / "src" / "proj"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    path = tmp_path / "w.json"
    steps = {TASK: [[{"tool": "get_weather", "input": {"city": str(a / "city.txt")}}], [{"text": f"saved {a}"}]]}

    def save_to(where):  # the tool writes where the model said, and says so
        Path(where).write_text("sunny\n")
        return f"wrote {where}"

    monkeypatch.chdir(a)
    with AnthropicStub(steps) as up, record(path):
        assert agent(up.url, [TASK], weather=save_to, system=f"You work in {a}.") == [f"saved {a}"]
    assert json.loads(path.read_text())["workspace"]["root"] == str(a)
    (a / "city.txt").unlink()
    monkeypatch.chdir(b)
    with replay(path):
        assert agent(DEAD[:-3], [TASK], weather=save_to, system=f"You work in {b}.") == [f"saved {b}"]
    assert (b / "city.txt").read_text() == "sunny\n" and not (a / "city.txt").exists()


def test_calls_recorded_in_another_folder_are_stored_in_the_cassettes_terms(tmp_path, monkeypatch):
    a, b = tmp_path / "a" / "proj", tmp_path / "b" / "proj"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    path = tmp_path / "c.json"
    with OpenAIStub() as up:
        monkeypatch.chdir(a)
        with use_cassette(path):
            chat(oa(up.url), f"read {a}/x.py")
        monkeypatch.chdir(b)
        with use_cassette(path, "new_episodes"):
            chat(oa(up.url), f"read {b}/x.py")  # the same call, from b: replayed
            chat(oa(up.url), f"read {b}/y.py")  # a new one: recorded
        assert len(up.requests) == 2
    doc = json.loads(path.read_text())
    assert doc["workspace"]["root"] == str(a) and len(doc["entries"]) == 2
    assert str(b) not in path.read_text() and f"{a}/y.py" in path.read_text()
    monkeypatch.chdir(a)
    with replay(path):
        chat(oa(DEAD), f"read {a}/x.py")
        chat(oa(DEAD), f"read {a}/y.py")


def test_a_call_nothing_matches_gets_the_closest_recording_not_the_next_in_order(tmp_path):
    """Real Claude Code's background subagent: its request carries reminders
    that depend on timing, so it matches no recording exactly; it must get the
    subagent's recording, not the main agent's next one (seen in CI: the main
    agent then got the subagent's answer and the replay went astray)."""
    import json as _json

    from agent_trace.cassette.core import Cassette

    def call(first: str, *later: str) -> dict:
        msgs = [{"role": "user", "content": first}]
        for i, text in enumerate(later):
            msgs.append({"role": "assistant" if i % 2 == 0 else "user", "content": text})
        return {"method": "POST", "path": "/v1/messages", "query": "", "host": "api", "headers": {},
                "body": {"json": {"model": "m", "max_tokens": 10, "messages": msgs}}}

    def answer(text: str) -> dict:
        return {"status": 200, "headers": {}, "body": {"json": {"content": [{"type": "text", "text": text}]}}}

    main = call("do the scripted task", "ran Write", "Write ok", "ran Bash", "Bash failed: no such file")
    sub = call("Read the notes and say what they say", "ran Read", "the notes say hello\nmore notes")
    path = tmp_path / "c.json"
    path.write_text(_json.dumps({"agent_strace_cassette": 1, "entries": [
        {"kind": "http", "request": main, "response": answer("main next")},
        {"kind": "http", "request": sub, "response": answer("sub next")}]}))
    live_sub = call("Read the notes and say what they say", "ran Read", "the notes say hello\nmore notes",
                    "<system-reminder>a background task finished</system-reminder>")  # one message more
    with Cassette(str(path), "none", strict=False, allow_unplayed=True) as c:
        played = c.lookup("http", live_sub)
    assert played is not None and played["response"]["body"]["json"]["content"][0]["text"] == "sub next"
