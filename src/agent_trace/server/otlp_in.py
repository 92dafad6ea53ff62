"""OTLP/HTTP traces and logs in, events out: another capture source.

Claude Code's own telemetry (``CLAUDE_CODE_ENABLE_TELEMETRY=1``) is the main
customer.  Its log records (``api_request``, ``tool_result``, ``user_prompt``
...) become typed events: they are its documented event stream and carry the
outcome (a tool's ``success``, a call's usage and cost).  Its beta trace spans
(``claude_code.llm_request``, ``claude_code.tool`` ...) describe the same
calls, so they are kept as ``generic`` events (with trace and span ids) and
never counted twice.  Spans from other GenAI instrumentation map by
``gen_ai.operation.name`` (``chat`` -> ``llm.response``, ``execute_tool`` ->
``tool.result``/``tool.error``); anything else is a ``generic`` event with
its attributes under ``data``.  Ids are derived from the telemetry (request
id, tool use id, trace and span id), so a re-sent batch is stored once.
"""

from __future__ import annotations

import base64
import hashlib

from .. import event as ev

SOURCE = "otel"


class OtlpError(ValueError):
    pass


# -- decoding -----------------------------------------------------------------

def decode(kind: str, body: bytes, content_type: str) -> dict:
    """The request as OTLP/JSON-shaped dicts (``kind``: traces or logs)."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/json":
        import json

        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
            raise OtlpError(f"malformed OTLP/JSON: {e}") from None
        if not isinstance(data, dict):
            raise OtlpError("OTLP/JSON body is not an object")
        return data
    if ctype in ("application/x-protobuf", "application/protobuf"):
        return _from_protobuf(kind, body)
    raise OtlpError(f"unsupported content type {content_type!r} (application/json or application/x-protobuf)")


def events_from_body(kind: str, body: bytes, content_type: str) -> list[dict]:
    """Decode and map one request body (``kind``: traces or logs).  Anything
    malformed, in the encoding or in the OTLP structure, is an
    :class:`OtlpError` with a one-line message (the server answers 400)."""
    data = decode(kind, body, content_type)
    try:
        return events_from_traces(data) if kind == "traces" else events_from_logs(data)
    except Exception as e:  # the mapping only reads the request: any failure is the request's shape
        raise OtlpError(f"malformed OTLP {kind}: {type(e).__name__}: {e}"[:300]) from None


def _from_protobuf(kind: str, body: bytes) -> dict:
    try:
        from google.protobuf.json_format import MessageToDict
        from google.protobuf.message import DecodeError

        if kind == "traces":
            from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest as Req
        else:
            # type-checker: the logs request when the endpoint receives logs (same parse interface)
            from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest as Req  # type: ignore[assignment]
    except ImportError:
        raise OtlpError("OTLP protobuf needs the otlp extra on the server: pip install 'agent-strace[otlp]'") from None
    req = Req()
    try:
        req.ParseFromString(body)
    except DecodeError as e:
        raise OtlpError(f"malformed OTLP protobuf: {e}") from None
    data = MessageToDict(req)
    # protobuf JSON mapping writes bytes as base64; OTLP/JSON uses hex
    for rs in data.get("resourceSpans", []) + data.get("resourceLogs", []):
        for scope in rs.get("scopeSpans", []) + rs.get("scopeLogs", []):
            for item in scope.get("spans", []) + scope.get("logRecords", []):
                for k in ("traceId", "spanId", "parentSpanId"):
                    if item.get(k):
                        item[k] = base64.b64decode(item[k]).hex()
    return data


def protobuf_response(kind: str) -> bytes:
    if kind == "traces":
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse as Resp
    else:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse as Resp
    return Resp().SerializeToString()


def _value(v):
    if not isinstance(v, dict) or not v:
        return None
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:
        try:
            return int(v["intValue"])
        except (TypeError, ValueError):
            return None
    if "doubleValue" in v:
        return v["doubleValue"]
    if "arrayValue" in v:
        return [_value(x) for x in (v["arrayValue"].get("values") or [])]
    if "kvlistValue" in v:
        return attributes(v["kvlistValue"].get("values"))
    if "bytesValue" in v:
        return {"bytes_base64": v["bytesValue"]}
    return None


def attributes(kvs) -> dict:
    out = {}
    for kv in kvs or []:
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            out[kv["key"]] = _value(kv.get("value"))
    return out


# -- mapping ------------------------------------------------------------------

def _iso(nanos) -> str | None:
    try:
        n = int(nanos)
        return ev.now_iso(n / 1e9) if 0 < n < 10**20 else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _id(*parts) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _s(v) -> str | None:
    """A first-class text field from an attribute of any JSON type."""
    if v is None or v == "":
        return None
    return v if isinstance(v, str) else str(v)


def _truthy(v) -> bool:
    return v is True or (isinstance(v, str) and v.lower() == "true")


def _session(attrs: dict, resource: dict, fallback: str) -> str:
    for key in ("session.id", "gen_ai.conversation.id"):
        for src in (attrs, resource):
            v = src.get(key)
            if isinstance(v, str) and v:
                return v
    return fallback


def _llm_fields(a: dict) -> dict:
    return {
        "model": _s(a.get("model") or a.get("gen_ai.response.model") or a.get("gen_ai.request.model")),
        "usage": ev.usage(
            input=_int(a.get("input_tokens", a.get("gen_ai.usage.input_tokens"))),
            output=_int(a.get("output_tokens", a.get("gen_ai.usage.output_tokens"))),
            cache_read=_int(a.get("cache_read_tokens", a.get("gen_ai.usage.cache_read.input_tokens"))),
            cache_write=_int(a.get("cache_creation_tokens", a.get("gen_ai.usage.cache_creation.input_tokens"))),
        ),
    }


def events_from_logs(data: dict) -> list[dict]:
    out = []
    for rl in data.get("resourceLogs") or []:
        resource = attributes((rl.get("resource") or {}).get("attributes"))
        for sl in rl.get("scopeLogs") or []:
            for rec in sl.get("logRecords") or []:
                e = _log_event(rec, resource)
                if e is not None:
                    out.append(e)
    return out


def _log_event(rec: dict, resource: dict) -> dict | None:
    a = attributes(rec.get("attributes"))
    body = _value(rec.get("body"))
    name = _s(a.get("event.name")) or (body if isinstance(body, str) else None) or "log"
    if isinstance(name, str) and name.startswith("claude_code."):
        name = name[len("claude_code."):]
    ts = _iso(rec.get("timeUnixNano")) or _iso(rec.get("observedTimeUnixNano")) or ev.now_iso()
    session = _session(a, resource, "otel-" + (rec.get("traceId") or "logs"))
    data = {"attributes": a, "resource": resource}
    if body is not None and not isinstance(body, str):
        data["body"] = body
    base = {"ts": ts, "data": data}
    dur = _num(a.get("duration_ms"))
    if name == "api_request" or name == "api_error":
        fields = _llm_fields(a)
        rid = a.get("request_id")
        eid = _id(session, "otel-llm", rid) if rid else _id(session, "otel-log", ts, name, a.get("event.sequence"))
        error = None
        if name == "api_error":
            error = str(a.get("error") or a.get("error.message") or "API error")
        return ev.make_event(ev.LLM_RESPONSE, session, SOURCE, id=eid, name=name, duration_ms=dur,
                             status=ev.ERROR if error else ev.OK, error=error, **fields, **base)
    if name == "tool_result":
        ok = _truthy(a.get("success"))
        tid = _s(a.get("tool_use_id"))
        eid = _id(session, "otel-tool", tid) if tid else _id(session, "otel-log", ts, name, a.get("event.sequence"))
        return ev.make_event(ev.TOOL_RESULT if ok else ev.TOOL_ERROR, session, SOURCE, id=eid, name=name,
                             tool=_s(a.get("tool_name")), tool_use_id=tid, duration_ms=dur,
                             status=ev.OK if ok else ev.ERROR,
                             error=None if ok else str(a.get("error") or "tool failed"), **base)
    eid = _id(session, "otel-log", ts, name, a.get("event.sequence"), a.get("prompt.id"))
    if name == "user_prompt":
        prompt = a.get("prompt")
        if isinstance(prompt, str) and prompt != "<REDACTED>":
            # type-checker: data holds text as well as objects
            data["prompt"] = prompt  # type: ignore[assignment]
        return ev.make_event(ev.USER_PROMPT, session, SOURCE, id=eid, name=name, **base)
    return ev.make_event(ev.GENERIC, session, SOURCE, id=eid, name=name, duration_ms=dur, **base)


def events_from_traces(data: dict) -> list[dict]:
    out = []
    for rs in data.get("resourceSpans") or []:
        resource = attributes((rs.get("resource") or {}).get("attributes"))
        for ss in rs.get("scopeSpans") or []:
            for span in ss.get("spans") or []:
                if isinstance(span, dict):
                    out.append(_span_event(span, resource))
    return out


def _span_event(span: dict, resource: dict) -> dict:
    a = attributes(span.get("attributes"))
    trace_id, span_id = _s(span.get("traceId")) or "", _s(span.get("spanId")) or ""
    name = _s(span.get("name")) or "span"
    session = _session(a, resource, "otel-" + (trace_id or "trace"))
    start, end = _int(span.get("startTimeUnixNano")), _int(span.get("endTimeUnixNano"))
    dur = (end - start) / 1e6 if start and end and end >= start else None
    status = span.get("status") or {}
    failed = status.get("code") in (2, "STATUS_CODE_ERROR") or a.get("success") is False
    error = _s(status.get("message") or a.get("error.type") or "error") if failed else None
    data = {"attributes": a, "resource": resource, "trace_id": trace_id, "span_id": span_id,
            "parent_span_id": span.get("parentSpanId") or None, "kind": span.get("kind")}
    base = {"ts": _iso(start) or ev.now_iso(), "data": data, "duration_ms": dur,
            "status": ev.ERROR if failed else ev.OK, "error": error, "name": name}
    # Claude Code's own spans (they carry ``span.type``) repeat its log records
    op = None if "span.type" in a else a.get("gen_ai.operation.name")
    if op in ("chat", "text_completion", "generate_content"):
        rid = a.get("request_id") or a.get("gen_ai.response.id")
        eid = _id(session, "otel-llm", rid) if rid else _id("otel-span", trace_id, span_id)
        return ev.make_event(ev.LLM_RESPONSE, session, SOURCE, id=eid, **_llm_fields(a), **base)
    if op == "execute_tool":
        tid = _s(a.get("gen_ai.tool.call.id") or a.get("tool_use_id"))
        eid = _id(session, "otel-tool", tid) if tid else _id("otel-span", trace_id, span_id)
        return ev.make_event(ev.TOOL_ERROR if failed else ev.TOOL_RESULT, session, SOURCE, id=eid,
                             tool=_s(a.get("gen_ai.tool.name") or a.get("tool_name")), tool_use_id=tid, **base)
    return ev.make_event(ev.GENERIC, session, SOURCE, id=_id("otel-span", trace_id, span_id), **base)
