"""Flat exports: CSV (one row per event) and the LLM-call dataset rows.

The dataset row follows the wire-capture dataset convention: one row per LLM
call with ``request_id, model, captured_at, task_id, turn, request (JSON),
response (JSON, raw SSE for streams), served_by, served_build_info,
served_model, provider, upstream_url``, plus ``session`` and ``agent``.
"""

from __future__ import annotations

import csv
import io

from .. import event as ev
from ..event.encode import to_bytes
from .otlp_spans import provider

CSV_COLUMNS = ("id", "ts", "session", "type", "source", "name", "agent_id", "tool", "tool_use_id", "model",
               "status", "duration_ms", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
               "error")

DATASET_COLUMNS = ("request_id", "model", "captured_at", "task_id", "turn", "request", "response", "served_by",
                   "served_build_info", "served_model", "provider", "upstream_url", "session", "agent")


def csv_rows(events):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    for e in events:
        buf.seek(0)
        buf.truncate()
        u = e.get("usage") or {}
        err = e.get("error")
        w.writerow([e.get("id"), e.get("ts"), e.get("session"), e.get("type"), e.get("source"), e.get("name"),
                    e.get("agent_id"), e.get("tool"), e.get("tool_use_id"), e.get("model"), e.get("status"),
                    e.get("duration_ms"), u.get("input"), u.get("output"), u.get("cache_read"), u.get("cache_write"),
                    err.get("message") if isinstance(err, dict) else err])
        yield buf.getvalue()


def dataset_rows(events, agent: str | None = None):
    """One row per LLM call: wire captures (request and response paired by
    ``parent``) and transcript imports (no request body)."""
    requests: dict[str, dict] = {}
    for e in events:
        t = e.get("type")
        if t == ev.LLM_REQUEST:
            requests[e["id"]] = e
            continue
        if t != ev.LLM_RESPONSE:
            continue
        req = requests.pop(e.get("parent"), None)
        data = e.get("data") if isinstance(e.get("data"), dict) else {}
        rdata = (req or {}).get("data") if isinstance((req or {}).get("data"), dict) else {}
        headers = data.get("headers") or {}
        if "sse" in data:
            response = data["sse"]
        else:
            response = to_bytes(data.get("body") if "body" in data else
                                {k: v for k, v in data.items() if k not in ("transcript",)}).decode()
        yield {
            "request_id": headers.get("request-id") or headers.get("x-request-id") or data.get("message_id")
            or e.get("id"),
            "model": e.get("model") or (req or {}).get("model"),
            "captured_at": e.get("ts"),
            # type-checker: narrowed by isinstance() on the same .get()
            "task_id": str(data.get("task") if data.get("task") is not None else rdata.get("task") or "") or None,  # type: ignore[union-attr]
            # type-checker: narrowed by isinstance() on the same .get()
            "turn": int(data.get("turn") or rdata.get("turn") or 0) or None,  # type: ignore[union-attr]
            # type-checker: narrowed by isinstance() on the same .get()
            "request": to_bytes(rdata.get("body")).decode() if rdata.get("body") is not None else None,  # type: ignore[union-attr]
            "response": response,
            "served_by": headers.get("x-served-by") or headers.get("server"),
            "served_build_info": headers.get("x-build-info"),
            "served_model": headers.get("x-model") or headers.get("openai-model") or e.get("model"),
            "provider": provider(e.get("model"), e.get("source")),
            # type-checker: narrowed by isinstance() on the same .get()
            "upstream_url": rdata.get("upstream"),  # type: ignore[union-attr]
            "session": e.get("session"),
            "agent": e.get("agent_id") and f"subagent:{e['agent_id']}" or agent or e.get("source"),
        }
