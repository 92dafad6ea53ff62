"""search: every store, filters, incremental index, hostile text."""

from __future__ import annotations

import json
import shutil

from agent_trace import event as ev
from agent_trace.store import Store
from agent_trace.store.sink import FileSink

from conftest import fixture_payloads, run_cli


def hits(*args) -> dict:
    r = run_cli("search", *args, "--json", "--no-import")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def record_fixture_session():
    for p in fixture_payloads():
        p.pop("transcript_path", None)
        p.pop("agent_transcript_path", None)
        assert run_cli("hook", input=json.dumps(p).encode()).returncode == 0


def test_finds_calls_results_errors_and_prompts(trace_dir):
    record_fixture_session()
    d = hits("does-not-exist")
    kinds = sorted((h["type"], h["tool"]) for h in d["hits"])
    assert kinds == [("tool.call", "Bash"), ("tool.error", "Bash")]
    err = next(h for h in d["hits"] if h["type"] == "tool.error")
    assert err["event"] == "Bash(cat /home/dev/demo/does-not-exist.txt) = ERROR (exit 1: No such file or directory)"
    assert err["session"] == "e8f720b7-94ae-4a8c-bae2-3ba0f907bf8b" and err["store"] == str(trace_dir)
    assert err["event_id"] == ev.derived_id(err["session"], "tool.result", "toolu_00008")
    assert err["project"] == "/home/dev/demo"
    failed = hits("", "--failed", "--tool", "bash")
    assert sorted(h["event"].split("(")[0] for h in failed["hits"]) == ["Bash", "Bash"]
    assert hits("", "--failed", "--tool", "Grep")["total"] == 1
    assert hits("SCRIPTED TASK")["hits"][0]["event"] == 'prompt("do the scripted task")'
    assert hits("does-not-exist", "--since", "2099-01-01")["total"] == 0
    assert hits("does-not-exist", "--project", "demo")["total"] == 2
    assert hits("does-not-exist", "--project", "elsewhere")["total"] == 0
    assert hits("jsonl")["total"] == 0  # record headers name the session file: never a match
    text = run_cli("search", "does-not-exist", "--no-import").stdout.decode()
    assert "replay e8f720b7" in text and "= ERROR (exit 1" in text
    assert run_cli("search", "", "--no-import").returncode == 2


def test_index_follows_the_store(trace_dir):
    sink = FileSink(Store(str(trace_dir)))
    sink.emit(ev.make_event(ev.USER_PROMPT, "s1", "claude-code", data={"prompt": "first needle"}))
    assert hits("needle")["total"] == 1
    sink.emit(ev.make_event(ev.USER_PROMPT, "s1", "claude-code", data={"prompt": "second needle"}))
    sink.emit(ev.make_event(ev.USER_PROMPT, "s2", "claude-code", data={"prompt": "third needle"}))
    assert hits("needle")["total"] == 3
    shutil.rmtree(trace_dir / "index")
    assert hits("needle")["total"] == 3
    (trace_dir / "sessions" / "s2.jsonl").unlink()  # a session removed: the index is rebuilt without it
    assert hits("needle")["total"] == 2


def test_hostile_text_stays_in_its_record(trace_dir):
    sink = FileSink(Store(str(trace_dir)))
    nasty = "a\x1fb\nc\rd\x00e École \ud800 ✓ " + "x" * 200_000 + " tail-marker"
    sink.emit(ev.make_event(ev.TOOL_CALL, "h", "claude-code", tool="Bash", tool_use_id="t1",
                            data={"tool_input": {"command": nasty}}))
    sink.emit(ev.make_event(ev.TOOL_RESULT, "h", "claude-code", tool="Bash", tool_use_id="t1",
                            data={"tool_response": {"stdout": "résumé\nLINE"}}))
    # the call, and its result (found by its command too)
    assert hits("école")["total"] == 2 and hits("ÉCOLE")["total"] == 2
    assert hits("b c d")["total"] == 2  # separators and line breaks are spaces
    assert hits("tail-marker")["total"] == 0  # past the indexed part of one event (64 KiB)
    assert hits("RÉSUMÉ LINE")["total"] == 1
    assert hits("a\x1fb")["total"] == 2  # a separator in the query is a space, as in the index
    result = hits("résumé")["hits"][0]
    assert result["type"] == "tool.result" and result["event"].startswith("Bash(")


def test_search_covers_every_store(trace_dir, tmp_path, monkeypatch):
    from agent_trace.store import registry

    other = Store(str(tmp_path / "other-project" / ".agent-traces"))
    FileSink(other).emit(ev.make_event(ev.USER_PROMPT, "far", "claude-code", data={"prompt": "far away needle"}))
    assert registry.register(other.root)
    FileSink(Store(str(trace_dir))).emit(ev.make_event(ev.USER_PROMPT, "near", "claude-code",
                                                       data={"prompt": "near needle"}))
    d = hits("needle")
    assert sorted(h["session"] for h in d["hits"]) == ["far", "near"]
    assert {h["store"] for h in d["hits"]} == {other.root, str(trace_dir)}


def test_a_blank_query_or_an_odd_tool_name_finds_nothing_odd(trace_dir):
    sink = FileSink(Store(str(trace_dir)))
    sink.emit(ev.make_event(ev.TOOL_CALL, "h", "claude-code", tool="Bash", tool_use_id="t1",
                            data={"tool_input": {"command": "ls -la"}}))
    assert hits("\x1f")["total"] == 0 and hits(" \n")["total"] == 0  # blanks once cleaned: not every record
    assert hits("bash ls")["total"] == 1  # the call's text starts with its tool
    from agent_trace.analysis.search_index import _header

    head = _header("s.jsonl", 0, {"type": "tool.call", "tool": ["X"], "ts": "t"})  # a hand-edited store
    assert head.split("\x1f")[4] == "['x']"
