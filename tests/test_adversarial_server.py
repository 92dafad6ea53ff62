"""The collector and dashboard server against cross-site pages, DNS rebinding,
hostile headers and bodies: refused with a clear answer, nothing stored, no
thread pinned, nothing crashes."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_trace import event as ev
from agent_trace.server.app import Collector, make_server
from agent_trace.server.http_guard import Refusal, RequestGuard, content_length
from agent_trace.store import Store
from agent_trace.store.reader import ReadStats, iter_events
from tests.support.adversarial import FAST


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = Store(str(tmp_path_factory.mktemp("srv") / "store"))
    collector = Collector(store, timeout=1.0)
    srv = make_server(collector, "127.0.0.1", 0)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv, store
    srv.shutdown()
    srv.server_close()


def raw(srv, data: bytes, timeout: float = 10.0) -> bytes:
    with socket.create_connection(srv.server_address[:2], timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                n = next((int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(
                    b"content-length:")), None)
                if n is not None and len(body) >= n:
                    break
        return out


def request(srv, method="POST", path="/v1/events", body=b"", headers=None, host=None) -> tuple[int, dict, bytes]:
    port = srv.server_address[1]
    h = {"Host": f"127.0.0.1:{port}" if host is None else host, "Content-Type": "application/x-ndjson",
         "Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items() if v is not None)
    out = raw(srv, head.encode("latin-1") + b"\r\n" + body)
    status_line, _, rest = out.partition(b"\r\n")
    head_text, _, payload = rest.partition(b"\r\n\r\n")
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in head_text.decode().split("\r\n"))}
    return int(status_line.split()[1]), hdrs, payload


def line(session="s", **fields) -> bytes:
    return json.dumps(ev.make_event(ev.ANNOTATION, session, "t", **fields)).encode() + b"\n"


def stored(store, session) -> list:
    try:
        return list(iter_events(store.path_for(session)))
    except FileNotFoundError:
        return []


def test_simple_cross_origin_posts_are_refused(server):
    srv, store = server
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        code, _, body = request(srv, body=line("xs"), headers={"Content-Type": ctype})
        assert code == 415 and b"Content-Type" in body, (ctype, code)
    code, _, _ = request(srv, body=line("xs"), headers={"Origin": "https://evil.example"})
    assert code == 403
    code, _, _ = request(srv, body=line("xs"), headers={"Origin": "null"})
    assert code == 403
    port = srv.server_address[1]
    code, _, _ = request(srv, body=line("xs"), headers={"Origin": f"http://127.0.0.1:{port + 1}"})
    assert code == 403  # another local page (another port) is another origin
    code, _, _ = request(srv, body=line("xs"), headers={"Sec-Fetch-Site": "cross-site"})
    assert code == 403
    assert stored(store, "xs") == []
    code, _, _ = request(srv, body=line("xs"), headers={"Origin": f"http://127.0.0.1:{port}"})
    assert code == 200 and len(stored(store, "xs")) == 1  # the dashboard itself (same origin) may post


def test_dns_rebinding_hosts_are_refused(server):
    srv, _ = server
    port = srv.server_address[1]
    for host in (f"evil.example:{port}", f"attacker.com:{port}", "169.254.1.1", ""):
        code, _, _ = request(srv, "GET", "/api/sessions", host=host)
        assert code in (400, 421), (host, code)
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        code, _, _ = request(srv, "GET", "/api/sessions", host=host)
        assert code == 200, host


def test_every_answer_forbids_framing(server):
    srv, _ = server
    for method, path in (("GET", "/"), ("GET", "/api/sessions"), ("GET", "/nope"), ("POST", "/v1/events")):
        code, h, _ = request(srv, method, path, body=line() if method == "POST" else b"")
        assert h.get("x-frame-options") == "DENY" and "frame-ancestors 'none'" in h.get("content-security-policy", "")
        assert h.get("x-content-type-options") == "nosniff"


@pytest.mark.parametrize("value, code", [("-1", 400), ("-99999999", 400), ("abc", 400), ("+5", 400), ("0x10", 400),
                                          ("1 2", 400), ("99999999999999999999999", 400), ("999999999999", 413)])
def test_garbage_content_length_is_refused(server, value, code):
    srv, _ = server
    got, _, body = request(srv, body=line(), headers={"Content-Length": value})
    assert got == code and body.startswith(b"{"), (value, got)


def test_idle_and_stalled_connections_are_closed(server):
    srv, _ = server
    for prefix in (b"", b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                   b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 100\r\n\r\n{\"v\""):
        t0 = time.monotonic()
        with socket.create_connection(srv.server_address[:2], timeout=20) as s:
            s.sendall(prefix)
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
        assert time.monotonic() - t0 < 15  # the server's 1 s socket timeout closed it, not ours


@pytest.mark.parametrize("body", [b"{", b'{"resourceSpans": "x"}', b'{"resourceSpans": [{"scopeSpans": [{"spans": '
                                  b'[{"attributes": 5, "startTimeUnixNano": "1e400"}]}]}]}',
                                  b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [5, {"timeUnixNano": '
                                  b'99999999999999999999999999}]}]}]}', b"[" * 100000, b"\xff\xfe"])
def test_malformed_otlp_json_gets_a_400_with_a_body(server, body):
    srv, _ = server
    for kind in ("traces", "logs"):
        code, _, out = request(srv, path=f"/v1/{kind}", body=body, headers={"Content-Type": "application/json"})
        assert code in (200, 400), (body[:40], code)
        assert json.loads(out), out


def test_everything_stored_goes_through_the_encoder(server):
    srv, store = server
    key = "sk-ant-api03-" + "Ab1Cd2Ef3" * 11
    e = ev.make_event(ev.TOOL_CALL, "enc", "x", tool=f"Bash {key}", model=key, name=key,
                      data={"raw_b64": __import__("base64").b64encode(f"x {key} y".encode()).decode(),
                            "n": 1.0})
    body = json.dumps(e).encode().replace(b'"n": 1.0', b'"n": NaN')
    code, _, out = request(srv, body=body + b"\n")
    assert code == 200 and json.loads(out)["accepted"] == 1
    text = open(store.path_for("enc"), "rb").read()
    assert key.encode() not in text and b"NaN" not in text


# -- properties ------------------------------------------------------------------------

@FAST
@given(st.lists(st.binary(max_size=120) | st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(
    st.sampled_from(list(ev.FIELDS)), st.none() | st.integers() | st.text(max_size=10) | st.lists(st.integers()),
    max_size=8)), max_size=6))
def test_any_batch_is_answered_and_leaves_a_readable_store(server, lines):
    srv, store = server
    plain = b"\n".join(lines)
    code, _, out = request(srv, body=gzip.compress(plain), headers={"Content-Encoding": "gzip"})
    assert code == 200, out
    counts = json.loads(out)
    assert counts["accepted"] + counts["duplicates"] + counts["rejected"] == sum(
        1 for x in plain.split(b"\n") if x.strip())
    for f in store.session_files():
        stats = ReadStats()
        list(iter_events(f.path, stats))
        assert stats.corrupt == 0, f.name


header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@FAST
@given(host=header_text, origin=st.none() | header_text, site=st.none() | st.sampled_from(
    ["same-origin", "cross-site", "none", "same-site"]))
def test_guard_decisions_are_total_and_refuse_foreign_hosts(host, origin, site):
    g = RequestGuard("127.0.0.1")
    try:
        g.check_host(host)
        g.check_origin(origin, host, site)
    except Refusal as r:
        assert r.status in (400, 403, 421) and r.message
        return
    name = host.strip().lower().rsplit(":", 1)[0].strip("[]").rstrip(".")
    assert name in ("localhost", "::1") or name.startswith("127.") or name.endswith(".localhost") or \
        name.startswith("::ffff:127.")
    assert site != "cross-site"


@FAST
@given(st.text(max_size=25))
def test_content_length_parsing_is_strict(value):
    try:
        n = content_length(value, 1000)
    except Refusal as r:
        assert r.status in (400, 411, 413)
        return
    assert value.strip().isdigit() and 0 <= n <= 1000


def test_allowed_host_names_are_answered_others_still_refused():
    g = RequestGuard("127.0.0.1", ["traces.internal"])
    g.check_host("traces.internal:7707")
    g.check_host("localhost:7707")
    with pytest.raises(Refusal):
        g.check_host("evil.example:7707")
    g.check_origin("http://traces.internal:7707", "traces.internal:7707")
    with pytest.raises(Refusal):
        g.check_origin("http://evil.example:7707", "traces.internal:7707")
    open_guard = RequestGuard("0.0.0.0")  # bound beyond loopback: a token guards it, any host answers
    open_guard.check_host("collector.example.com")
