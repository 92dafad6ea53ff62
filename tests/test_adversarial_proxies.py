"""The MCP stdio proxy and the LLM HTTP proxy against lying framing, garbage
upstreams and hostile clients: what is forwarded is logged, every exchange
gets an outcome, answers are HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_trace import event as ev
from agent_trace.capture.llm_wire import LlmObserver
from agent_trace.capture.mcp_frames import FrameSplitter
from agent_trace.proxy.http_forward import ChunkedDecoder, ReverseProxy
from agent_trace.store.sink import MemorySink
from conftest import read_session
from tests.support.adversarial import FAST, SLOW

# -- MCP stdio framing ------------------------------------------------------------------

MESSAGES = st.lists(st.dictionaries(st.sampled_from(["jsonrpc", "id", "method", "params"]),
                                    st.integers() | st.text(max_size=20), min_size=1, max_size=4),
                    min_size=1, max_size=6)
FRAMINGS = st.sampled_from(["ndjson", "crlf", "lf", "lie-long", "lie-short", "garbage-length"])


def frame(msg: bytes, how: str) -> bytes:
    if how == "ndjson":
        return msg + b"\n"
    if how == "crlf":
        return b"Content-Length: %d\r\n\r\n" % len(msg) + msg
    if how == "lf":
        return b"Content-Length: %d\n\n" % len(msg) + msg
    if how == "lie-long":
        return b"Content-Length: %d\r\n\r\n" % (len(msg) + 10_000) + msg + b"\n"
    if how == "lie-short":
        return b"Content-Length: %d\r\n\r\n" % max(1, len(msg) // 2) + msg + b"\n"
    return b"Content-Length: lots\r\n\r\n" + msg + b"\n"


@FAST
@given(MESSAGES, st.lists(FRAMINGS, min_size=6, max_size=6), st.integers(1, 64))
def test_every_forwarded_message_reaches_the_log(messages, framings, chunk):
    bodies = [json.dumps(m, separators=(",", ":")).encode() for m in messages]
    stream = b"".join(frame(b, framings[i]) for i, b in enumerate(bodies)) + b'{"sentinel":1}\n'
    s = FrameSplitter()
    got = []
    for i in range(0, len(stream), chunk):
        got += s.feed(stream[i:i + chunk])
    got += s.stale(now=time.monotonic() + 60)
    logged = b"".join(raw for raw, _ in got)
    for b in bodies:
        assert b in logged, (b, framings)
    for i, b in enumerate(bodies):
        if framings[i] in ("ndjson", "crlf", "lf"):
            assert json.loads(b) in [p for _, p in got], framings[i]


def test_a_lying_length_does_not_blind_the_log():
    for lie in (b"Content-Length: 99999\r\n\r\n", b"Content-Length: 99999\n\n"):
        s = FrameSplitter()
        got = s.feed(lie + b'{"id":1,"method":"a"}\n{"id":2,"method":"b"}\n')
        got += s.feed(b'{"id":3,"method":"c"}\n')
        assert [p["id"] for _, p in got if isinstance(p, dict)] == [1, 2, 3]
        s = FrameSplitter()
        got = s.feed(lie + b'{"id":1}' + b"Content-Length: 8\r\n\r\n" + b'{"id":2}')
        assert [p for _, p in got if isinstance(p, dict)] == [{"id": 1}, {"id": 2}]


def test_lf_only_and_unterminated_headers_are_understood_or_logged_raw():
    s = FrameSplitter()
    assert [p for _, p in s.feed(b'Content-Length: 8\n\n{"id":1}{"id":2}\n')] == [{"id": 1}, {"id": 2}]
    s = FrameSplitter()
    got = s.feed(b"Content-Length: 5" + b"x" * 2000 + b'\n{"id":3}\n')
    assert got[-1][1] == {"id": 3} and got[0][1] is None


def test_big_honest_frames_arriving_in_pieces_are_not_rescanned():
    s = FrameSplitter()
    body = json.dumps({"blob": "y" * 3_000_000}).encode()
    data = b"Content-Length: %d\r\n\r\n" % len(body) + body
    got = []
    for i in range(0, len(data), 4096):
        got += s.feed(data[i:i + 4096])
    assert len(got) == 1 and got[0][1] == {"blob": "y" * 3_000_000}


def test_stdio_proxy_logs_messages_after_a_lying_header_while_running(trace_dir):
    proc = subprocess.Popen([sys.executable, "-m", "agent_trace", "record", "--session", "lie", "--", "cat"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"Content-Length: 1000000\r\n\r\n" + b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
        proc.stdin.flush()
        proc.stdout.read1(65536)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # still running: the log already has the message
            try:
                events = read_session(trace_dir, "lie")
            except FileNotFoundError:
                events = []
            if any(e.get("method") == "ping" for e in events if e["type"] == ev.MCP_MESSAGE):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the message after a lying Content-Length was forwarded but never logged")
        assert proc.poll() is None
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


# -- LLM HTTP proxy ----------------------------------------------------------------------

class ScriptedUpstream:
    """A raw-socket upstream answering each request with ``reply`` bytes, then closing."""

    def __init__(self):
        self.reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


@pytest.fixture
def llm_proxy():
    up = ScriptedUpstream()
    sink = MemorySink()
    px = ReverseProxy(up.url, LlmObserver(sink, "px", "px", up.url), prefix_base=True).start()
    yield up, px, sink
    px.stop()
    up.close()


def send(px, data: bytes, timeout: float = 20) -> bytes:
    with socket.create_connection(("127.0.0.1", px.port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
        return out


def post(body=b"{}", headers=b"", path=b"/v1/chat/completions") -> bytes:
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + headers + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def ended(sink, n=1, timeout=10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [e for e in sink.events if e["type"] in (ev.LLM_RESPONSE, ev.GENERIC) and e.get("parent")]
        if len(done) >= n:
            return done
        time.sleep(0.05)
    raise AssertionError(f"only {len(done)} exchange(s) have an outcome in the log")


@pytest.mark.parametrize("length", [b"abc", b"-5", b"+3", b"0x10", b"1 2"])
def test_a_client_with_a_garbage_content_length_gets_a_400(llm_proxy, length):
    _, px, _ = llm_proxy
    out = send(px, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n{}")
    assert out.startswith(b"HTTP/1.1 400 ") and b"Content-Length" in out


def test_conflicting_lengths_are_refused(llm_proxy):
    _, px, _ = llm_proxy
    out = send(px, b"POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
    assert out.startswith(b"HTTP/1.1 400 ")
    out = send(px, b"POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}")
    assert out.startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize("reply", [b"garbage\r\n\r\n", b"\x00\xff" * 50, b"HTTP/1.1 OK\r\n\r\n",
                                   b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}",
                                   b"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n{}",
                                   b"HTTP/1.1 200 OK\r\nbad\r\n\r\n"])
def test_upstream_garbage_is_a_502_with_a_logged_outcome(llm_proxy, reply):
    up, px, sink = llm_proxy
    up.reply = reply
    out = send(px, post())
    assert out.startswith(b"HTTP/1.1 502 "), out[:80]
    done = ended(sink)  # logged now, not at exit
    assert done[0]["status"] == ev.ERROR and done[0]["data"]["status"] == 502


def test_a_bad_chunk_size_does_not_drop_the_bytes_before_it(llm_proxy):
    up, px, sink = llm_proxy
    up.reply = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n")
    out = send(px, post())
    assert out.startswith(b"HTTP/1.1 200 ") and b"hello" in out
    done = ended(sink)
    assert "hello" in json.dumps(done[0]["data"]) and "bad chunk size" in done[0]["error"]["message"]
    dec = ChunkedDecoder()
    assert dec.feed(b"3\r\nabc\r\nq\r\n") == b"abc" and dec.error


def test_query_values_and_non_json_bodies_are_not_stored_in_the_clear(llm_proxy):
    _, px, sink = llm_proxy
    key = "AIza" + "Sy" + "B1c2D3e4F5g6H7i8J9k0L1m2N3o4P5q6R"
    send(px, post(body=b"password=hunter2&note=plain", path=b"/v1beta/models/m:generate?key=" + key.encode()
                  + b"&alt=sse&sig=abcd"))
    done = ended(sink)
    req = next(e for e in sink.events if e["type"] == ev.LLM_REQUEST)
    text = json.dumps(sink.events)
    assert key not in text and "hunter2" not in text and "abcd" not in text
    assert req["data"]["path"].endswith("?key=[REDACTED]&alt=sse&sig=[REDACTED]")
    assert req["data"]["body"] == {"raw_text": "password=[REDACTED]&note=plain"}
    assert done


@SLOW
@given(st.binary(max_size=300))
def test_any_upstream_bytes_get_an_answer_and_an_outcome(llm_proxy, reply):
    up, px, sink = llm_proxy
    before = len([e for e in sink.events if e.get("parent")])
    up.reply = reply
    out = send(px, post())
    assert out.startswith(b"HTTP/1.1 "), out[:60]
    ended(sink, before + 1)


def test_record_does_not_store_secrets_from_the_server_command_line(trace_dir):
    key = "xyz" + "9" * 20
    r = subprocess.run([sys.executable, "-m", "agent_trace", "record", "--session", "argv", "--", "sh", "-c",
                        "cat >/dev/null", "srv", "--api-key", key, "postgresql://app:Pw0rd2x@db/main",
                        f"--token={key}"], input=b"", capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    start = read_session(trace_dir, "argv")[0]
    line = json.dumps(start)
    assert key not in line and "Pw0rd2x" not in line
    assert start["data"]["command"][:5] == ["sh", "-c", "cat >/dev/null", "srv", "--api-key"]
    assert "postgresql://app:[REDACTED]@db/main" in start["data"]["command"]
