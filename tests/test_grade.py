"""``grade`` (a verify command run in a session's workspace, recorded as an
event) and what ``compare`` does with grades, wire-only sessions and two
checkouts of one task."""

from __future__ import annotations

import json

from conftest import read_session, run_cli

from agent_trace import event as ev
from agent_trace.store import Store
from agent_trace.store.sink import FileSink


def _session(store_root, session, cwd, tools=(), via="hooks", usage=None, title="fix it"):
    """A small session: hook events (cwd on session.start, tool calls), or
    only LLM wire events (cwd stamped by `run` on the request)."""
    sink = FileSink(Store(str(store_root)))
    out = []
    if via == "hooks":
        out.append(ev.make_event(ev.SESSION_START, session, "claude-code", data={"cwd": str(cwd)}))
        out.append(ev.make_event(ev.USER_PROMPT, session, "claude-code", data={"prompt": title}))
        for i, (tool, inp) in enumerate(tools):
            out.append(ev.make_event(ev.TOOL_CALL, session, "claude-code", tool=tool, tool_use_id=f"t{i}",
                                     data={"tool_input": inp}))
            out.append(ev.make_event(ev.TOOL_RESULT, session, "claude-code", tool=tool, tool_use_id=f"t{i}",
                                     status="ok", data={}))
    else:
        req = ev.make_event(ev.LLM_REQUEST, session, "llm-proxy", data={"cwd": str(cwd), "body": {}})
        blocks = [{"type": "tool_use", "id": f"t{i}", "name": t, "input": inp} for i, (t, inp) in enumerate(tools)]
        out += [req, ev.make_event(ev.LLM_RESPONSE, session, "llm-proxy", parent=req["id"], model="claude-sonnet-4-5",
                                   usage=usage or {"input": 100, "output": 10},
                                   data={"message": {"content": blocks}})]
    sink.emit_many(out)


def test_grade_runs_in_the_sessions_workspace_and_records_the_result(tmp_path, trace_dir):
    work = tmp_path / "proj"
    work.mkdir()
    (work / "ok.txt").write_text("fine\n")
    _session(trace_dir, "s1", work)
    r = run_cli("grade", "s1", "--verify", "test -f ok.txt && echo checked")
    assert r.returncode == 0 and b"grade: PASS  test -f ok.txt" in r.stdout, r.stdout + r.stderr
    key = "sk-ant-api03-" + "Zq7" * 30
    r = run_cli("grade", "s1", "--verify", f"echo {key}; echo 'tests failed' >&2; exit 3", "--label", "unit tests")
    assert r.returncode == 4 and b"FAIL (exit 3)" in r.stdout and b"| tests failed" in r.stdout
    grades = [e for e in read_session(trace_dir, "s1") if e["type"] == ev.ANNOTATION]
    assert [(g["name"], g["status"], g["data"]["exit_code"]) for g in grades] == [("grade", "ok", 0),
                                                                                 ("grade", "error", 3)]
    assert grades[0]["data"]["cwd"] == str(work) and grades[0]["data"]["stdout_tail"] == "checked\n"
    assert grades[1]["data"]["label"] == "unit tests" and "tests failed" in grades[1]["data"]["stderr_tail"]
    assert key not in json.dumps(grades)  # output goes through the store's redaction
    r = run_cli("replay", "s1")
    assert b'grade("test -f ok.txt && echo checked") = PASS' in r.stdout
    assert b"= FAIL (exit 3)" in r.stdout


