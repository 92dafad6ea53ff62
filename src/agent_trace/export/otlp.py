"""Sending spans to an OTLP/HTTP endpoint: JSON (standard library) or
protobuf (the ``otlp`` extra), batched, gzip-compressed, retried.

Retries: 429, 502, 503 and 504 and connection errors are retried with
exponential backoff (honouring ``Retry-After``); any other refusal is a clear
error naming the status and the endpoint's own message.
"""

from __future__ import annotations

import gzip
import time
import urllib.error
import urllib.request

from .. import __version__
from ..event.encode import to_bytes
from ..event.redact import redact_value

RETRY_STATUS = (429, 502, 503, 504)


class ExportError(Exception):
    pass


def request_body(spans: list[dict], service: str = "agent-strace") -> dict:
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}},
                                    {"key": "telemetry.sdk.name", "value": {"stringValue": "agent-strace"}},
                                    {"key": "telemetry.sdk.version", "value": {"stringValue": __version__}}]},
        "scopeSpans": [{"scope": {"name": "agent-strace", "version": __version__}, "spans": spans}]}]}


def to_protobuf(body: dict) -> bytes:
    """The same request as OTLP protobuf (needs ``pip install agent-strace[otlp]``)."""
    try:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
        from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
        from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
    except ImportError:
        raise ExportError("protobuf export needs the otlp extra: pip install 'agent-strace[otlp]'") from None

    def value(v: dict) -> AnyValue:
        if "stringValue" in v:
            return AnyValue(string_value=v["stringValue"])
        if "intValue" in v:
            return AnyValue(int_value=int(v["intValue"]))
        if "doubleValue" in v:
            return AnyValue(double_value=v["doubleValue"])
        if "boolValue" in v:
            return AnyValue(bool_value=v["boolValue"])
        av = AnyValue()
        av.array_value.values.extend(value(x) for x in v["arrayValue"]["values"])
        return av

    def kvs(attrs):
        return [KeyValue(key=a["key"], value=value(a["value"])) for a in attrs]

    req = ExportTraceServiceRequest()
    for rs in body["resourceSpans"]:
        prs = req.resource_spans.add()
        prs.resource.attributes.extend(kvs(rs["resource"]["attributes"]))
        for ss in rs["scopeSpans"]:
            pss = prs.scope_spans.add()
            pss.scope.name = ss["scope"]["name"]
            pss.scope.version = ss["scope"]["version"]
            for s in ss["spans"]:
                ps = Span(trace_id=bytes.fromhex(s["traceId"]), span_id=bytes.fromhex(s["spanId"]),
                          name=s["name"], kind=s["kind"], start_time_unix_nano=int(s["startTimeUnixNano"]),
                          end_time_unix_nano=int(s["endTimeUnixNano"]),
                          status=Status(code=s["status"]["code"], message=s["status"].get("message", "")))
                if s.get("parentSpanId"):
                    ps.parent_span_id = bytes.fromhex(s["parentSpanId"])
                ps.attributes.extend(kvs(s["attributes"]))
                for e in s.get("events", []):
                    pe = ps.events.add()
                    pe.time_unix_nano = int(e["timeUnixNano"])
                    pe.name = e["name"]
                    pe.attributes.extend(kvs(e["attributes"]))
                pss.spans.append(ps)
    return req.SerializeToString()


def traces_url(endpoint: str) -> str:
    e = endpoint.rstrip("/")
    return e if e.endswith("/v1/traces") else e + "/v1/traces"


def encode(spans: list[dict], protocol: str) -> tuple[bytes, str]:
    """(body bytes, content type) of one export request in ``protocol``."""
    body = request_body(spans)
    if protocol == "http/protobuf":  # redacted again, like every export
        return to_protobuf(redact_value(body, [0])), "application/x-protobuf"
    return to_bytes(body), "application/json"


def send(endpoint: str, spans: list[dict], protocol: str = "http/json", headers: dict | None = None,
         batch: int = 512, retries: int = 4, backoff: float = 0.5, timeout: float = 30.0,
         progress=None) -> int:
    """Export ``spans`` in batches; returns how many were accepted.
    ``progress(message)`` hears about each retry (an unreachable collector
    would otherwise mean seconds of silence)."""
    if protocol not in ("http/json", "http/protobuf"):
        raise ExportError(f"unknown protocol {protocol!r} (http/json, http/protobuf)")
    url = traces_url(endpoint)
    sent = 0
    for i in range(0, len(spans), batch):
        data, ctype = encode(spans[i:i + batch], protocol)
        _post(url, gzip.compress(data), ctype, headers or {}, retries, backoff, timeout, progress)
        sent += len(spans[i:i + batch])
    return sent


def _post(url, data, ctype, headers, retries, backoff, timeout, progress=None) -> None:
    attempt = 0
    while True:
        req = urllib.request.Request(url, data=data, method="POST", headers={
            "Content-Type": ctype, "Content-Encoding": "gzip", "User-Agent": f"agent-strace/{__version__}",
            **headers})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                resp.read()
                return
        except urllib.error.HTTPError as e:
            text = e.read()[:300].decode("utf-8", "replace").strip()
            if e.code not in RETRY_STATUS or attempt >= retries:
                raise ExportError(f"{url} refused the export: HTTP {e.code}{': ' + text if text else ''}") from None
            wait = float(e.headers.get("Retry-After") or backoff * 2 ** attempt)
            why = f"HTTP {e.code}"
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            if attempt >= retries:
                raise ExportError(f"cannot reach {url}: {reason}") from None
            wait = backoff * 2 ** attempt
            why = f"cannot reach it ({reason})"
        attempt += 1
        wait = min(wait, 30.0)
        if progress is not None:
            progress(f"{url}: {why}; retry {attempt} of {retries} in {wait:g}s")
        time.sleep(wait)
