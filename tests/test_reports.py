"""stats, cost, inspect and list agree, because they share one summary."""

import json

from agent_trace import event as ev
from agent_trace.store.sink import FileSink
from agent_trace.store import Store
from agent_trace.analysis.summary import percentile

from conftest import record_fixture_session, run_cli
from test_hooks import SESSION


def record(tmp_path):
    record_fixture_session()


def test_reports_agree_on_the_same_session(tmp_path):
    record(tmp_path)
    stats = json.loads(run_cli("stats", SESSION, "--json").stdout)
    cost = json.loads(run_cli("cost", SESSION, "--json").stdout)
    insp = json.loads(run_cli("inspect", SESSION, "--json").stdout)
    (row,) = json.loads(run_cli("list", "--json").stdout)
    assert stats["tool_calls"] == insp["tool_calls"] == row["tool_calls"] == 8
    assert stats["tool_errors"] == insp["tool_errors"] == row["tool_errors"] == 3
    assert stats["tokens"] == cost["tokens"] == insp["tokens"] == row["tokens"]
    assert cost["cost_usd"] == insp["cost_usd"] == row["cost_usd"] > 0
    assert stats["llm_calls"] == insp["llm_calls"] == row["llm_calls"] == 11
    assert stats["tools"]["Bash"]["errors"] == 2 and stats["tools"]["Bash"]["p50_ms"] is not None
    # 11 responses x (1200 in, 60 out, 300 cache read) at claude-opus family prices
    assert cost["models"][0]["priced_as"] == "claude-opus"
    expected = 11 * (1200 * 5.0 + 60 * 25.0 + 300 * 0.5) / 1e6
    assert abs(cost["cost_usd"] - expected) < 1e-9
    text = run_cli("cost", SESSION).stdout.decode()
    assert "priced as claude-opus" in text and "TOTAL" in text


def test_cost_without_usage_says_so_and_marks_the_estimate(trace_dir):
    sink = FileSink(Store(str(trace_dir)))
    sink.emit(ev.make_event(ev.USER_PROMPT, "nu", "claude-code", data={"prompt": "x" * 4000}))
    d = json.loads(run_cli("cost", "nu", "--json").stdout)
    assert d["has_usage"] is False and d["cost_usd"] == 0
    assert d["estimate"]["ESTIMATE"] is True and d["estimate"]["input_tokens"] >= 1000
    text = run_cli("cost", "nu").stdout.decode()
    assert "no token usage recorded" in text and "ESTIMATE" in text


def test_percentiles_from_histograms_are_close():
    from agent_trace.analysis.summary import SessionSummary

    s = SessionSummary()
    for i in range(1, 1001):
        s.add(ev.make_event(ev.TOOL_RESULT, "p", "t", tool="Bash", duration_ms=float(i)))
    p50, p95 = percentile(s.durations["Bash"], 50), percentile(s.durations["Bash"], 95)
    assert abs(p50 - 500) / 500 < 0.05 and abs(p95 - 950) / 950 < 0.05


def test_unpriced_models_are_named(trace_dir):
    sink = FileSink(Store(str(trace_dir)))
    sink.emit(ev.make_event(ev.LLM_RESPONSE, "up", "llm-proxy", model="mystery-model-1",
                            usage={"input": 10, "output": 5}))
    d = json.loads(run_cli("cost", "up", "--json").stdout)
    assert d["unpriced"] == ["mystery-model-1"] and d["models"][0]["cost_usd"] is None


def test_share_anonymize_like_export(tmp_path):
    record_fixture_session(project="/home/alice/proj")
    out = tmp_path / "page.html"
    r = run_cli("share", SESSION, "-o", str(out), "--anonymize")
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    assert "/home/alice" not in page and "alice" not in page
    assert "/home/user-" in page and "pseudonymised" in page
    exported = run_cli("export", SESSION, "--anonymize").stdout.decode()
    tag = page.split("/home/user-", 1)[1][:8]
    assert f"/home/user-{tag}" in exported  # the same pseudonym as export gives
    plain = tmp_path / "plain.html"
    assert run_cli("share", SESSION, "-o", str(plain)).returncode == 0
    assert "/home/alice/proj" in plain.read_text()
