"""Replay servers and cassette tools, with real peers: a real Claude Code
re-run offline against ``serve --llm``, the openai SDK against it, the MCP
SDK client against ``serve --mcp``; ``cassette from-session`` and ``diff``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request

import pytest
from conftest import read_session, run_cli
from support.anthropic_stub import Stub
from support.claude_code import claude_bin, claude_env
from support.openai_stub import OpenAIStub
from support.processes import Background, free_port, wait_port

from agent_trace import event as ev
from agent_trace.cassette import use_cassette

openai = pytest.importorskip("openai", reason="the openai SDK is in the [dev] extra")
PROMPT = "write the notes and show them"
KEY = "sk-test-not-a-real-key-000000000000"


def _tool_uses(trace_dir, session) -> list:
    out = []
    for e in read_session(trace_dir, session):
        if e["type"] == ev.LLM_RESPONSE and e["source"] == "llm-proxy":
            msg = e["data"].get("message") or e["data"].get("body") or {}
            out += [(b["name"], b["input"]) for b in msg.get("content", []) if b.get("type") == "tool_use"]
    return out


def _claude_under_run(project, home, base_url, trace_dir):
    env = claude_env(home, base_url, {"AGENT_TRACE_DIR": str(trace_dir)})
    r = subprocess.run([sys.executable, "-m", "agent_trace", "run", "--", claude_bin(), "-p", PROMPT,
                        "--output-format", "json", "--allowedTools", "Write,Bash"],
                       cwd=project, env=env, capture_output=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def test_real_claude_code_replays_offline_against_serve_llm(tmp_path):
    project, home = tmp_path / "proj", tmp_path / "home"
    project.mkdir()
    home.mkdir()
    notes = project / "notes.txt"
    steps = {PROMPT: [[{"tool": "Write", "input": {"file_path": str(notes), "content": "replayed line\n"}}],
                      [{"tool": "Bash", "input": {"command": "cat notes.txt", "description": "show"}}],
                      [{"text": "All done: the notes say 'replayed line'."}]]}
    with Stub(steps) as stub:
        first = _claude_under_run(project, home, stub.url, tmp_path / "t1")
    assert first["result"] == "All done: the notes say 'replayed line'."
    tools_first = _tool_uses(tmp_path / "t1", first["session_id"])
    assert [t[0] for t in tools_first] == ["Write", "Bash"]

    cassette = tmp_path / "claude.json"
    r = run_cli("--trace-dir", str(tmp_path / "t1"), "cassette", "from-session", first["session_id"],
                "-o", str(cassette))
    assert r.returncode == 0, r.stderr
    assert b"http" in r.stdout
    assert "sk-ant-test-dummy" not in cassette.read_text()

    notes.unlink()  # the scripted API is gone; only the cassette answers now
    port = free_port()
    with Background([sys.executable, "-m", "agent_trace", "serve", "--llm", str(cassette), "--port", str(port)],
                    stderr=subprocess.PIPE) as srv:
        wait_port(port, proc=srv.proc)
        second = _claude_under_run(project, home, f"http://127.0.0.1:{port}", tmp_path / "t2")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            health = json.loads(resp.read())
    assert second["result"] == first["result"]
    assert _tool_uses(tmp_path / "t2", second["session_id"]) == tools_first
    assert notes.read_text() == "replayed line\n"  # the replayed tool calls really ran
    assert health["unplayed"] == 0


def test_openai_sdk_against_serve_llm_streams_and_all(tmp_path):
    cassette = tmp_path / "oa.json"

    def calls(url):
        c = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
        one = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "a"}])
        two = [x.model_dump() for x in c.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "b"}], stream=True,
            stream_options={"include_usage": True})]
        return one.model_dump(), two

    with OpenAIStub() as up, use_cassette(cassette):
        live = calls(up.url)
    port = free_port()
    with Background([sys.executable, "-m", "agent_trace", "serve", "--llm", str(cassette), "--port", str(port),
                     "--strict"]) as srv:
        wait_port(port, proc=srv.proc)
        assert calls(f"http://127.0.0.1:{port}/v1") == live
        c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0)
        with pytest.raises(openai.APIStatusError) as err:  # strict: a new call is an error naming the closest
            c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "zzz"}])
        assert err.value.status_code == 400 and "already played" in str(err.value)


def test_mcp_session_from_the_proxy_replays_with_serve_mcp(tmp_path):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    server = [sys.executable, str(os.path.join(os.path.dirname(__file__), "support", "mcp_echo_server.py"))]
    store = tmp_path / "st"

    async def session(cmd, args):
        params = StdioServerParameters(command=cmd, args=args, env={**os.environ, "AGENT_TRACE_DIR": str(store)})
        async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            tools = sorted(t.name for t in (await s.list_tools()).tools)
            ok = (await s.call_tool("echo", {"text": "hello"})).content[0].text
            bad = await s.call_tool("fail", {"reason": "no"})
            bad_flag = getattr(bad, "is_error", None)
            return tools, ok, bool(bad.isError if bad_flag is None else bad_flag), bad.content[0].text

    live = asyncio.run(session(sys.executable, ["-m", "agent_trace", "record", "--session", "mcp-rec", "--",
                                                *server]))
    cassette = tmp_path / "mcp.json"
    r = run_cli("--trace-dir", str(store), "cassette", "from-session", "mcp-rec", "-o", str(cassette))
    assert r.returncode == 0, r.stderr
    replayed = asyncio.run(session(sys.executable, ["-m", "agent_trace", "serve", "--mcp", str(cassette)]))
    assert replayed == live and live[1] == "HELLO" and live[2] is True


def test_cassette_diff_shows_new_dropped_changed_and_tokens(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"

    def chat(url, *texts):
        c = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
        for t in texts:
            c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": t}])

    with OpenAIStub() as up:
        with use_cassette(a):
            chat(up.url, "one", "two")
        with use_cassette(b):
            chat(up.url, "one", "TWO", "three")
    r = run_cli("cassette", "diff", str(a), str(b), "--json")
    out = json.loads(r.stdout)
    assert out["same"] == 1 and len(out["changed"]) == 1 and len(out["new"]) == 1 and out["dropped"] == []
    assert "TWO" in out["changed"][0]["b"]
    assert out["token_delta"] == {"cache_read": 20, "input": 100, "output": 30}
    r = run_cli("cassette", "diff", str(a), str(b), "--fail-on-change")
    assert r.returncode == 4 and b"~ changed" in r.stdout and b"+ new" in r.stdout and b"tokens:" in r.stdout
    assert run_cli("cassette", "diff", str(a), str(a), "--fail-on-change").returncode == 0
    r = run_cli("cassette", "diff", str(a), str(tmp_path / "missing.json"))
    assert r.returncode == 2 and b"no such cassette" in r.stderr


def test_sdk_session_becomes_a_cassette_of_function_calls(tmp_path, trace_dir):
    from agent_trace.cassette import replay
    from agent_trace.sdk import session, trace_tool

    runs = []

    @trace_tool(name="lookup")
    def lookup(city: str) -> dict:
        runs.append(city)
        if city == "Atlantis":
            raise LookupError("no such city")
        return {"city": city, "temp": 21}

    with session("sdk-run", session_id="sdk-run"):
        lookup("Paris")
        with pytest.raises(LookupError):
            lookup("Atlantis")
    cassette = tmp_path / "sdk.json"
    r = run_cli("cassette", "from-session", "sdk-run", "-o", str(cassette))
    assert r.returncode == 0, r.stderr
    assert b"2 function" in r.stdout
    runs.clear()
    with replay(cassette):
        assert lookup("Paris") == {"city": "Paris", "temp": 21}
        with pytest.raises(LookupError, match="no such city"):
            lookup("Atlantis")
    assert runs == []
