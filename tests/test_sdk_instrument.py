"""Auto-instrumentation of the real openai and anthropic SDKs (sync, async,
streaming) against local scripted servers."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from conftest import read_session
from support.anthropic_stub import Stub as AnthropicStub
from support.openai_stub import OpenAIStub

from agent_trace import event as ev
from agent_trace.sdk import http_intercept, instrument, session, uninstrument

openai = pytest.importorskip("openai", reason="the openai SDK is in the [dev] extra")
anthropic = pytest.importorskip("anthropic", reason="the anthropic SDK is in the [dev] extra")
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
KEY = "sk-test-not-a-real-key-000000000000"


@pytest.fixture
def instrumented():
    instrument()
    yield
    uninstrument()


def _calls(trace_dir, sid):
    events = read_session(trace_dir, sid)
    req = [e for e in events if e["type"] == ev.LLM_REQUEST]
    resp = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    return req, resp


@pytest.mark.parametrize("stream", [False, True])
def test_openai_sync_chat_with_tools(trace_dir, instrumented, stream):
    with OpenAIStub() as up, session("oa") as s:
        client = openai.OpenAI(base_url=up.url, api_key=KEY)
        kw = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "weather in Paris?"}], "tools": TOOLS}
        if stream:
            chunks = list(client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kw))
            assert chunks[-1].usage.prompt_tokens == 120  # the SDK still gets every chunk
        else:
            out = client.chat.completions.create(**kw)
            assert out.choices[0].message.tool_calls[0].function.name == "get_weather"
    req, resp = _calls(trace_dir, s.id)
    assert len(req) == len(resp) == 1
    assert req[0]["source"] == "python-sdk" and req[0]["model"] == "gpt-4o-mini"
    assert req[0]["data"]["body"]["messages"] == [{"role": "user", "content": "weather in Paris?"}]
    assert "authorization" not in {k.lower() for k in req[0]["data"]["headers"]}
    r = resp[0]
    assert r["model"] == "gpt-4o-mini" and r["status"] == "ok"
    assert r["usage"] == {"input": 100, "output": 30, "cache_read": 20}
    msg = (r["data"]["message"] if stream else r["data"]["body"])["choices"][0]["message"]
    assert msg["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    if stream:
        assert r["data"]["sse"].count("data: ") >= 5 and r["data"]["ttfb_ms"] is not None


def test_openai_async_stream_and_responses_api(trace_dir, instrumented):
    async def main(url):
        client = openai.AsyncOpenAI(base_url=url + "/v1", api_key=KEY)
        stream = await client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                      messages=[{"role": "user", "content": "hi"}],
                                                      stream_options={"include_usage": True})
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        r = await client.responses.create(model="gpt-4o-mini", input="hello")
        return text, r.output_text

    with OpenAIStub() as up, session("oa-async") as s:
        text, out = asyncio.run(main(up.url))
    assert text.startswith("Hello from the scripted model") and out
    req, resp = _calls(trace_dir, s.id)
    assert [e["name"] for e in resp] == ["openai.chat", "openai.responses"]
    assert resp[0]["data"]["message"]["choices"][0]["message"]["content"].startswith("Hello from the scripted model")
    assert resp[1]["usage"]["input"] == 50


@pytest.mark.parametrize("mode", ["create", "stream", "async"])
def test_anthropic_messages(trace_dir, instrumented, mode):
    steps = {"weather task": [[{"text": "Let me check."}, {"tool": "get_weather", "input": {"city": "Paris"}}]]}
    kw = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "weather task"}]}
    with AnthropicStub(steps) as up, session("an") as s:
        if mode == "create":
            msg = anthropic.Anthropic(base_url=up.url, api_key=KEY).messages.create(**kw)
        elif mode == "stream":
            with anthropic.Anthropic(base_url=up.url, api_key=KEY).messages.stream(**kw) as st:
                msg = st.get_final_message()
        else:
            async def main():
                return await anthropic.AsyncAnthropic(base_url=up.url, api_key=KEY).messages.create(**kw)
            msg = asyncio.run(main())
        assert msg.content[-1].name == "get_weather"
    req, resp = _calls(trace_dir, s.id)
    assert len(resp) == 1
    r = resp[0]
    assert r["model"] == "claude-sonnet-4-5-20250929" and r["data"]["stop_reason"] == "tool_use"
    assert r["usage"] == {"input": 1000, "output": 50, "cache_read": 200, "cache_write": 100}
    content = (r["data"]["message"] if mode == "stream" else r["data"]["body"])["content"]
    assert content[-1] == {"type": "tool_use", "id": content[-1]["id"], "name": "get_weather",
                           "input": {"city": "Paris"}}
    assert req[0]["data"]["body"]["messages"] == kw["messages"]


def test_nothing_recorded_outside_a_session_and_uninstrument_removes_the_patch(trace_dir):
    httpx2 = importlib.import_module("httpx2")
    original = httpx2.Client.send
    instrument()
    instrument()  # idempotent
    assert httpx2.Client.send is not original and http_intercept.patched()
    with OpenAIStub() as up:
        client = openai.OpenAI(base_url=up.url, api_key=KEY)
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        uninstrument()
        assert httpx2.Client.send is original and not http_intercept.patched()
        with session("after") as s:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert not (trace_dir / "sessions").exists() or _calls(trace_dir, s.id) == ([], [])


def test_errors_are_recorded_and_raised(trace_dir, instrumented):
    with OpenAIStub(mode="error500") as up, session("err") as s:
        client = openai.OpenAI(base_url=up.url, api_key=KEY, max_retries=0)
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        dead = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key=KEY, max_retries=0)
        with pytest.raises(openai.APIConnectionError):
            dead.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    _, resp = _calls(trace_dir, s.id)
    assert [r["status"] for r in resp] == ["error", "error"]
    assert "500" in resp[0]["error"]["message"] or resp[0]["error"].get("type")
    assert "ConnectError" in resp[1]["error"]["message"]
