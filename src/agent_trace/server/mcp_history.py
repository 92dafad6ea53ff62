"""``agent-strace mcp``: an MCP server (stdio) that lets an agent query its own
history.  Standard library only: newline-delimited JSON-RPC 2.0.

Tools: ``list_sessions``, ``search_events``, ``session_summary``,
``diff_sessions``.  Every answer comes from the same readers as the CLI.
"""

from __future__ import annotations

import json
import sys

from .. import __version__
from ..store import SessionNotFound, Store, StoreError
from ..store.timeline import iter_timeline

SUPPORTED = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")

TOOLS = [
    {"name": "list_sessions", "description": "Recorded agent sessions, newest first, with counts and cost.",
     "inputSchema": {"type": "object", "properties": {
         "limit": {"type": "integer", "description": "at most this many (default 20)"},
         "query": {"type": "string", "description": "only sessions whose title or id contains this"}}}},
    {"name": "search_events", "description": "Events whose content contains a text (case-insensitive).",
     "inputSchema": {"type": "object", "required": ["query"], "properties": {
         "query": {"type": "string"},
         "session": {"type": "string", "description": "one session (id, prefix or 'latest'); default: all"},
         "type": {"type": "string", "description": "only this event type or type prefix (tool, llm ...)"},
         "limit": {"type": "integer", "description": "at most this many matches (default 50)"}}}},
    {"name": "session_summary", "description": "One session's summary and plain-English explanation.",
     "inputSchema": {"type": "object", "required": ["session"], "properties": {
         "session": {"type": "string", "description": "id, prefix or 'latest'"}}}},
    {"name": "diff_sessions", "description": "Compare two sessions: metrics, files, tool sequence, verdict.",
     "inputSchema": {"type": "object", "required": ["a", "b"], "properties": {
         "a": {"type": "string"}, "b": {"type": "string"}}}},
]


class ToolError(Exception):
    pass


class HistoryServer:
    def __init__(self, store: Store):
        self.store = store

    # -- tools ------------------------------------------------------------------
    def list_sessions(self, limit: int = 20, query: str | None = None) -> dict:
        from ..analysis.session_index import list_sessions

        rows = list_sessions(self.store)
        if query:
            q = query.lower()
            rows = [r for r in rows if q in (r.get("title") or "").lower() or q in r["session"].lower()]
        keep = ("session", "title", "agent", "started", "last", "duration_s", "events", "tool_calls",
                "tool_errors", "llm_calls", "tokens", "cost_usd", "ended")
        return {"sessions": [{k: r.get(k) for k in keep} for r in rows[: max(1, int(limit))]]}

    def search_events(self, query: str, session: str | None = None, type: str | None = None,
                      limit: int = 50) -> dict:
        from ..render.strace import Formatter
        from ..store.reader import ReadStats, parse_line

        paths = [self.store.resolve(session)] if session else [e.path for e in self.store.session_files()]
        needle = query.lower().encode("utf-8")
        hits = []
        stats = ReadStats()
        for path in paths:
            with open(path, "rb") as f:
                for line in f:
                    if needle not in line.lower():
                        continue
                    e = parse_line(line, stats)
                    if e is None or (type and not (e["type"] == type or e["type"].startswith(type + "."))):
                        continue
                    text = Formatter().line(e) or e["type"]
                    hits.append({"session": e["session"], "id": e["id"], "ts": e["ts"], "type": e["type"],
                                 "tool": e.get("tool"), "line": text[13:] if text[:2].isdigit() else text})
                    if len(hits) >= limit:
                        return {"matches": hits, "truncated": True}
        return {"matches": hits, "truncated": False}

    def session_summary(self, session: str) -> dict:
        from ..analysis.phases import iter_phases
        from ..render.story import explain_lines, phase_dict
        from ..analysis.summary import SessionSummary

        path = self.store.resolve(session)
        total = SessionSummary()
        phases = [phase_dict(p) for p in iter_phases(iter_timeline(path), total)]
        t = total.to_dict()
        return {"summary": t, "explanation": "\n".join(explain_lines(phases, t, t.get("cwd")))}

    def diff_sessions(self, a: str, b: str) -> dict:
        from ..analysis.compare import compare

        r = compare(self.store.resolve(a), self.store.resolve(b))
        r["metrics"] = {k: {kk: (None if vv == float("inf") else vv) for kk, vv in m.items()}
                        for k, m in r["metrics"].items()}
        return r

    # -- protocol ----------------------------------------------------------------
    def handle(self, msg: dict):
        method, mid = msg.get("method"), msg.get("id")
        if method is None or "id" not in msg:
            return None  # notifications and stray responses need no answer
        if method == "initialize":
            asked = (msg.get("params") or {}).get("protocolVersion")
            version = asked if asked in SUPPORTED else SUPPORTED[0]
            return _result(mid, {"protocolVersion": version, "capabilities": {"tools": {"listChanged": False}},
                                 "serverInfo": {"name": "agent-strace", "version": __version__},
                                 "instructions": "Query the agent-strace history of agent sessions."})
        if method == "ping":
            return _result(mid, {})
        if method == "tools/list":
            return _result(mid, {"tools": TOOLS})
        if method == "tools/call":
            params = msg.get("params") or {}
            name, args = params.get("name"), params.get("arguments") or {}
            fn = getattr(self, name, None) if name in {t["name"] for t in TOOLS} else None
            if fn is None:
                return _error(mid, -32602, f"unknown tool {name!r}")
            try:
                out = fn(**args)
            except TypeError as e:
                return _tool_error(mid, f"bad arguments for {name}: {e}")
            except (SessionNotFound, StoreError, ToolError, OSError) as e:
                return _tool_error(mid, str(e))
            return _result(mid, {"content": [{"type": "text", "text": json.dumps(out, ensure_ascii=False)}],
                                 "structuredContent": out, "isError": False})
        return _error(mid, -32601, f"method not found: {method}")


def _result(mid, result):
    return {"jsonrpc": "2.0", "id": mid, "result": result}


def _error(mid, code, message):
    return {"jsonrpc": "2.0", "id": mid, "error": {"code": code, "message": message}}


def _tool_error(mid, message):
    return _result(mid, {"content": [{"type": "text", "text": message}], "isError": True})


def serve(store: Store, stdin=None, stdout=None) -> int:
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    server = HistoryServer(store)
    for line in stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            reply = _error(None, -32700, "parse error")
        else:
            if isinstance(msg, list):
                replies = [r for r in (server.handle(m) for m in msg if isinstance(m, dict)) if r]
                if replies:
                    stdout.write(json.dumps(replies).encode() + b"\n")
                    stdout.flush()
                continue
            reply = server.handle(msg) if isinstance(msg, dict) else _error(None, -32600, "invalid request")
        if reply is not None:
            stdout.write(json.dumps(reply, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n")
            stdout.flush()
    return 0
