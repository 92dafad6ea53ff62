"""Export a real captured session into a real Arize Phoenix (protobuf, as it
requires) and read it back through Phoenix's REST API."""

from __future__ import annotations

import time

import pytest

from conftest import run_cli
from support.phoenix import Phoenix
from test_otlp import record
from test_hooks import SESSION

pytestmark = pytest.mark.e2e


def test_session_lands_in_phoenix_with_kinds_names_tokens_and_parents(tmp_path):
    pytest.importorskip("opentelemetry.proto", reason="protobuf export needs the otlp extra")
    record(tmp_path)
    phx = Phoenix(tmp_path / "phoenix")
    try:
        r = run_cli("export", SESSION, "--format", "otlp", "--endpoint", phx.url, "--protocol", "http/protobuf")
        assert r.returncode == 0, r.stderr
        spans = []
        for _ in range(40):  # Phoenix ingests asynchronously
            spans = phx.get("/v1/projects/default/spans?limit=500")["data"]
            if len(spans) >= 21:
                break
            time.sleep(0.25)
        assert len(spans) == 21
        kinds = {}
        for s in spans:
            kinds.setdefault(s["span_kind"], []).append(s)
        assert len(kinds["AGENT"]) == 2 and len(kinds["LLM"]) == 11 and len(kinds["TOOL"]) == 8
        root = next(s for s in kinds["AGENT"] if s["parent_id"] is None)
        assert root["name"] == "invoke_agent claude-code"
        ids = {s["context"]["span_id"] for s in spans}
        assert all(s["parent_id"] in ids for s in spans if s is not root)  # every parent link resolves
        sub = next(s for s in kinds["AGENT"] if s is not root)
        assert sub["parent_id"] == root["context"]["span_id"]
        llm = kinds["LLM"][0]
        assert llm["name"] == "chat claude-opus-5-5"
        assert llm["attributes"]["gen_ai.usage.input_tokens"] == 1200
        assert llm["attributes"]["gen_ai.usage.cache_read.input_tokens"] == 300
        assert sorted(s["name"] for s in kinds["TOOL"])[0] == "execute_tool Agent"
        failed = [s for s in kinds["TOOL"] if s["status_code"] == "ERROR"]
        assert len(failed) == 3
        # exporting again does not duplicate (same trace and span ids)
        assert run_cli("export", SESSION, "--format", "otlp", "--endpoint", phx.url,
                       "--protocol", "http/protobuf").returncode == 0
        time.sleep(2)
        assert len(phx.get("/v1/projects/default/spans?limit=500")["data"]) == 21
        # Phoenix takes protobuf only: a JSON export is refused with a clear error
        r = run_cli("export", SESSION, "--format", "otlp", "--endpoint", phx.url, "--retries", "0")
        assert r.returncode == 1 and b"refused the export: HTTP 415" in r.stderr
    finally:
        phx.stop()
