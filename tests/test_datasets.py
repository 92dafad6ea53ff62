"""Dataset exports: parquet rows read back with pyarrow, the secret gate,
the hub dry run, CSV and --anonymize."""

from __future__ import annotations

import csv
import io
import json
import socket

import pytest

from agent_trace import event as ev
from agent_trace.capture.llm_wire import LlmObserver
from agent_trace.export.tables import DATASET_COLUMNS
from agent_trace.proxy.http_forward import ReverseProxy
from agent_trace.store.sink import FileSink
from agent_trace.store import Store

from conftest import run_cli
from support.openai_stub import OpenAIStub

pa = pytest.importorskip("pyarrow", reason="the parquet extra is not installed")
import pyarrow.parquet as pq  # noqa: E402

openai = pytest.importorskip("openai", reason="the openai SDK is in the [dev] extra")


def capture(trace_dir, session="ds"):
    with OpenAIStub() as up:
        obs = LlmObserver(FileSink(Store(str(trace_dir))), session, session, up.url)
        with ReverseProxy(up.url, obs, prefix_base=True) as px:
            client = openai.OpenAI(base_url=px.url + "/v1", api_key="sk-x")
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "a"}],
                                           extra_headers={"x-agent-strace-task": "7", "x-agent-strace-turn": "2"})
            list(client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "b"}],
                                                stream=True))
    return up


def test_parquet_round_trip_rows_and_columns(trace_dir, tmp_path):
    capture(trace_dir)
    out = tmp_path / "calls.parquet"
    r = run_cli("export", "ds", "--format", "parquet", "-o", str(out))
    assert r.returncode == 0, r.stderr
    table = pq.read_table(out)
    assert table.column_names == list(DATASET_COLUMNS)
    rows = table.to_pylist()
    assert len(rows) == 2
    a, b = rows
    assert a["model"] == "gpt-4o" and a["task_id"] == "7" and a["turn"] == 2
    assert json.loads(a["request"])["messages"] == [{"role": "user", "content": "a"}]
    assert json.loads(a["response"])["choices"][0]["message"]["content"].startswith("Hello")
    assert a["request_id"] == "req_stub" and a["provider"] == "openai" and a["upstream_url"].endswith("/v1")
    assert b["response"].startswith("data: {") and "[DONE]" in b["response"]  # raw SSE for streams
    assert all(r["session"] == "ds" for r in rows)
    log = tmp_path / "calls.session.jsonl"
    assert sum(1 for _ in open(log)) == 4  # the session log alongside


def test_secret_gate_refuses_unless_overridden(trace_dir, tmp_path):
    capture(trace_dir)
    # a store written elsewhere, without our redaction
    leaked = ev.make_event(ev.ANNOTATION, "ds", "elsewhere", data={"note": "token ghp_" + "A1b2" * 9})
    with open(Store(str(trace_dir)).path_for("ds"), "a") as f:
        f.write(json.dumps(leaked) + "\n")
    r = run_cli("export", "ds", "--hub", "me/ds", "--dry-run", "-o", str(tmp_path / "ds"))
    assert r.returncode == 1 and b"refusing to export: 1 verified-looking secret(s) found (github_token)" in r.stderr
    assert not (tmp_path / "ds" / "data").exists()
    r = run_cli("export", "ds", "--hub", "me/ds", "--dry-run", "--allow-secrets", "-o", str(tmp_path / "ds"))
    assert r.returncode == 0 and b"nothing pushed" in r.stdout


def test_hub_dry_run_writes_exactly_the_dataset_folder(trace_dir, tmp_path):
    capture(trace_dir)
    folder = tmp_path / "dataset"
    r = run_cli("export", "ds", "--hub", "me/ds", "--dry-run", "-o", str(folder))
    assert r.returncode == 0, r.stderr
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == ["README.md", "data/llm_calls.parquet", "sessions/ds.jsonl"]
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nconfigs:") and "2 LLM call(s)" in card
    assert pq.read_table(folder / "data" / "llm_calls.parquet").num_rows == 2


def test_csv_and_anonymize(trace_dir):
    host = socket.gethostname()
    sink = FileSink(Store(str(trace_dir)))
    sink.emit(ev.make_event(ev.TOOL_CALL, "an", "claude-code", tool="Read", tool_use_id="t1", data={
        "tool_input": {"file_path": "/home/alice/proj/a.py"}, "mail": "Alice.Smith@corp.example.com",
        "host": f"running on {host}"}))
    sink.emit(ev.make_event(ev.TOOL_RESULT, "an", "claude-code", tool="Read", tool_use_id="t1", status="ok",
                            duration_ms=4, data={"tool_input": {"file_path": "/home/alice/proj/a.py"}}))
    rows = list(csv.DictReader(io.StringIO(run_cli("export", "an", "--format", "csv").stdout.decode())))
    assert [r["type"] for r in rows] == ["tool.call", "tool.result"] and rows[1]["duration_ms"] == "4"
    out = [json.loads(x) for x in run_cli("export", "an", "--anonymize").stdout.splitlines()]
    text = json.dumps(out)
    assert "alice" not in text.lower() and "corp.example.com" not in text, text
    assert len(host) <= 2 or host not in text  # short hostnames are left alone (too ambiguous)
    p1 = out[0]["data"]["tool_input"]["file_path"]
    p2 = out[1]["data"]["tool_input"]["file_path"]
    assert p1 == p2 and p1.startswith("/home/user-") and p1.endswith("/proj/a.py")  # consistent pseudonyms
