"""``agent-strace mcp`` with the official MCP Python SDK client."""

import asyncio
import json
import os
import sys

import pytest

from conftest import fixture_payloads, run_cli

pytest.importorskip("mcp", reason="the mcp SDK is in the [dev] extra")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

SESSION = "e8f720b7-94ae-4a8c-bae2-3ba0f907bf8b"


def test_sdk_client_queries_history(trace_dir):
    for p in fixture_payloads():
        run_cli("hook", input=json.dumps(p).encode())

    async def main():
        params = StdioServerParameters(command=sys.executable, args=["-m", "agent_trace", "mcp"],
                                       env={**os.environ, "AGENT_TRACE_DIR": str(trace_dir)})
        async with stdio_client(params) as (r, w):
            async with ClientSession(r, w) as s:
                init = await s.initialize()
                tools = {t.name for t in (await s.list_tools()).tools}
                listed = await s.call_tool("list_sessions", {"limit": 5})
                found = await s.call_tool("search_events", {"query": "does-not-exist", "type": "tool"})
                summary = await s.call_tool("session_summary", {"session": "latest"})
                diff = await s.call_tool("diff_sessions", {"a": SESSION, "b": SESSION})
                missing = await s.call_tool("session_summary", {"session": "nope"})
                return init, tools, listed, found, summary, diff, missing

    init, tools, listed, found, summary, diff, missing = asyncio.run(asyncio.wait_for(main(), 30))
    assert tools == {"list_sessions", "search_events", "session_summary", "diff_sessions"}
    data = json.loads(listed.content[0].text)
    assert data["sessions"][0]["session"] == SESSION and data["sessions"][0]["tool_calls"] == 8
    matches = json.loads(found.content[0].text)["matches"]
    assert matches and all(m["type"].startswith("tool.") for m in matches)
    assert any("does-not-exist" in m["line"] for m in matches)
    s = json.loads(summary.content[0].text)
    assert s["summary"]["tool_errors"] == 3 and "Phase 1" in s["explanation"]
    assert json.loads(diff.content[0].text)["verdict"] == "same"
    is_error = getattr(missing, "is_error", None)
    assert (missing.isError if is_error is None else is_error) and "no session matches" in missing.content[0].text
