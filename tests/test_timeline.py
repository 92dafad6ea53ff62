"""Timelines show events in the order they happened, whatever the append order."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from conftest import run_cli

from agent_trace import event as ev
from agent_trace.store import Store
from agent_trace.store.reader import ReadStats
from agent_trace.store.sink import FileSink
from agent_trace.store.timeline import is_in_time_order, iter_timeline


def _at(t: float) -> str:
    return ev.now_iso(1_800_000_000 + t)


def _write_turn(trace_dir, session="s"):
    """A turn as hooks write it: tool calls first, then (at Stop) the LLM turns
    imported from the transcript, which happened before the calls."""
    sink = FileSink(Store(str(trace_dir)))
    sink.emit(ev.make_event(ev.USER_PROMPT, session, "claude-code", ts=_at(0), data={"prompt": "go"}))
    sink.emit(ev.make_event(ev.TOOL_CALL, session, "claude-code", ts=_at(2), tool="Read", tool_use_id="t1",
                            data={"tool_input": {"file_path": "a"}}))
    sink.emit(ev.make_event(ev.TOOL_RESULT, session, "claude-code", ts=_at(3), tool="Read", tool_use_id="t1",
                            status="ok"))
    sink.emit(ev.make_event(ev.TURN_END, session, "claude-code", ts=_at(5)))
    for i, t in enumerate((1, 4)):  # imported at Stop
        sink.emit(ev.make_event(ev.LLM_RESPONSE, session, "claude-code", ts=_at(t), model="m", id=f"llm{i}",
                                usage={"input": 1, "output": 1}))
    # same time as the prompt: file order breaks the tie
    sink.emit(ev.make_event(ev.ANNOTATION, session, "test", ts=_at(0), name="tie"))
    return Store(str(trace_dir)).path_for(session)


def test_out_of_order_appends_come_back_in_time_order_with_stable_ties(trace_dir):
    path = _write_turn(trace_dir)
    assert not is_in_time_order(path)
    stats = ReadStats()
    got = [(e["type"], e.get("name")) for e in iter_timeline(path, stats)]
    assert got == [("user.prompt", None), ("annotation", "tie"), ("llm.response", None), ("tool.call", None),
                   ("tool.result", None), ("llm.response", None), ("turn.end", None)]
    assert stats.events == 7


def test_damaged_lines_are_skipped_and_counted_in_either_order(trace_dir):
    path = _write_turn(trace_dir)
    with open(path, "ab") as f:
        f.write(b'{"v":1,"ts":"2000-01-01T00:00:00.000000Z" not json\n{"v":1,"id":"torn","ts":"20')
    stats = ReadStats()
    assert len(list(iter_timeline(path, stats))) == 7
    assert stats.corrupt == 1 and stats.torn == 1


def test_replay_prints_in_time_order(trace_dir):
    _write_turn(trace_dir)
    lines = run_cli("replay", "s").stdout.decode().splitlines()
    kinds = [x[13:].split("(")[0] for x in lines]
    assert kinds == ["prompt", "annotation", "llm", "Read", "llm", "turn_end"], lines


def test_replay_defaults_to_latest_and_rejects_unknown_filters(trace_dir):
    _write_turn(trace_dir)
    assert run_cli("replay").stdout == run_cli("replay", "s").stdout
    r = run_cli("replay", "--type", "tols")
    assert r.returncode == 2 and b"unknown event type 'tols'" in r.stderr
    r = run_cli("replay", "--tool", "Bash")
    assert r.returncode == 0 and r.stdout == b""
    assert b"no calls of Bash in this session (tools used: Read)" in r.stderr


def test_replay_follow_ends_when_the_session_ends(trace_dir):
    store = Store(str(trace_dir))
    sink = FileSink(store)
    sink.emit(ev.make_event(ev.SESSION_START, "live", "claude-code"))
    p = subprocess.Popen([sys.executable, "-m", "agent_trace", "replay", "live", "--follow"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    sink.emit(ev.make_event(ev.TOOL_CALL, "live", "claude-code", tool="Bash", tool_use_id="b",
                            data={"tool_input": {"command": "true"}}))
    sink.emit(ev.make_event(ev.SESSION_END, "live", "claude-code", data={"reason": "exit"}))
    out, err = p.communicate(timeout=60)  # returns on its own: no Ctrl-C needed
    assert p.returncode == 0, err
    assert b"session_end(exit)" in out and b"Bash(true)" in out
    # an ended session is printed and not followed at all
    r = run_cli("replay", "live", "-f", timeout=30)
    assert r.returncode == 0 and b"session_end" in r.stdout


def test_f_means_follow_in_export_too(trace_dir):
    store = Store(str(trace_dir))
    sink = FileSink(store)
    sink.emit(ev.make_event(ev.SESSION_START, "x", "claude-code"))
    p = subprocess.Popen([sys.executable, "-m", "agent_trace", "export", "x", "-f"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    sink.emit(ev.make_event(ev.SESSION_END, "x", "claude-code"))
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert [e["type"] for e in map(json.loads, out.splitlines())] == ["session.start", "session.end"]
    r = run_cli("export", "x", "-f", "--format", "json")
    assert r.returncode == 2 and b"use --format jsonl" in r.stderr


def test_a_repeated_event_is_kept_once_in_either_order(tmp_path):
    """Two sources wrote the same derived id (a hook and the transcript
    import); the time-ordered read keeps it once, as the file-order read does."""
    from agent_trace.store.reader import ReadStats
    from agent_trace.store.timeline import iter_timeline

    call = ev.make_event(ev.TOOL_CALL, "s", "claude-code", ts="2026-01-01T00:00:02Z", tool="Bash",
                         tool_use_id="t1")
    early = ev.make_event(ev.USER_PROMPT, "s", "claude-code", ts="2026-01-01T00:00:01Z")
    path = tmp_path / "s.jsonl"
    for order in ([call, call, early], [early, call, call]):  # out of time order, then in order
        path.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in order))  # as stored
        stats = ReadStats()
        got = list(iter_timeline(str(path), stats))
        assert [e["type"] for e in got] == [ev.USER_PROMPT, ev.TOOL_CALL] and stats.duplicates == 1
