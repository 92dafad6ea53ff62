"""``agent-strace serve --mcp CASSETTE``: an MCP server on stdio that plays
recorded results: ``initialize`` answers with the recorded server's
capabilities and info, list methods (``tools/list`` ...) may repeat, and
``tools/call`` and every other request play the recording with the same
method and params (``params._meta`` ignored), each once.  A request with no
recording gets a JSON-RPC error that names the closest one."""

from __future__ import annotations

import json
import sys

from .. import __version__
from .core import Cassette, CassetteDivergence

DEFAULT_IGNORE = ("params._meta",)


def _reply(out, msg: dict) -> None:
    out.write(json.dumps(msg, ensure_ascii=False) + "\n")
    out.flush()


def serve_stdio(cassette: Cassette, inp=None, out=None, log=sys.stderr) -> int:
    inp = inp or sys.stdin
    out = out or sys.stdout
    for line in inp:
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            _reply(out, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
            continue
        if not isinstance(msg, dict) or "method" not in msg or "id" not in msg:
            continue  # notifications and responses need no answer
        method, rid = msg["method"], msg["id"]
        if method == "ping":
            _reply(out, {"jsonrpc": "2.0", "id": rid, "result": {}})
            continue
        call = {"method": method, "params": msg.get("params")}
        repeat = method == "initialize" or method.endswith("/list")
        try:
            if method == "initialize":
                entry = next((e for e in cassette.entries if e.get("kind") == "mcp"
                              and e["request"].get("method") == "initialize"), None)
                if entry is not None:
                    cassette.plays[cassette.entries.index(entry)] += 1
            else:
                entry = cassette.lookup("mcp", call, repeat=repeat)
        except CassetteDivergence as e:
            log.write(f"agent-strace serve --mcp: {e}\n")
            _reply(out, {"jsonrpc": "2.0", "id": rid, "error": {"code": -32001, "message": str(e)}})
            continue
        if entry is None:  # initialize with none recorded
            result = {"protocolVersion": (msg.get("params") or {}).get("protocolVersion", "2025-06-18"),
                      "capabilities": {"tools": {}},
                      "serverInfo": {"name": "agent-strace-replay", "version": __version__}}
            _reply(out, {"jsonrpc": "2.0", "id": rid, "result": result})
            continue
        resp = entry["response"]
        if "error" in resp:
            _reply(out, {"jsonrpc": "2.0", "id": rid, "error": resp["error"]})
        else:
            _reply(out, {"jsonrpc": "2.0", "id": rid, "result": resp.get("result")})
    return 0
