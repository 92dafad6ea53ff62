"""``agent-strace report``: capped and collapsed Markdown, the same verdict
as ``compare``, and a cassette as the baseline."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import run_cli
from support.anthropic_stub import Stub as AnthropicStub
from support.sessions import record_session

def test_report_command_markdown_is_capped_and_collapsed(tmp_path, trace_dir):
    record_session(trace_dir, "big", failures=40)
    full = run_cli("report", "big").stdout.decode()
    assert full.count("<details") == full.count("</details>") >= 3
    small = run_cli("report", "big", "--max-chars", "3000").stdout.decode()
    assert len(small) <= 3000 and "### agent-strace: 1 session" in small and "| `big` |" in small
    data = json.loads(run_cli("report", "big", "--format", "json").stdout)
    assert data[0]["findings_total"] >= 1 and data[0]["summary"]["tool_errors"] == 40
    assert run_cli("report", "big", "--fail-on", "lint").returncode == 4
    # the verdict is compare's, to the number
    record_session(trace_dir, "small", failures=1, llm_calls=1)
    rep = json.loads(run_cli("report", "big", "--baseline", "small", "--format", "json").stdout)[0]["compare"]
    cmp = json.loads(run_cli("compare", "small", "big", "--json").stdout)
    assert rep["verdict"] == cmp["verdict"] == "regressed" and rep["metrics"] == cmp["metrics"]
    assert rep["files"] == cmp["files"] and rep["sequence_diff"] == cmp["sequence_diff"]
    assert run_cli("report", "nope").returncode == 3
    shutil.rmtree(trace_dir)
    assert run_cli("report").returncode == 3


def test_a_cassette_is_a_baseline(tmp_path, trace_dir):
    anthropic = pytest.importorskip("anthropic", reason="the anthropic SDK is in the [dev] extra")
    from agent_trace.cassette import record

    path = tmp_path / "baseline.json"
    steps = {"fix it": [[{"tool": "Bash", "input": {"command": "make test"}}], [{"text": "Done."}]]}
    with AnthropicStub(steps) as up, record(path):
        client = anthropic.Anthropic(base_url=up.url, api_key="sk-test-not-a-real-key-000000", max_retries=0)
        msgs = [{"role": "user", "content": "fix it"}]
        first = client.messages.create(model="claude-sonnet-4-5-20250929", max_tokens=100, messages=msgs)
        msgs += [{"role": "assistant", "content": [b.model_dump() for b in first.content]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": first.content[0].id,
                                               "content": "make: *** Error 2", "is_error": True}]}]
        client.messages.create(model="claude-sonnet-4-5-20250929", max_tokens=100, messages=msgs)
    record_session(trace_dir, "now", failures=0, llm_calls=2)
    rep = json.loads(run_cli("report", "now", "--baseline", str(path), "--format", "json").stdout)[0]
    c = rep["compare"]
    assert c["baseline"] == "cassette baseline.json"
    m = c["metrics"]
    assert (m["llm_calls"]["a"], m["tool_calls"]["a"], m["tool_errors"]["a"]) == (2, 1, 1)
    assert m["tokens"]["a"] == 2 * 1350 and m["cost_usd"]["a"] > 0
    assert m["tokens"]["b"] == 2 * 2450 and m["tool_errors"]["b"] == 0
    assert c["verdict"] == "regressed" and "tokens +81%" in c["reasons"], c["reasons"]
    md = run_cli("report", "now", "--baseline", str(path)).stdout.decode()
    assert "Compared with cassette baseline.json: **REGRESSED**" in md
    assert run_cli("report", "now", "--baseline", str(tmp_path / "nope.json")).returncode == 3


def test_hostile_session_text_stays_inert_in_the_report(trace_dir):
    from agent_trace import event as ev
    from agent_trace.store import Store
    from agent_trace.store.sink import FileSink

    record_session(trace_dir, "evil", failures=3)
    sink = FileSink(Store(str(trace_dir)))
    sink.emit(ev.make_event(ev.RULE_DECISION, "evil", "agent-strace", name="<script>x</script>",
                            status="</details><img src=x onerror=alert(1)>", tool="Write`|",
                            data={"reason": "@everyone [click](https://evil.example) </summary>"}))
    sink.emit(ev.make_event(ev.USER_PROMPT, "evil", "claude-code", data={"prompt": "</details>\n# pwned @admin"}))
    md = run_cli("report", "evil").stdout.decode()
    assert md.count("<details") == md.count("</details>") and md.count("<summary>") == md.count("</summary>")
    assert "<img" not in md and "<script>" not in md and "@everyone" not in md and "@admin" not in md
    assert "[click](" not in md and "\n# pwned" not in md
