"""Each lint rule fires on a session showing its pattern and stays quiet on
the real fixture session."""

import json

import pytest

from agent_trace import event as ev
from agent_trace.lint.runner import ConfigError, Linter, validate
from agent_trace.store.sink import FileSink
from agent_trace.store import Store

from conftest import fixture_payloads, run_cli

N = iter(range(10**9))


def call(tool, inp, ok=True, agent=None):
    tid = f"t{next(N)}"
    c = ev.make_event(ev.TOOL_CALL, "s", "claude-code", tool=tool, tool_use_id=tid, agent_id=agent,
                      data={"tool_input": inp})
    if ok:
        r = ev.make_event(ev.TOOL_RESULT, "s", "claude-code", tool=tool, tool_use_id=tid, status="ok",
                          data={"tool_input": inp, "tool_response": ok if ok is not True else "fine"})
    else:
        r = ev.make_event(ev.TOOL_ERROR, "s", "claude-code", tool=tool, tool_use_id=tid, status="error",
                          error={"message": "Exit code 1\nboom"}, data={"tool_input": inp})
    return [c, r]


def lint(events, **cfg):
    linter = Linter(cfg or None)
    out = []
    for e in events:
        out += linter.feed(e) or []
    return out


def rules_of(findings):
    return sorted({f.rule for f in findings})


def test_loop_including_call_result_alternation_and_cycles():
    events = sum((call("Bash", {"command": "npm test"}) for _ in range(4)), [])
    f = lint(events)
    assert rules_of(f) == ["loop"] and "the same call repeated 4 times: Bash" in f[0].message
    cyc = sum((call("Read", {"file_path": "a"}) + call("Bash", {"command": "make"}) for _ in range(4)), [])
    f = [x for x in lint(cyc) if x.rule == "loop"]
    assert f and "a cycle of 2 calls" in f[0].message
    assert not lint(sum((call("Bash", {"command": f"echo {i}"}) for i in range(10)), []))


def test_repeated_failure_and_error_spiral():
    events = sum((call("Bash", {"command": "pytest -x"}, ok=False) + call("Read", {"file_path": f"f{i}"})
                  for i in range(3)), [])
    assert "repeated-failure" in rules_of(lint(events))
    spiral = sum((call("Bash", {"command": f"c{i}"}, ok=False) for i in range(5)), [])
    assert "error-spiral" in rules_of(lint(spiral))


def test_reread_edit_revert_huge_output_runaway_cost():
    reads = sum((call("Read", {"file_path": "/p/a.py"}) for _ in range(3)), [])
    assert "reread" in rules_of(lint(reads, rules={"loop": {"threshold": 9}}))
    with_write = call("Read", {"file_path": "/p/a.py"}) * 1 + call("Write", {"file_path": "/p/a.py"}) + \
        call("Read", {"file_path": "/p/a.py"}) + call("Read", {"file_path": "/p/a.py"})
    assert "reread" not in rules_of(lint(with_write))
    edits = call("Edit", {"file_path": "x", "old_string": "a", "new_string": "b"}) + \
        call("Edit", {"file_path": "x", "old_string": "b", "new_string": "a"})
    assert rules_of(lint(edits)) == ["edit-revert"]
    assert rules_of(lint(call("Bash", {"command": "cat big"}, ok="z" * 200_000))) == ["huge-output"]
    llm = [ev.make_event(ev.LLM_RESPONSE, "s", "claude-code", model="claude-opus-4-1",
                         usage={"input": 200_000, "output": 100_000}) for _ in range(2)]
    f = lint(llm)
    assert sorted(rules_of(f)) == ["huge-context", "runaway-cost"]
    assert any("cost passed $10.00" in x.message and x.severity == "error" for x in f)
    assert any("200,000 context tokens" in x.message and x.severity == "warning" for x in f)


def test_lint_list_shows_the_severity_findings_really_have():
    from agent_trace.lint import RULES

    failing = sum((call("Bash", {"command": "false"}, ok=False) for _ in range(6)), [])
    findings = lint(failing)
    assert {"repeated-failure", "error-spiral"} <= set(rules_of(findings))
    for f in findings:
        assert f.severity == RULES[f.rule].severity, f.rule
    listed = run_cli("lint", "--list").stdout.decode()
    for name, r in RULES.items():
        line = next(x for x in listed.splitlines() if x.startswith(name + " "))
        assert line.split()[1] == r.severity


def test_fixture_session_is_clean_and_cli_strict_exit(trace_dir):
    for p in fixture_payloads():
        run_cli("hook", input=json.dumps(p).encode())
    r = run_cli("lint", "latest", "--strict")
    assert r.returncode == 0 and b"0 findings from 8 rules" in r.stdout
    sink = FileSink(Store(str(trace_dir)))
    sink.emit_many(sum((call("Bash", {"command": "npm test"}) for _ in range(5)), []))
    r = run_cli("lint", "s", "--strict", "--json")
    assert r.returncode == 4 and json.loads(r.stdout)["findings"][0]["rule"] == "loop"
    assert run_cli("lint", "s").returncode == 0


def test_config_is_validated_precisely(tmp_path):
    with pytest.raises(ConfigError, match="unknown rule 'lop'"):
        validate({"disable": ["lop"]})
    with pytest.raises(ConfigError, match="has no option 'thresh'"):
        validate({"rules": {"loop": {"thresh": 3}}})
    with pytest.raises(ConfigError, match="should be a int"):
        validate({"rules": {"loop": {"threshold": "3"}}})
    cfg = tmp_path / "lint.toml"
    cfg.write_text('disable = ["loop"]\n[rules.reread]\nthreshold = 2\n')
    r = run_cli("lint", "--config", str(cfg), "nosuch")
    assert r.returncode == 3
    cfg.write_text("this is not toml =")
    r = run_cli("lint", "--config", str(cfg), "x")
    assert r.returncode == 2 and b"lint.toml" in r.stderr