def test_grade_says_what_is_missing(tmp_path, trace_dir):
    _session(trace_dir, "nowhere", tmp_path / "gone")
    r = run_cli("grade", "nowhere", "--verify", "true")
    assert r.returncode == 2 and b"no such folder" in r.stderr and b"--workspace" in r.stderr
    r = run_cli("grade", "nowhere", "--verify", "pwd", "--workspace", str(tmp_path), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["stdout_tail"].strip() == str(tmp_path)
    sink = FileSink(Store(str(trace_dir)))
    sink.emit(ev.make_event(ev.USER_PROMPT, "blind", "claude-code", data={"prompt": "x"}))
    r = run_cli("grade", "blind", "--verify", "true")
    assert r.returncode == 2 and b"does not say where it worked" in r.stderr
    assert run_cli("grade", "no-such-session", "--verify", "true").returncode == 3
    r = run_cli("grade", "nowhere", "--verify", "sleep 5", "--workspace", str(tmp_path), "--timeout", "0.5")
    assert r.returncode == 4 and b"FAIL (timed out)" in r.stdout


def test_compare_two_checkouts_of_one_task_with_grades(tmp_path, trace_dir):
    a, b = tmp_path / "alice" / "proj", tmp_path / "ci" / "build" / "proj"
    for p in (a, b):
        p.mkdir(parents=True)
    edits = lambda root: [("Read", {"file_path": str(root / "src/app.py")}),  # noqa: E731
                          ("Edit", {"file_path": str(root / "src/app.py"), "old_string": "x", "new_string": "y"})]
    _session(trace_dir, "run-a", a, edits(a))
    _session(trace_dir, "run-b", b, edits(b))
    r = json.loads(run_cli("compare", "run-a", "run-b", "--json").stdout)
    assert r["same_tool_sequence"] and r["files"] == {"read_only_a": [], "read_only_b": [], "changed_only_a": [],
                                                     "changed_only_b": []}
    assert r["workspaces"] == {"a": str(a), "b": str(b)} and r["grades"] == {"a": [], "b": []}
    (a / "ok").write_text("")  # the check passes in A's checkout only
    for s in ("run-a", "run-b"):
        run_cli("grade", s, "--verify", "test -f ok")
    r = json.loads(run_cli("compare", "run-a", "run-b", "--json").stdout)
    assert r["verdict"] == "regressed" and r["reasons"] == ["`test -f ok`: PASS -> FAIL (exit 1)"]
    assert r["grades"]["a"][0]["passed"] is True and r["grades"]["b"][0]["exit_code"] == 1
    assert run_cli("compare", "run-a", "run-b", "--fail-on", "regressed").returncode == 4
    r = json.loads(run_cli("compare", "run-b", "run-a", "--json").stdout)
    assert r["verdict"] == "improved" and r["reasons"][0] == "`test -f ok`: FAIL (exit 1) -> PASS"
    text = run_cli("compare", "run-a", "run-b").stdout.decode()
    assert "grade                PASS FAIL (exit 1)  test -f ok" in text and "verdict: REGRESSED" in text


def test_a_passing_run_that_costs_more_is_still_an_improvement(tmp_path, trace_dir):
    a, b = tmp_path / "a", tmp_path / "b"
    for p in (a, b):
        p.mkdir()
    write = lambda root: [("Write", {"file_path": str(root / "notes.txt"), "content": "x"})]  # noqa: E731
    _session(trace_dir, "wire-a", a, write(a), via="wire", usage={"input": 100, "output": 10})
    _session(trace_dir, "wire-b", b, write(b) * 3, via="wire", usage={"input": 900, "output": 90})
    (b / "ok").write_text("")
    for s in ("wire-a", "wire-b"):
        run_cli("grade", s, "--verify", "test -f ok")
    r = json.loads(run_cli("compare", "wire-a", "wire-b", "--json").stdout)
    # captured on the wire alone: tool calls are what the model asked for
    assert r["sequences"] == {"a": ["Write"], "b": ["Write", "Write", "Write"]}
    assert r["metrics"]["tool_calls"]["a"] == 1 and r["metrics"]["tool_calls"]["b"] == 3
    assert r["files"]["changed_only_a"] == r["files"]["changed_only_b"] == []
    assert r["verdict"] == "improved"
    assert r["reasons"][0] == "`test -f ok`: FAIL (exit 1) -> PASS" and any(x.startswith("but ") for x in r["reasons"])
