"""Readers never crash, whatever a stored line contains; per-event steps are O(1)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_trace import event as ev
from agent_trace.analysis.phases import iter_phases
from agent_trace.analysis.session_view import session_view
from agent_trace.analysis.summary import SessionSummary, summarize
from agent_trace.event.encode import encode_event
from agent_trace.lint.runner import Linter
from agent_trace.render.strace import Formatter
from agent_trace.server import api
from agent_trace.store import Store
from agent_trace.store.reader import ReadStats, iter_events
from conftest import run_cli
from tests.support.adversarial import FAST

SESSION = "hostile"

WRONG = [
    {"ts": "zzz"}, {"ts": 5}, {"ts": "2026-13-45T99:00:00Z"}, {"tool": ["x"]}, {"usage": "x"},
    {"usage": {"input": "many"}}, {"agent_id": 7}, {"duration_ms": "slow"}, {"duration_ms": True},
    {"error": 5}, {"truncated": "x"}, {"truncated": [1]}, {"rpc_id": True}, {"model": {"a": 1}},
    {"status": ["ok"]}, {"redacted": "x"}, {"session": None}, {"id": 12}, {"parent": 3},
]


def good(etype=ev.TOOL_CALL, **fields):
    return json.loads(encode_event(ev.make_event(etype, SESSION, "claude-code", **fields)))


def hostile_lines() -> list[bytes]:
    lines = [json.dumps(good(ev.SESSION_START, data={"cwd": "/p"})).encode()]
    for i, bad in enumerate(WRONG):
        e = good(ev.TOOL_RESULT if i % 2 else ev.LLM_RESPONSE, tool="Bash", tool_use_id=f"t{i}")
        e.update(bad)
        lines.append(json.dumps(e).encode())
    e = good(ev.LLM_RESPONSE, model="m", usage={"input": 5}, data={"result": 1.5})
    lines.append(json.dumps(e, separators=(",", ":")).encode().replace(b'"result":1.5', b'"result":NaN'))
    lines.append(json.dumps(good(ev.TOOL_CALL, tool="Read", duration_ms=3), separators=(",", ":")).encode()
                 .replace(b'"duration_ms":3', b'"duration_ms":Infinity'))  # old writers did this
    lines.append(b'{"v":1,"id":"d","ts":"2026-01-01T00:00:00Z","session":"hostile","type":"generic","data":'
                 + b"[" * 3000 + b"]" * 3000 + b"}")
    lines.append(json.dumps(good(ev.SESSION_END)).encode())
    return lines


@pytest.fixture
def hostile_store(trace_dir):
    store = Store(str(trace_dir))
    store.ensure()
    with open(store.path_for(SESSION), "wb") as f:
        f.write(b"\n".join(hostile_lines()) + b"\n")
    return store


def test_wrong_typed_lines_are_skipped_and_counted(hostile_store):
    stats = ReadStats()
    events = list(iter_events(hostile_store.path_for(SESSION), stats))
    assert stats.corrupt == len(WRONG) + 1  # the nesting-bomb line too; NaN/Infinity read as null
    assert [e["type"] for e in events][0] == ev.SESSION_START and events[-1]["type"] == ev.SESSION_END
    nan_line = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    assert nan_line[0]["data"]["result"] is None and nan_line[0]["usage"] == {"input": 5}
    read = [e for e in events if e.get("tool") == "Read"]
    assert read[0]["duration_ms"] is None


@pytest.mark.parametrize("argv", [
    ["list"], ["list", "--json"], ["inspect", SESSION], ["stats", SESSION], ["cost", SESSION],
    ["explain", SESSION], ["timeline", SESSION], ["replay", SESSION], ["lint", SESSION], ["tree"],
    ["export", SESSION], ["why", SESSION, "#2"], ["compare", SESSION, SESSION],
])
def test_every_reader_command_survives_hostile_lines(hostile_store, argv, tmp_path):
    r = run_cli(*argv)
    assert r.returncode in (0, 4), (argv, r.stderr[-600:])
    assert b"Traceback" not in r.stderr, r.stderr[-600:]


def test_the_dashboard_api_survives_hostile_lines(hostile_store):
    for payload in (api.sessions(hostile_store, {}), api.session(hostile_store, SESSION),
                    api.events_page(hostile_store, SESSION, 0, 500)):
        json.dumps(payload, allow_nan=False)  # browsers refuse NaN: never sent


def test_why_takes_only_hash_numbers_as_indexes(trace_dir):
    from agent_trace.analysis.causality import find
    from agent_trace.store.sink import FileSink

    store = Store(str(trace_dir))
    digits_id = "1234567890" + "ab" * 11
    FileSink(store).emit_many([ev.make_event(ev.ANNOTATION, "w", "t"), ev.make_event(ev.ANNOTATION, "w", "t",
                                                                                      id=digits_id)])
    path = store.path_for("w")
    assert find(path, "1234567890")[1]["id"] == digits_id  # an id prefix, although all digits
    assert find(path, "#2")[1]["id"] == digits_id and find(path, "#1")[0] == 1


class CountingId(str):
    """An agent id that counts equality tests: a list scan makes them grow as n^2."""

    eq_calls = 0

    def __eq__(self, other):
        CountingId.eq_calls += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_subagent_membership_is_constant_time():
    s = SessionSummary()
    n = 3000
    CountingId.eq_calls = 0
    for i in range(n):
        s.add({"type": ev.SUBAGENT_START, "id": str(i), "agent_id": CountingId(f"agent-{i}"), "source": f"s{i}"})
    assert len(s.subagents) == n
    assert CountingId.eq_calls < 4 * n, CountingId.eq_calls  # a list scan: ~n^2/2 = 4.5 million
    assert len(SessionSummary.from_dict(s.to_dict(resumable=True))._subagents) == n


# -- property: any line at all ------------------------------------------------------------

scalar = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=15)
anything = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=6), inner, max_size=3), max_leaves=8)
field_value = {k: anything for k in ev.FIELDS}
field_value["type"] = st.sampled_from(sorted(ev.TYPES)) | anything
field_value["v"] = st.just(1) | anything
field_value["ts"] = st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.5Z", "zzz"]) | anything
field_value["session"] = st.just("prop") | anything
field_value["id"] = st.text(min_size=1, max_size=8) | anything
event_like = st.fixed_dictionaries({"v": field_value["v"], "id": field_value["id"], "ts": field_value["ts"],
                                    "session": field_value["session"], "type": field_value["type"]},
                                   optional={k: v for k, v in field_value.items()
                                             if k not in ("v", "id", "ts", "session", "type")})


@FAST
@given(st.lists(event_like, min_size=1, max_size=12))
def test_readers_never_crash_on_any_event_shaped_line(tmp_path_factory, events):
    path = tmp_path_factory.mktemp("r") / "s.jsonl"
    path.write_bytes(b"".join(json.dumps(e).encode() + b"\n" for e in events))
    stats = ReadStats()
    got = list(iter_events(str(path), stats))
    assert stats.events + stats.skipped() == len(events)
    s = summarize(got)
    json.dumps(s.to_dict(), allow_nan=False)
    list(iter_phases(got))
    linter = Linter()
    for e in got:
        linter.feed(e)
    fmt = Formatter()
    for e in got:
        fmt.line(e)
    view = session_view(str(path))
    json.dumps(view, allow_nan=False, default=str)


def test_a_fifo_session_file_is_refused_not_waited_on(trace_dir):
    import os

    store = Store(str(trace_dir))
    store.ensure()
    os.mkfifo(store.path_for("fifo"))
    os.symlink("/dev/zero", store.path_for("zero"))
    for argv in (["stats", "fifo"], ["stats", "zero"], ["list"]):
        r = subprocess.run([sys.executable, "-m", "agent_trace", *argv], capture_output=True, timeout=60)
        assert b"Traceback" not in r.stderr, r.stderr
    with pytest.raises(OSError, match="not a regular file"):
        list(iter_events(store.path_for("zero")))
