"""OTLP/HTTP into the collector: Claude Code's own telemetry (a real Claude
Code, logs and beta traces, JSON and protobuf) and our own OTLP export."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from support.anthropic_stub import Stub
from support.claude_code import run_claude
from support.collector import Server
from test_remote_capture import post, stored

from agent_trace import event as ev


def _telemetry_env(url: str, protocol: str) -> dict:
    return {"CLAUDE_CODE_ENABLE_TELEMETRY": "1", "OTEL_LOGS_EXPORTER": "otlp", "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "none", "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol, "OTEL_EXPORTER_OTLP_ENDPOINT": url,
            "OTEL_LOGS_EXPORT_INTERVAL": "500"}


@pytest.mark.parametrize("protocol", ["http/json", "http/protobuf"])
def test_claude_code_native_telemetry_is_ingested(tmp_path, protocol):
    project, home = tmp_path / "p", tmp_path / "h"
    project.mkdir()
    home.mkdir()
    steps = {"otel task": [[{"tool": "Bash", "input": {"command": "echo hi"}}],
                           [{"tool": "Bash", "input": {"command": "exit 3"}}], [{"text": "done"}]]}
    with Server(tmp_path / "srv") as srv, Stub(steps) as stub:
        out = run_claude(project, home, stub.url, "otel task", "Bash", env_extra=_telemetry_env(srv.url, protocol))
        assert out["result"] == "done", out
        session = out["session_id"]
        events = stored(tmp_path / "srv", session)
    assert events, "no telemetry arrived"
    assert {e["source"] for e in events} == {"otel"}
    llm = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    # three model calls, each reported as a log record and as a span: stored once each
    assert len(llm) == 3, [(e["name"], e["id"]) for e in llm]
    assert all(e["usage"] == {"input": 1000, "output": 50, "cache_read": 200, "cache_write": 100} for e in llm)
    tools = [e for e in events if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)]
    assert sorted((e["tool"], e["type"]) for e in tools) == [("Bash", ev.TOOL_ERROR), ("Bash", ev.TOOL_RESULT)]
    assert len({e["tool_use_id"] for e in tools}) == 2
    assert any(e["type"] == ev.USER_PROMPT for e in events)
    # every CLI reader works on the server's storage
    r = run_cli("--trace-dir", str(tmp_path / "srv"), "stats", session, "--json")
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["llm_calls"] == 3 and stats["tool_errors"] == 1


def test_our_own_otlp_export_round_trips_through_the_collector(tmp_path):
    r = run_cli("demo", "--dir", str(tmp_path / "proj"))
    assert r.returncode == 0
    local = tmp_path / "proj" / ".agent-traces"
    with Server(tmp_path / "srv") as srv:
        for protocol in ("http/protobuf", "http/json"):
            r = run_cli("--trace-dir", str(local), "export", "latest", "--format", "otlp", "--endpoint", srv.url,
                        "--protocol", protocol)
            assert r.returncode == 0, r.stderr
        code, body = post(srv.url + "/v1/traces", b"{not json", ctype="application/json")
        assert code == 400 and b"malformed" in body
        code, body = post(srv.url + "/v1/traces", b"\x00\x01garbage", ctype="application/x-protobuf")
        assert code == 400
        code, body = post(srv.url + "/v1/logs", b"x", ctype="text/plain")
        assert code == 415
    files = list((tmp_path / "srv" / "sessions").iterdir())
    assert len(files) == 1  # both exports landed in one session, de-duplicated
    events = [json.loads(x) for x in files[0].read_text().splitlines()]
    kinds = {}
    for e in events:
        kinds[e["type"]] = kinds.get(e["type"], 0) + 1
    assert kinds[ev.LLM_RESPONSE] == 11 and kinds[ev.TOOL_RESULT] + kinds[ev.TOOL_ERROR] == 8
    assert kinds.get(ev.TOOL_ERROR) == 3
