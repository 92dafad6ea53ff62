"""``cassette from-session``: any recorded session as a cassette.

* LLM calls captured by the LLM proxy or the SDK's instrumentation
  (``llm.request`` + its response, paired by ``parent``) -> ``http``
  entries; a captured SSE stream becomes its events as chunks.
* MCP traffic from the MCP proxies (``mcp.message`` requests and their
  responses, client to server) -> ``mcp`` entries.
* Functions traced with the SDK (``tool.call`` + result from
  ``python-sdk``) -> ``function`` entries.

The session's workspace root and home (:mod:`agent_trace.analysis.workspace`)
become the cassette's ``workspace``, so it replays in any folder.
"""

from __future__ import annotations

import re
import urllib.parse

from .. import event as ev
from ..analysis.workspace import WorkspaceFinder
from ..store.reader import iter_events
from . import format as fmt
from .secrets import safe_headers, scrub, scrub_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SSE_EVENT = re.compile(r".*?(?:\r?\n\r?\n|\Z)", re.S)


def sse_chunks(raw: str) -> list[str]:
    return [m.group(0) for m in _SSE_EVENT.finditer(raw) if m.group(0)]


def _http_entry(req: dict, resp: dict | None) -> dict | None:
    d = req.get("data") or {}
    path, _, query = str(d.get("path") or "").partition("?")
    body = d.get("body")
    if isinstance(body, dict) and set(body) == {"raw_b64"}:
        body_spec: dict[str, Any] | None = {"b64": body["raw_b64"]}
    elif isinstance(body, dict) and set(body) == {"raw_text"}:
        body_spec = {"text": body["raw_text"]}
    else:
        body_spec = {"json": body} if body is not None else None
    request = {"method": d.get("method") or req.get("method") or "POST",
               "host": urllib.parse.urlsplit(d.get("upstream") or "").hostname,
               "path": path, "query": dict(urllib.parse.parse_qsl(query)),
               "headers": safe_headers((d.get("headers") or {}).items()), "body": scrub(body_spec)}
    if resp is None:
        return None
    r = resp.get("data") or {}
    status = r.get("status")
    if not status:
        return {"kind": "http", "request": request, "response": {"exception": {
            "type": "httpx.ConnectError", "message": ((resp.get("error") or {}).get("message") or "no response")}}}
    headers = safe_headers((r.get("headers") or {}).items())
    if "sse" in r:
        headers.setdefault("content-type", "text/event-stream")
        response = {"status": status, "headers": headers, "stream": [scrub_text(c) for c in sse_chunks(r["sse"])]}
    elif "body" in r:
        response = {"status": status, "headers": headers, "body": scrub({"json": r["body"]})}
    elif "body_text" in r:
        response = {"status": status, "headers": headers, "body": {"text": r["body_text"]}}
    else:
        response = {"status": status, "headers": headers, "body": fmt.encode_body(b"")}
    return {"kind": "http", "request": request, "response": response}


def from_session(path: str) -> tuple[list[dict], dict, dict]:
    """(entries in call order, counts by kind, workspace header)."""
    requests: dict[str, dict] = {}
    mcp_requests: dict[str, dict] = {}
    calls: dict[str, dict] = {}
    order: list[tuple[str, str]] = []  # (kind, key) in request order
    done: dict[tuple[str, str], dict] = {}
    where = WorkspaceFinder()
    for e in iter_events(path):
        where.add(e)
        t = e.get("type")
        if t == ev.LLM_REQUEST:
            requests[e["id"]] = e
            order.append(("http", e["id"]))
        elif t in (ev.LLM_RESPONSE, ev.GENERIC) and e.get("parent") in requests:
            entry = _http_entry(requests[e["parent"]], e)
            if entry:
                done[("http", e["parent"])] = entry
        elif t == ev.MCP_MESSAGE:
            msg = e.get("data") if isinstance(e.get("data"), dict) else {}
            if e.get("name") == "request" and e.get("direction") == "client->server":
                mcp_requests[e["id"]] = msg
                order.append(("mcp", e["id"]))
            elif e.get("name") == "response" and e.get("parent") in mcp_requests:
                req = mcp_requests[e["parent"]]
                response = {"error": msg["error"]} if "error" in msg else {"result": msg.get("result")}
                done[("mcp", e["parent"])] = {"kind": "mcp", "request": {
                    "method": req.get("method"), "params": scrub(req.get("params"))}, "response": scrub(response)}
        elif e.get("source") == "python-sdk" and t == ev.TOOL_CALL and e.get("tool_use_id"):
            calls[e["tool_use_id"]] = e
            order.append(("function", e["tool_use_id"]))
        elif e.get("source") == "python-sdk" and t in (ev.TOOL_RESULT, ev.TOOL_ERROR) \
                and e.get("tool_use_id") in calls:
            call = calls[e["tool_use_id"]]
            inp = (call.get("data") or {}).get("tool_input")
            if t == ev.TOOL_ERROR:
                err = e.get("error") or {}
                etype = err.get("type") or "Exception"
                if err.get("module"):
                    etype = f"{err['module']}.{etype}"
                response = {"exception": {"type": etype, "message": err.get("message")}}
            else:
                response = {"result": (e.get("data") or {}).get("tool_response")}
            done[("function", e["tool_use_id"])] = {"kind": "function",
                                                    "request": {"name": call.get("tool"), "arguments": scrub(inp)},
                                                    "response": scrub(response)}
    entries = [done[k] for k in order if k in done]
    counts: dict[str, int] = {}
    for en in entries:
        counts[en["kind"]] = counts.get(en["kind"], 0) + 1
    counts["unanswered"] = len(order) - len(entries)
    root, home = where.places()
    return entries, counts, {k: v for k, v in (("root", root), ("home", home)) if v}
