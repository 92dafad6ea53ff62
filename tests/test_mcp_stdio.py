"""The stdio MCP proxy: byte transparency, lifecycle, and the official SDK client."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from agent_trace import event as ev
from agent_trace.capture.mcp_frames import FrameSplitter

from conftest import REPO, read_session

PROXY = [sys.executable, "-m", "agent_trace", "record"]


def hostile_bytes() -> bytes:
    big = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                      "params": {"name": "x", "arguments": {"blob": "é" * (6 * 1024 * 1024)}}}).encode()
    body = b'{"jsonrpc":"2.0","id":"lsp","method":"initialize"}'
    return b"".join([
        b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n',
        b"this is not json {\n",
        bytes(range(256)) + b"\n",
        b'[{"jsonrpc":"2.0","id":2,"method":"a"},{"jsonrpc":"2.0","method":"notifications/b"}]\n',
        "ünïcødé ✓ 日本語\n".encode(),
        b"Content-Length: %d\r\n\r\n" % len(body) + body,
        big + b"\n",
        b"no trailing newline",
    ])


def test_hostile_bytes_through_cat_come_back_identical(trace_dir):
    data = hostile_bytes()
    assert len(data) > 10 * 1024 * 1024
    r = subprocess.run(PROXY + ["--session", "h", "--", "cat"], input=data, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data
    events = read_session(trace_dir, "h")
    assert events[0]["type"] == ev.SESSION_START and events[-1]["type"] == ev.SESSION_END
    c2s = [e for e in events if e["type"] == ev.MCP_MESSAGE and e["direction"] == "client->server"]
    unparsed = [e for e in c2s if e["name"] == "unparsed"]
    # the non-JSON line, the binary line (its \n byte splits it in two), the text
    # line and the unterminated tail: all kept, as raw bytes
    assert len(unparsed) == 5
    assert sum(1 for e in unparsed if "raw_text" not in e["data"]) >= 1
    assert all(("raw_text" in e["data"]) != ("raw_b64" in e["data"]) for e in unparsed)  # one copy only
    assert any(e["data"].get("raw_text") == "no trailing newline" for e in unparsed)
    assert {e.get("method") for e in c2s} >= {"ping", "a", "notifications/b", "initialize", "tools/call"}


def test_frame_splitter_handles_split_chunks():
    s = FrameSplitter()
    msg = b'{"a":1}\n'
    body = b'{"b":2}'
    framed = b"Content-Length: 7\r\n\r\n" + body
    out = []
    for i in range(0, len(msg + framed), 3):
        out += s.feed((msg + framed)[i:i + 3])
    assert [p for _, p in out] == [{"a": 1}, {"b": 2}]


def test_exit_code_and_stderr_pass_through(trace_dir):
    code = "import sys; sys.stderr.write('server says hi\\n'); sys.stdin.read(); sys.exit(3)"
    r = subprocess.run(PROXY + ["--session", "x", "--", sys.executable, "-c", code], input=b"",
                       capture_output=True, timeout=30)
    assert r.returncode == 3 and b"server says hi" in r.stderr
    end = read_session(trace_dir, "x")[-1]
    assert end["type"] == ev.SESSION_END and end["data"]["exit_code"] == 3


def test_server_ignoring_eof_is_terminated_after_client_closes(trace_dir):
    code = "import signal, time; time.sleep(60)"
    t = time.monotonic()
    r = subprocess.run(PROXY + ["--session", "t", "--", sys.executable, "-c", code], input=b"",
                       capture_output=True, timeout=30)
    elapsed = time.monotonic() - t
    assert r.returncode == 128 + signal.SIGTERM and elapsed < 10
    end = read_session(trace_dir, "t")[-1]
    assert end["type"] == ev.SESSION_END and end["data"]["signal"] == signal.SIGTERM


def test_signal_to_proxy_reaches_server_and_end_is_written(trace_dir):
    code = ("import signal, sys, time\n"
            "signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n")
    p = subprocess.Popen(PROXY + ["--session", "s", "--", sys.executable, "-c", code],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 42
    assert read_session(trace_dir, "s")[-1]["type"] == ev.SESSION_END


def test_official_sdk_client_through_proxy(trace_dir):
    pytest.importorskip("mcp", reason="the mcp SDK is in the [dev] extra")
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    server = str(REPO / "tests" / "support" / "mcp_echo_server.py")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "agent_trace", "record", "--name", "echo", "--session", "sdk", "--", sys.executable, server],
        env={**os.environ})

    async def main():
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                tools = await session.list_tools()
                ok = await session.call_tool("echo", {"text": "hi"})
                bad = await session.call_tool("fail", {"reason": "test"})
                return init, tools, ok, bad

    init, tools, ok, bad = asyncio.run(main())
    assert {t.name for t in tools.tools} == {"echo", "fail"}
    is_error = getattr(bad, "is_error", None)
    if is_error is None:  # mcp 1.x
        is_error = bad.isError
    assert ok.content[0].text == "HI" and is_error
    deadline = time.time() + 10
    while time.time() < deadline:
        events = read_session(trace_dir, "sdk")
        if events and events[-1]["type"] == ev.SESSION_END:
            break
        time.sleep(0.1)
    methods = [e.get("method") for e in events if e["type"] == ev.MCP_MESSAGE and e["name"] == "request"]
    assert methods[:3] == ["initialize", "tools/list", "tools/call"]
    responses = [e for e in events if e["type"] == ev.MCP_MESSAGE and e["name"] == "response"]
    assert all(e.get("parent") and e.get("duration_ms") is not None for e in responses)
    init_resp = next(e for e in responses if e.get("method") == "initialize")
    assert init_resp["data"]["result"]["serverInfo"]["name"] == "echo"
    calls = [e for e in events if e["type"] == ev.TOOL_CALL]
    ends = [e for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)]
    assert [c["tool"] for c in calls] == ["mcp__echo__echo", "mcp__echo__fail"]
    assert calls[0]["data"]["tool_input"] == {"text": "hi"}
    assert [e["type"] for e in ends] == [ev.TOOL_RESULT, ev.TOOL_ERROR]
    assert ends[1]["error"]["message"] == bad.content[0].text  # what the server told the client
    assert events[-1]["type"] == ev.SESSION_END


def test_killed_server_and_killed_client_leave_an_end_event(trace_dir):
    # the server is killed with SIGKILL mid-session
    code = "import os, sys, time; print(os.getpid(), flush=True); time.sleep(60)"
    p = subprocess.Popen(PROXY + ["--session", "k1", "--", sys.executable, "-c", code],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    server_pid = int(p.stdout.readline())
    os.kill(server_pid, signal.SIGKILL)
    assert p.wait(timeout=10) == 128 + signal.SIGKILL
    end = read_session(trace_dir, "k1")[-1]
    assert end["type"] == ev.SESSION_END and end["data"]["signal"] == signal.SIGKILL
    # the client dies mid-message (its end of our stdin closes)
    client = subprocess.Popen([sys.executable, "-c",
                               "import sys, time; sys.stdout.write('{\"jsonrpc\":\"2.0\",\"id\":1,\"meth');"
                               "sys.stdout.flush(); time.sleep(60)"], stdout=subprocess.PIPE)
    p = subprocess.Popen(PROXY + ["--session", "k2", "--", "cat"], stdin=client.stdout, stdout=subprocess.DEVNULL)
    client.stdout.close()
    time.sleep(0.5)
    client.kill()
    assert p.wait(timeout=10) == 0
    events = read_session(trace_dir, "k2")
    assert events[-1]["type"] == ev.SESSION_END
    assert any(e["type"] == ev.MCP_MESSAGE and e["name"] == "unparsed" for e in events)  # the torn message
