"""Remote capture: the collector server's ingest, and clients that spool
locally and deliver later, in order, exactly once."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from conftest import FIXTURES, run_cli
from support.collector import Server

from agent_trace import event as ev
from agent_trace.remote.shipper import Shipper
from agent_trace.capture.sink import open_sink
from agent_trace.store.paths import Store
from agent_trace.store.reader import iter_events


def post(url, body: bytes, token=None, gz=False, ctype="application/x-ndjson"):
    headers = {"Content-Type": ctype}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if gz:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def lines(*events) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def stored(root, session) -> list[dict]:
    path = Store(str(root)).path_for(session)
    return list(iter_events(path)) if os.path.exists(path) else []


def test_ingest_auth_limits_and_bad_lines(tmp_path):
    with Server(tmp_path / "srv", token="s3cret", extra=["--max-body", "200000"]) as srv:
        e1 = ev.make_event(ev.TOOL_CALL, "sess-a", "sdk", tool="Read")
        assert post(srv.url + "/v1/events", lines(e1))[0] == 401
        assert post(srv.url + "/v1/events", lines(e1), token="wrong")[0] == 401
        with urllib.request.urlopen(srv.url + "/healthz") as r:
            assert json.loads(r.read())["ok"] is True
        req = urllib.request.Request(srv.url + "/api/sessions")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req)
        assert err.value.code == 401

        body = lines(e1) + b'{"torn": \n' + b"\xff\xfe binary\n" + lines({"id": "x", "type": "t"})
        code, out = post(srv.url + "/v1/events", body, token="s3cret", gz=True)
        assert code == 200 and json.loads(out) == {"accepted": 1, "duplicates": 0, "rejected": 3}
        code, out = post(srv.url + "/v1/events", lines(e1), token="s3cret")
        assert json.loads(out) == {"accepted": 0, "duplicates": 1, "rejected": 0}

        big = lines(ev.make_event(ev.TOOL_CALL, "sess-a", "sdk", data={"x": "y" * 300_000}))
        code, out = post(srv.url + "/v1/events", big, token="s3cret")
        assert code == 413 and b"limit" in out
        bomb = gzip.compress(b"\n" * 5_000_000)  # 5 MB of newlines in a few kB
        req = urllib.request.Request(srv.url + "/v1/events", data=bomb, method="POST", headers={
            "Authorization": "Bearer s3cret", "Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req)
        assert err.value.code == 413

        # a browser trades ?token= for a cookie, then the API answers
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(srv.url + "/?token=s3cret") as r:
            assert b"agent-strace" in r.read()
        with opener.open(srv.url + "/api/sessions") as r:
            assert json.loads(r.read())["sessions"][0]["session"] == "sess-a"
    got = stored(tmp_path / "srv", "sess-a")
    assert [e["id"] for e in got] == [e1["id"]]


def test_server_redacts_what_clients_did_not(tmp_path):
    key = "sk-ant-api03-Xk3vP9qLm2Rt7wZa8bYc4dNe6fGh1jKs0uVx5yQo-_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefAA"
    with Server(tmp_path / "srv") as srv:
        e = {"v": 1, "id": "abc", "ts": ev.now_iso(), "session": "s", "type": "user.prompt",
             "source": "x", "data": {"prompt": f"my key is {key}"}}
        assert post(srv.url + "/v1/events", lines(e))[0] == 200
    raw = open(Store(str(tmp_path / "srv")).path_for("s")).read()
    assert key not in raw and "[REDACTED]" in raw


def _emit_client(root, endpoint, session, n, start=0, drain=30):
    """A capture process: emits ``n`` events through open_sink, then closes."""
    code = (
        "import sys\n"
        "from agent_trace import event as ev\n"
        "from agent_trace.capture.sink import open_sink\n"
        "from agent_trace.store.paths import Store\n"
        f"sink = open_sink(Store({str(root)!r}))\n"
        f"sink.drain_timeout = {drain}\n"
        f"for i in range({start}, {start + n}):\n"
        f"    sink.emit(ev.make_event(ev.TOOL_CALL, {session!r}, 'sdk', tool='T', data={{'seq': i}}))\n"
        "sink.close()\n"
    )
    env = {**os.environ, "AGENT_STRACE_ENDPOINT": endpoint}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_client_spools_while_server_is_down_then_delivers_in_order(tmp_path):
    from support.processes import free_port

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    local = tmp_path / "client"
    r = _emit_client(local, endpoint, "spooled", 300, drain=1)
    assert r.returncode == 0
    assert "spooled" in r.stderr and "agent-strace push" in r.stderr  # says so, does not fail
    assert len(stored(local, "spooled")) == 300  # all kept locally
    with Server(tmp_path / "srv", port=port):
        r = _emit_client(local, endpoint, "spooled", 200, start=300)  # next capture delivers the backlog too
        assert r.returncode == 0, r.stderr
        assert "spooled" not in r.stderr
    got = stored(tmp_path / "srv", "spooled")
    assert [e["data"]["seq"] for e in got] == list(range(500))


def test_push_is_exactly_once_even_when_the_cursor_is_lost(tmp_path):
    local = tmp_path / "client"
    store = Store(str(local))
    sink = open_sink(store)
    for i in range(50):
        sink.emit(ev.make_event(ev.TOOL_CALL, "s1", "sdk", data={"seq": i}))
    with Server(tmp_path / "srv") as srv:
        env = {**os.environ, "AGENT_STRACE_ENDPOINT": srv.url}
        r = run_cli("--trace-dir", str(local), "push", "--json", env=env)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["accepted"] == 50
        for f in (local / "spool").glob("*.cursor.json"):
            f.unlink()  # as if the client crashed before saving its cursor
        r = run_cli("--trace-dir", str(local), "push", "--json", env=env)
        out = json.loads(r.stdout)
        assert (out["accepted"], out["duplicates"]) == (0, 50)
        # a torn line (a writer killed mid-line) waits; the rest goes
        with open(store.path_for("s1"), "ab") as f:
            f.write(b'{"v":1,"id":"half')
        sink.emit(ev.make_event(ev.TOOL_CALL, "s1", "sdk", data={"seq": 50}))
        out = json.loads(run_cli("--trace-dir", str(local), "push", "--json", env=env).stdout)
        assert out["accepted"] == 1 and out["rejected"] == 1
    got = stored(tmp_path / "srv", "s1")
    assert [e["data"]["seq"] for e in got] == list(range(51))
    assert Shipper(store, "http://127.0.0.1:1").pending_bytes() > 0  # another endpoint has its own cursor


def test_push_without_endpoint_or_server(tmp_path):
    r = run_cli("push", env={**os.environ, "AGENT_STRACE_ENDPOINT": ""})
    assert r.returncode == 2 and b"no endpoint" in r.stderr
    r = run_cli("push", "--endpoint", "ftp://x", env={**os.environ, "AGENT_STRACE_ENDPOINT": ""})
    assert r.returncode == 2 and b"http(s) URL" in r.stderr


def test_hooks_ship_without_waiting(tmp_path):
    """The real hook path with AGENT_STRACE_ENDPOINT: events land on the
    server through the detached shipper; with the server down the hook still
    exits 0 at once and the events stay spooled."""
    payloads = [json.loads(x) for x in (FIXTURES / "hook-payloads.jsonl").read_text().splitlines()][:6]
    local = tmp_path / "client"
    with Server(tmp_path / "srv") as srv:
        env = {**os.environ, "AGENT_STRACE_ENDPOINT": srv.url, "AGENT_TRACE_DIR": str(local)}
        for p in payloads:
            p = dict(p, cwd=str(tmp_path))
            r = run_cli("hook", "--cli", "claude", input=json.dumps(p).encode(), env=env)
            assert r.returncode == 0 and r.stdout == b"", r.stderr
        session = payloads[0]["session_id"]
        deadline = time.time() + 15
        while time.time() < deadline and len(stored(tmp_path / "srv", session)) < len(stored(local, session)):
            time.sleep(0.1)
        assert [e["id"] for e in stored(tmp_path / "srv", session)] == [e["id"] for e in stored(local, session)]
    env["AGENT_STRACE_ENDPOINT"] = "http://127.0.0.1:9"  # nothing listens
    t0 = time.perf_counter()
    # (SessionStart again: an event with a fresh id, not one readers keep once)
    r = run_cli("hook", "--cli", "claude", input=json.dumps(dict(payloads[0], cwd=str(tmp_path))).encode(), env=env)
    assert r.returncode == 0 and time.perf_counter() - t0 < 5
    assert len(stored(local, session)) == len(payloads) + 1


def test_server_killed_mid_batch_loses_and_duplicates_nothing(tmp_path):
    """SIGKILL the server while a client streams; restart it; every event
    arrives once, in order."""
    from support.processes import free_port

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    code = (
        "from agent_trace import event as ev\n"
        "from agent_trace.capture.sink import open_sink\n"
        "from agent_trace.store.paths import Store\n"
        "import time\n"
        f"sink = open_sink(Store({str(tmp_path / 'client')!r}))\n"
        "sink.drain_timeout = 60\n"
        "for i in range(6000):\n"
        "    sink.emit(ev.make_event(ev.TOOL_CALL, 'k', 'sdk', data={'seq': i}))\n"
        "    if i % 500 == 0: time.sleep(0.05)\n"
        "sink.close()\n"
    )
    srv = Server(tmp_path / "srv", port=port)
    client = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "AGENT_STRACE_ENDPOINT": endpoint},
                              stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and len(stored(tmp_path / "srv", "k")) < 1000:
        time.sleep(0.02)
    srv.stop(signal.SIGKILL)
    time.sleep(0.5)
    with Server(tmp_path / "srv", port=port):
        assert client.wait(timeout=90) == 0
    got = stored(tmp_path / "srv", "k")
    assert [e["data"]["seq"] for e in got] == list(range(6000))


def test_hook_path_with_an_endpoint_stays_lean(tmp_path):
    """With AGENT_STRACE_ENDPOINT the hook process itself still imports no
    HTTP, gzip or json machinery: the forked shipper does that."""
    code = (
        "import sys, io;"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(b'{\"session_id\":\"s\",\"hook_event_name\":\"PostToolUse\"}'));"
        "from agent_trace.cli import main; main(['hook']);"
        "print(sorted(m for m in ('argparse','re','json','gzip','http.client','hashlib','tempfile',"
        "'agent_trace.remote.shipper') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "AGENT_TRACE_DIR": str(tmp_path), "AGENT_STRACE_ENDPOINT": "http://127.0.0.1:9"})
    assert out.stdout.strip() == "[]", out


def test_mcp_proxy_delivers_everything_by_its_exit(tmp_path):
    """A long-running capture (the MCP stdio proxy) with an endpoint: the
    events, down to the session end, reach the server by the time it exits."""
    import asyncio

    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    server = os.path.join(os.path.dirname(__file__), "support", "mcp_echo_server.py")
    with Server(tmp_path / "srv") as srv:
        env = {**os.environ, "AGENT_TRACE_DIR": str(tmp_path / "local"), "AGENT_STRACE_ENDPOINT": srv.url}

        async def run():
            params = StdioServerParameters(command=sys.executable, env=env, args=[
                "-m", "agent_trace", "record", "--session", "mcp-remote", "--", sys.executable, server])
            async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                return (await s.call_tool("echo", {"text": "far"})).content[0].text

        assert asyncio.run(run()) == "FAR"
        deadline = time.time() + 10
        local = stored(tmp_path / "local", "mcp-remote")
        while time.time() < deadline and len(stored(tmp_path / "srv", "mcp-remote")) < len(local):
            time.sleep(0.1)
            local = stored(tmp_path / "local", "mcp-remote")
    remote = stored(tmp_path / "srv", "mcp-remote")
    assert [e["id"] for e in remote] == [e["id"] for e in local]
    assert remote[-1]["type"] == ev.SESSION_END


def test_a_malformed_endpoint_is_reported_and_capture_goes_on(tmp_path):
    payload = {"session_id": "bad-endpoint", "hook_event_name": "UserPromptSubmit", "prompt": "hi",
               "cwd": str(tmp_path)}
    r = run_cli("hook", input=json.dumps(payload).encode(),
                env={**os.environ, "AGENT_TRACE_DIR": str(tmp_path / "st"), "AGENT_STRACE_ENDPOINT": "ftp://nope"})
    assert r.returncode == 0 and b"must be an http(s) URL" in r.stderr
    assert len(stored(tmp_path / "st", "bad-endpoint")) == 1
