"""The LLM capture proxy with the real openai and anthropic SDKs against
scripted upstreams: the SDK sees exactly what a direct call gives, the log
holds the exact bytes and the usage."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agent_trace import event as ev
from agent_trace.capture.llm_wire import LlmObserver
from agent_trace.proxy.http_forward import ReverseProxy
from agent_trace.store.sink import FileSink
from agent_trace.store import Store

from conftest import read_session
from support.anthropic_stub import Stub as AnthropicStub
from support.openai_stub import OpenAIStub

openai = pytest.importorskip("openai", reason="the openai SDK is in the [dev] extra")
anthropic = pytest.importorskip("anthropic", reason="the anthropic SDK is in the [dev] extra")

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}]


def proxy_for(upstream: str, trace_dir, session="wire"):
    obs = LlmObserver(FileSink(Store(str(trace_dir))), session, session, upstream)
    return ReverseProxy(upstream, obs, prefix_base=True)


def llm_events(trace_dir, session="wire"):
    events = read_session(trace_dir, session)
    return ([e for e in events if e["type"] == ev.LLM_REQUEST], [e for e in events if e["type"] == ev.LLM_RESPONSE])


def chat(base_url, stream, tools=None):
    client = openai.OpenAI(base_url=base_url, api_key="sk-test-not-a-real-key-000000000000")
    kw = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    if tools:
        kw["tools"] = tools
    if not stream:
        return client.chat.completions.create(**kw).model_dump()
    out = [c.model_dump() for c in client.chat.completions.create(stream=True, stream_options={"include_usage": True},
                                                                 **kw)]
    return out


@pytest.mark.parametrize("stream", [False, True])
def test_openai_chat_through_proxy_matches_direct(trace_dir, stream):
    with OpenAIStub() as up:
        direct = chat(up.url, stream, TOOLS)
        with proxy_for(up.url, trace_dir) as px:
            proxied = chat(px.url + "/v1", stream, TOOLS)
        assert proxied == direct
        reqs, resps = llm_events(trace_dir)
        assert len(reqs) == len(resps) == 1
        assert reqs[0]["data"]["body"] == up.requests[-1]["body"]  # the request, unchanged
        r = resps[0]
        assert r["model"] == "gpt-4o-mini" and r["usage"] == {"input": 100, "output": 30, "cache_read": 20}
        assert r["data"]["status"] == 200 and r["data"]["headers"]["x-request-id"].startswith("req_stub")
        if stream:
            assert r["data"]["sse"].encode() == up.sent[-1]  # the exact bytes
            msg = r["data"]["message"]["choices"][0]["message"]
            assert msg["content"] == "Hello from the scripted model "
            assert msg["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
            assert r["data"]["stop_reason"] == "tool_calls"
        else:
            assert r["data"]["body"]["choices"][0]["message"]["tool_calls"][0]["id"] == "call_1"
        raw = (trace_dir / "sessions" / "wire.jsonl").read_text()
        assert "sk-test-not-a-real-key" not in raw and "authorization" not in raw.lower()


def test_openai_responses_and_embeddings(trace_dir):
    with OpenAIStub() as up, proxy_for(up.url, trace_dir) as px:
        client = openai.OpenAI(base_url=px.url + "/v1", api_key="sk-x")
        r1 = client.responses.create(model="gpt-4.1", input="hi")
        events = list(client.responses.create(model="gpt-4.1", input="hi", stream=True))
        emb = client.embeddings.create(model="text-embedding-3-small", input="hi")
        assert r1.output_text == "Hello from the scripted model"
        assert events[-1].type == "response.completed" and emb.data[0].embedding == [0.1, 0.2, 0.3]
    reqs, resps = llm_events(trace_dir)
    assert [r["name"] for r in resps] == ["openai.responses", "openai.responses", "openai.embeddings"]
    assert resps[0]["usage"] == resps[1]["usage"] == {"input": 50, "output": 10}
    assert resps[1]["data"]["message"]["status"] == "completed"


def anthropic_call(base_url, stream):
    client = anthropic.Anthropic(base_url=base_url, api_key="sk-ant-test-not-real-000000000000000000")
    kw = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "weather task"}]}
    if not stream:
        return client.messages.create(**kw).model_dump()
    with client.messages.stream(**kw) as s:
        return s.get_final_message().model_dump()


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_messages_through_proxy_matches_direct(trace_dir, stream):
    steps = {"weather task": [[{"text": "Checking."}, {"tool": "get_weather", "input": {"city": "Paris"}}]]}
    with AnthropicStub(steps) as up:
        direct = anthropic_call(up.url, stream)
        with proxy_for(up.url, trace_dir) as px:
            proxied = anthropic_call(px.url, stream)
    for m in (direct, proxied):  # ids are minted per call by the stub
        m.pop("id")
        for b in m["content"]:
            b.pop("id", None)
    assert proxied == direct
    reqs, resps = llm_events(trace_dir)
    r = resps[0]
    assert r["usage"] == {"input": 1000, "output": 50, "cache_read": 200, "cache_write": 100}
    assert r["model"] == up.model and r["data"]["stop_reason"] == "tool_use"
    if stream:
        content = r["data"]["message"]["content"]
        assert content[1]["input"] == {"city": "Paris"} and content[0]["text"] == "Checking."
    assert "sk-ant-test" not in (trace_dir / "sessions" / "wire.jsonl").read_text()


def test_hostile_upstreams(trace_dir):
    import time

    with OpenAIStub() as up, proxy_for(up.url, trace_dir) as px:
        client = openai.OpenAI(base_url=px.url + "/v1", api_key="sk-x", max_retries=0)

        def call(model, mode, stream=False):
            return client.chat.completions.create(model=model, messages=[], stream=stream,
                                                  extra_headers={"x-stub-mode": mode})

        # 500: reaches the client unchanged and is recorded
        with pytest.raises(openai.InternalServerError):
            call("m-500", "error500")
        # gzip, stream and not: the client decodes, the log holds the decoded text
        g = call("m-gzip", "gzip")
        chunks = list(call("m-gzip-stream", "gzip", stream=True))
        # slow drip: chunks arrive one by one through the proxy
        t = [time.monotonic() for _ in call("m-drip", "drip", stream=True)]
        # abrupt close mid-stream
        with pytest.raises(openai.APIConnectionError):
            list(call("m-cut", "cut", stream=True))
        time.sleep(0.2)
    assert g.choices[0].message.content.startswith("Hello") and len(chunks) > 3
    assert t[-1] - t[0] > 0.2  # streamed as it dripped, not buffered
    reqs, resps = llm_events(trace_dir)
    by = {r["model"]: r for r in resps}
    assert by["m-500"]["status"] == "error" and by["m-500"]["error"]["message"] == "upstream exploded"
    assert by["m-500"]["data"]["status"] == 500
    assert by["m-gzip"]["data"]["body"]["choices"][0]["message"]["content"].startswith("Hello")
    assert "Hello" in by["m-gzip-stream"]["data"]["sse"] and by["m-gzip-stream"]["usage"]["output"] == 30
    assert by["m-drip"]["status"] == "ok"
    cut = by["m-cut"]
    assert cut["status"] == "error" and cut["data"].get("partial") and "Hello" in cut["data"]["sse"]


def test_32_concurrent_streams_all_captured_none_mixed(trace_dir):
    with OpenAIStub(mode="drip") as up, proxy_for(up.url, trace_dir) as px:
        results = {}

        def one(i):
            client = openai.OpenAI(base_url=px.url + "/v1", api_key="sk-x")
            text = "".join((c.choices[0].delta.content or "") if c.choices else ""
                           for c in client.chat.completions.create(
                               model=f"model-{i}", messages=[{"role": "user", "content": f"call {i}"}],
                               stream=True))
            results[i] = text

        threads = [threading.Thread(target=one, args=(i,)) for i in range(32)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
    assert len(results) == 32 and all(v.startswith("Hello") for v in results.values())
    reqs, resps = llm_events(trace_dir)
    assert len(reqs) == len(resps) == 32
    by_parent = {r["id"]: r for r in reqs}
    for resp in resps:
        req = by_parent[resp["parent"]]
        assert resp["model"] == req["data"]["body"]["model"]  # each answer logged with its own request
        assert resp["data"]["message"]["choices"][0]["message"]["content"].startswith("Hello")


def test_async_sdk_and_session_header(trace_dir):
    with OpenAIStub() as up:
        obs = LlmObserver(FileSink(Store(str(trace_dir))), "default-session", None, up.url)
        with ReverseProxy(up.url, obs, prefix_base=True) as px:
            async def main():
                client = openai.AsyncOpenAI(base_url=px.url + "/v1", api_key="sk-x",
                                            default_headers={"x-agent-strace-session": "from-header"})
                return await client.chat.completions.create(model="m", messages=[])
            asyncio.run(main())
    assert llm_events(trace_dir, "from-header")[1][0]["usage"]["output"] == 30


def test_client_disconnect_mid_stream_leaves_a_partial_response(trace_dir):
    import http.client
    import time

    with OpenAIStub(mode="drip") as up, proxy_for(up.url, trace_dir) as px:
        conn = http.client.HTTPConnection("127.0.0.1", px.port)
        conn.request("POST", "/v1/chat/completions", '{"model": "m-gone", "stream": true, "messages": []}',
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 200
        r.read1(65536)  # the first bytes of the stream
        conn.sock.close()  # the client goes away while the model is still talking
        conn.close()
        time.sleep(1.0)
    reqs, resps = llm_events(trace_dir)
    (gone,) = [r for r in resps if r["model"] == "m-gone"]
    assert gone["status"] == "error" and gone["data"]["partial"]
    assert gone["error"]["message"].startswith("client disconnected")
