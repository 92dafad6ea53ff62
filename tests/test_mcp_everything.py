"""The official MCP Python SDK client, through our proxies, to npm
@modelcontextprotocol/server-everything over stdio, Streamable HTTP and SSE.

The same scenario runs direct and proxied; the client must see the same
thing, and the log must hold the conversation."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.request

import pytest

from agent_trace import event as ev

from conftest import read_session
from support.mcp_everything import everything_bin, start_everything_http
from support.mcp_scenario import exercise
from support.processes import Background, free_port, wait_port

pytestmark = pytest.mark.e2e
pytest.importorskip("mcp", reason="the mcp SDK is in the [dev] extra")

from mcp import StdioServerParameters  # noqa: E402
from mcp.client.sse import sse_client  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402


def run(coro_factory, timeout=60):
    return asyncio.run(asyncio.wait_for(coro_factory(), timeout))


async def over_stdio(command, args):
    async with stdio_client(StdioServerParameters(command=command, args=args, env=dict(os.environ))) as (r, w):
        return await exercise(r, w)


async def over_http(url, mode):
    cm = streamable_http_client(url) if mode == "streamableHttp" else sse_client(url)
    async with cm as streams:
        return await exercise(streams[0], streams[1])


def proxy_for(url, session, trace_dir):
    port = free_port()
    bg = Background([sys.executable, "-m", "agent_trace", "record", "--url", url, "--port", str(port),
                     "--session", session, "--name", "everything"],
                    env={**os.environ, "AGENT_TRACE_DIR": str(trace_dir)})
    wait_port(port, proc=bg.proc)
    return bg, f"http://127.0.0.1:{port}" + url[url.index("/", 8):]


def check_log(events, transport):
    msgs = [e for e in events if e["type"] == ev.MCP_MESSAGE]
    requests = {(e["direction"], e.get("method")) for e in msgs if e["name"] == "request"}
    for m in ("initialize", "tools/list", "tools/call", "resources/list", "resources/read",
              "prompts/list", "prompts/get"):
        assert ("client->server", m) in requests, (transport, m)
    # server-to-client requests and the client's answers, paired
    assert ("server->client", "sampling/createMessage") in requests
    assert ("server->client", "elicitation/create") in requests
    answered = [e for e in msgs if e["name"] == "response" and e["direction"] == "client->server"]
    assert {e.get("method") for e in answered} >= {"sampling/createMessage", "elicitation/create"}
    assert all(e.get("parent") and e["duration_ms"] >= 0 for e in msgs if e["name"] == "response")
    init = next(e for e in msgs if e["name"] == "response" and e.get("method") == "initialize")
    assert init["data"]["result"]["serverInfo"]["name"] == "mcp-servers/everything"
    assert "protocolVersion" in init["data"]["result"]
    tools_list = next(e for e in msgs if e["name"] == "response" and e.get("method") == "tools/list")
    assert any(t["name"] == "echo" and "inputSchema" in t for t in tools_list["data"]["result"]["tools"])
    notes = {e.get("method") for e in msgs if e["name"] == "notification"}
    assert "notifications/progress" in notes and "notifications/initialized" in notes
    calls = {e["tool"] for e in events if e["type"] == ev.TOOL_CALL}
    assert {"mcp__everything__echo", "mcp__everything__get-sum"} <= calls
    results = [e for e in events if e["type"] == ev.TOOL_RESULT]
    assert any("Echo: hello" in json.dumps(e["data"]) for e in results)
    assert events[0]["type"] == ev.SESSION_START and events[-1]["type"] == ev.SESSION_END


def test_stdio_direct_and_proxied_agree(trace_dir):
    exe = str(everything_bin())
    direct = run(lambda: over_stdio(exe, ["stdio"]))
    proxied = run(lambda: over_stdio(sys.executable, ["-m", "agent_trace", "record", "--name", "everything",
                                                      "--session", "ev-stdio", "--", exe, "stdio"]))
    assert proxied == direct and direct["sampling"] and direct["elicitation"] and direct["progress"]
    check_log(read_session(trace_dir, "ev-stdio"), "stdio")


@pytest.mark.parametrize("mode", ["streamableHttp", "sse"])
def test_http_direct_and_proxied_agree(trace_dir, mode):
    server, url = start_everything_http(mode)
    with server:
        direct = run(lambda: over_http(url, mode))
        proxy, proxied_url = proxy_for(url, f"ev-{mode}", trace_dir)
        with proxy:
            proxied = run(lambda: over_http(proxied_url, mode))
    assert proxied == direct and direct["sampling"] and direct["progress"]
    events = read_session(trace_dir, f"ev-{mode}")
    check_log(events, mode)
    http = [e for e in events if e["type"] == ev.GENERIC and e["name"] == "http"]
    assert http and all(e["data"]["status"] for e in http)
    if mode == "streamableHttp":
        assert any("mcp-session-id" in {k.lower() for k in e["data"]["response_headers"]} for e in http)
    else:
        assert any("endpoint" in e["data"] for e in http)


def test_secret_headers_never_reach_the_log(trace_dir):
    server, url = start_everything_http("streamableHttp")
    with server:
        proxy, purl = proxy_for(url, "ev-secret", trace_dir)
        with proxy:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"}}}).encode()
            req = urllib.request.Request(purl, data=body, method="POST", headers={
                "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                "Authorization": "Bearer super-secret-token-value-123", "Cookie": "sid=cookie-secret"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert resp.status == 200
                resp.read()
    raw = (trace_dir / "sessions" / "ev-secret.jsonl").read_text()
    assert "super-secret-token-value-123" not in raw and "cookie-secret" not in raw
    assert '"initialize"' in raw
