"""Hostile input against the daemon's surface: request checks as properties,
and random requests and payloads against a real daemon process."""

from __future__ import annotations

import json
import os
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_trace.daemon import guard
from agent_trace.store.reader import ReadStats, iter_events

from support.daemon import PrivateDaemon

SECRET = "k1BAf7xATiMBprByHyck4tDWEQ7z2TtG6q_OZHa4Bk8"
PORT = 47391
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=80)


@given(auth=header_text, host=header_text, origin=st.none() | header_text)
def test_only_the_exact_secret_from_loopback_without_origin_passes(auth, host, origin):
    headers = {"Authorization": auth, "Host": host}
    if origin is not None:
        headers["Origin"] = origin
    ok = guard.check_request(headers, tcp=True, port=PORT, secret=SECRET) is None
    expected = (auth[:7].lower() == "bearer " and auth[7:].strip() == SECRET and origin is None
                and host.strip().lower() in (f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}"))
    assert ok == expected


@given(secret_tail=st.text(min_size=0, max_size=3))
def test_a_near_secret_is_refused(secret_tail):
    given_secret = SECRET[:-3] + secret_tail
    headers = {"Authorization": f"Bearer {given_secret}", "Host": f"127.0.0.1:{PORT}"}
    assert (guard.check_request(headers, tcp=True, port=PORT, secret=SECRET) is None) == (given_secret == SECRET)


@given(ctype=st.one_of(header_text, st.just("application/json")),
       length=st.one_of(st.none(), header_text, st.integers(-10, 2**70).map(str),
                        st.sampled_from(["+5", "1_0", " 7 "])))
def test_body_checks_never_raise(ctype, length):
    headers = {"Content-Type": ctype}
    if length is not None:
        headers["Content-Length"] = length
    n, bad = guard.body_length(headers)
    assert (n is None) != (bad is None)
    if n is not None:
        assert 0 <= n <= guard.MAX_BODY and ctype.split(";")[0].strip().lower() == "application/json"
        assert length.strip().isdigit() and length.strip().isascii()  # "+5", "1_0", "٣" are refused


@pytest.fixture(scope="module")
def live_daemon(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("adv")
    d = PrivateDaemon(tmp)
    store = tmp / "store"
    d.start(env={"AGENT_TRACE_DIR": str(store)})
    d.store = store
    yield d
    d.stop()


def _raw(d, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", d.port), timeout=20) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(max_size=2000))
def test_raw_junk_gets_an_answer_or_a_close_never_a_crash(live_daemon, junk):
    out = _raw(live_daemon, junk)
    assert out == b"" or out.startswith(b"HTTP/1.") and not out[9:12].startswith(b"5")
    assert live_daemon.running()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.dictionaries(st.text(max_size=20), json_values, max_size=6),
       event=st.sampled_from(["PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SessionEnd",
                              "SubagentStop", "Notification", "NoSuchEvent", ""]),
       sid=st.text(max_size=40))
def test_hostile_payloads_with_the_secret_are_recorded_or_refused_cleanly(live_daemon, extra, event, sid):
    payload = {**extra, "hook_event_name": event, "session_id": sid, "cwd": "/nonexistent/dir"}
    status, answer = live_daemon.hook(payload)
    assert status == 200 and isinstance(answer, dict)
    assert live_daemon.running()


def test_recorded_hostile_lines_read_back(live_daemon):
    """What hostile payloads leave in the store is valid store data, without
    the secrets they carried."""
    nasty = [
        {"hook_event_name": "PostToolUse", "session_id": "../../etc/passwd", "tool_use_id": "t\u0000x",
         "tool_response": {"output": "\ud800 lone surrogate"}},
        {"hook_event_name": "UserPromptSubmit", "session_id": "s" * 5000, "prompt": "x" * 100_000},
        {"hook_event_name": "PreToolUse", "session_id": "nest", "tool_input": json.loads("[" * 200 + "]" * 200)},
        {"hook_event_name": "Notification", "session_id": "key", "message": "key sk-ant-api03-" + "A" * 90},
    ]
    for p in nasty:
        status, _ = live_daemon.hook(p)
        assert status == 200
    sessions = live_daemon.store / "sessions"
    for f in sessions.iterdir():
        stats = ReadStats()
        events = list(iter_events(str(f), stats))
        assert events and not stats.skipped(), (f, stats.as_dict())
    assert not any(b"sk-ant-api03-AAAA" in f.read_bytes() for f in sessions.iterdir())
    assert not (live_daemon.store.parent / "etc").exists()
    st_ = json.loads(live_daemon.cli("status", "--json").stdout)
    assert st_["not_recorded"] == 0, os.listdir(live_daemon.dir)
