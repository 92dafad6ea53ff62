"""OTLP export: GenAI spans, the JSON encoding rules, and the HTTP client
(gzip, batching, retries, refusal) against a local receiver."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent_trace.export.otlp import ExportError, request_body, send, to_protobuf
from agent_trace.export.otlp_spans import SpanBuilder, attr

from conftest import record_fixture_session, run_cli
from test_hooks import SESSION


def record(tmp_path):
    record_fixture_session()


class Receiver:
    """A minimal OTLP/HTTP receiver: answers with scripted statuses, keeps bodies."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.bodies: list[tuple[str, bytes]] = []
        rec = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                data = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    data = gzip.decompress(data)
                rec.bodies.append((self.headers.get("content-type"), data,
                                   {k.lower(): v for k, v in self.headers.items()}))
                code = rec.statuses.pop(0) if rec.statuses else 200
                body = b"{}" if code == 200 else b'{"message": "bad spans"}'
                self.send_response(code)
                self.send_header("content-length", str(len(body)))
                if code == 429:
                    self.send_header("retry-after", "0")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def spans_of(tmp_path, content=False):
    out = json.loads(run_cli("export", SESSION, "--format", "otlp", *(["--content"] if content else [])).stdout)
    return out["resourceSpans"][0]["scopeSpans"][0]["spans"]


def test_genai_spans_from_a_real_session(tmp_path):
    record(tmp_path)
    spans = spans_of(tmp_path)
    by_name = {}
    for s in spans:
        by_name.setdefault(s["name"].split(" ")[0], []).append(s)
    root = next(s for s in spans if "parentSpanId" not in s)
    assert root["name"] == "invoke_agent claude-code"
    sub = [s for s in by_name["invoke_agent"] if s is not root]
    assert len(sub) == 1 and sub[0]["parentSpanId"] == root["spanId"]
    tools = by_name["execute_tool"]
    assert len(tools) == 8
    a = {x["key"]: x["value"] for x in tools[0]["attributes"]}
    assert a["gen_ai.tool.name"] == {"stringValue": "Write"} and a["gen_ai.tool.call.id"]["stringValue"]
    failed = [t for t in tools if t["status"]["code"] == 2]
    assert len(failed) == 3 and all(any(x["key"] == "error.type" for x in t["attributes"]) for t in failed)
    sub_tool = [t for t in tools if t["parentSpanId"] == sub[0]["spanId"]]
    assert len(sub_tool) == 1  # the subagent's Read hangs under the subagent span
    chats = by_name["chat"]
    assert len(chats) == 11 and all(c["kind"] == 3 for c in chats)
    ca = {x["key"]: x["value"] for x in chats[0]["attributes"]}
    assert ca["gen_ai.provider.name"] == {"stringValue": "anthropic"}
    assert ca["gen_ai.usage.input_tokens"] == {"intValue": "1200"}
    assert ca["gen_ai.usage.cache_read.input_tokens"] == {"intValue": "300"}
    assert ca["gen_ai.conversation.id"] == {"stringValue": SESSION}
    assert not any(x["key"] == "gen_ai.tool.call.arguments" for t in tools for x in t["attributes"])
    with_content = spans_of(tmp_path, content=True)
    assert any(x["key"] == "gen_ai.tool.call.arguments" for s in with_content for x in s["attributes"])


def test_json_encoding_rules_and_deterministic_ids(tmp_path):
    record(tmp_path)
    a, b = spans_of(tmp_path), spans_of(tmp_path)
    assert [s["spanId"] for s in a] == [s["spanId"] for s in b]  # re-export does not duplicate
    for s in a:
        assert len(s["traceId"]) == 32 and len(s["spanId"]) == 16
        int(s["traceId"], 16), int(s["spanId"], 16)
        assert s["traceId"] == s["traceId"].lower()
        assert isinstance(s["startTimeUnixNano"], str) and int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"])
        assert isinstance(s["kind"], int) and s["status"]["code"] in (1, 2)
    assert attr("n", 5) == {"key": "n", "value": {"intValue": "5"}}
    assert attr("f", 0.5)["value"] == {"doubleValue": 0.5} and attr("b", True)["value"] == {"boolValue": True}
    assert attr("l", ["stop"])["value"] == {"arrayValue": {"values": [{"stringValue": "stop"}]}}


def test_http_json_export_gzip_batches_retries_and_headers(tmp_path):
    record(tmp_path)
    rec = Receiver(statuses=[503, 429])
    try:
        r = run_cli("export", SESSION, "--format", "otlp", "--endpoint", rec.url, "--header", "x-team=blue")
    finally:
        rec.close()
    assert r.returncode == 0 and b"exported 21 spans" in r.stdout, r.stderr
    assert len(rec.bodies) == 3  # two refusals retried, then accepted
    ctype, body, headers = rec.bodies[-1]
    assert ctype == "application/json" and headers["x-team"] == "blue"
    assert len(json.loads(body)["resourceSpans"][0]["scopeSpans"][0]["spans"]) == 21


def test_refusal_is_a_clear_error(tmp_path):
    record(tmp_path)
    rec = Receiver(statuses=[400])
    try:
        r = run_cli("export", SESSION, "--format", "otlp", "--endpoint", rec.url)
    finally:
        rec.close()
    assert r.returncode == 1
    assert b"refused the export: HTTP 400: {\"message\": \"bad spans\"}" in r.stderr
    r = run_cli("export", SESSION, "--format", "otlp", "--endpoint", "http://127.0.0.1:9", "--retries", "1")
    assert r.returncode == 1 and b"cannot reach http://127.0.0.1:9/v1/traces" in r.stderr


def test_batching_splits_large_exports():
    b = SpanBuilder()
    from agent_trace import event as ev

    for i in range(1200):
        b.add(ev.make_event(ev.TOOL_CALL, "big", "claude-code", tool="Bash", tool_use_id=f"t{i}"))
        b.add(ev.make_event(ev.TOOL_RESULT, "big", "claude-code", tool="Bash", tool_use_id=f"t{i}", status="ok"))
    spans = b.spans()
    rec = Receiver()
    try:
        assert send(rec.url, spans, batch=500) == 1201
    finally:
        rec.close()
    assert [len(json.loads(x[1])["resourceSpans"][0]["scopeSpans"][0]["spans"]) for x in rec.bodies] == [500, 500, 201]


def test_protobuf_encoding_round_trips():
    pytest.importorskip("opentelemetry.proto", reason="the otlp extra is not installed")
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from agent_trace import event as ev

    b = SpanBuilder()
    b.add(ev.make_event(ev.LLM_RESPONSE, "pb", "llm-proxy", model="gpt-4o", usage={"input": 7, "output": 3},
                        duration_ms=12.5, data={"message_id": "chatcmpl-1", "stop_reason": "stop"}))
    body = request_body(b.spans())
    msg = ExportTraceServiceRequest.FromString(to_protobuf(body))
    spans = msg.resource_spans[0].scope_spans[0].spans
    chat = next(s for s in spans if s.name == "chat gpt-4o")
    assert chat.trace_id.hex() == body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
    attrs = {a.key: a.value for a in chat.attributes}
    assert attrs["gen_ai.usage.input_tokens"].int_value == 7
    assert list(attrs["gen_ai.response.finish_reasons"].array_value.values)[0].string_value == "stop"
    with pytest.raises(ExportError):
        send("http://127.0.0.1:9", [], "grpc")  # no spans: nothing sent, but the protocol is still checked


def test_follow_exports_as_events_arrive_until_the_session_ends(trace_dir):
    import subprocess
    import sys
    import time

    from agent_trace import event as ev
    from agent_trace.store.sink import FileSink
    from agent_trace.store import Store

    sink = FileSink(Store(str(trace_dir)))
    sink.emit(ev.make_event(ev.SESSION_START, "live", "claude-code", data={"cwd": "/p"}))
    rec = Receiver()
    try:
        p = subprocess.Popen([sys.executable, "-m", "agent_trace", "export", "live", "--format", "otlp",
                              "--endpoint", rec.url, "--follow"], stdout=subprocess.PIPE,
                             env={**__import__("os").environ, "AGENT_TRACE_DIR": str(trace_dir)})
        time.sleep(1.0)
        first = len(rec.bodies)
        sink.emit(ev.make_event(ev.TOOL_CALL, "live", "claude-code", tool="Bash", tool_use_id="t1"))
        sink.emit(ev.make_event(ev.TOOL_RESULT, "live", "claude-code", tool="Bash", tool_use_id="t1", status="ok"))
        deadline = time.time() + 5
        while len(rec.bodies) == first and time.time() < deadline:
            time.sleep(0.05)
        assert len(rec.bodies) > first  # exported while the session was still running
        sink.emit(ev.make_event(ev.SESSION_END, "live", "claude-code", data={"reason": "exit"}))
        assert p.wait(10) == 0
    finally:
        rec.close()
    names = [s["name"] for _, body, _ in rec.bodies
             for s in json.loads(body)["resourceSpans"][0]["scopeSpans"][0]["spans"]]
    assert names.count("execute_tool Bash") == 1 and "invoke_agent claude-code" in names


def test_protobuf_to_a_file_is_protobuf_and_chat_spans_have_real_durations(tmp_path):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    record(tmp_path)
    out = tmp_path / "spans.pb"
    r = run_cli("export", SESSION, "--format", "otlp", "--protocol", "http/protobuf", "-o", str(out))
    assert r.returncode == 0, r.stderr
    req = ExportTraceServiceRequest()
    req.ParseFromString(out.read_bytes())  # raises on JSON or garbage
    spans = [s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    chats = [s for s in spans if s.name.startswith("chat ")]
    assert len(chats) == 11
    # a transcript turn starts when the agent's previous step ended: every chat has a duration
    assert all(s.end_time_unix_nano > s.start_time_unix_nano for s in chats)
    tools = {s.name: s for s in spans if s.name.startswith("execute_tool")}
    assert tools and all(s.end_time_unix_nano >= s.start_time_unix_nano for s in tools.values())
    # JSON to a file stays JSON
    r = run_cli("export", SESSION, "--format", "otlp", "-o", str(tmp_path / "spans.json"))
    assert json.loads((tmp_path / "spans.json").read_text())["resourceSpans"]


def test_unreachable_endpoint_reports_each_retry(tmp_path):
    from support.processes import free_port

    record(tmp_path)
    url = f"http://127.0.0.1:{free_port()}"
    r = run_cli("export", SESSION, "--format", "otlp", "--endpoint", url, "--retries", "2")
    assert r.returncode == 1 and b"cannot reach" in r.stderr
    lines = r.stderr.decode().splitlines()
    assert [x for x in lines if "retry 1 of 2" in x] and [x for x in lines if "retry 2 of 2" in x], lines
