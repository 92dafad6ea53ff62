"""``record``: put a logging proxy in front of an MCP server.

* stdio: ``agent-strace record [--name NAME] -- CMD ARGS...``
* HTTP:  ``agent-strace record --url URL [--port N]`` (Streamable HTTP and legacy SSE)
"""

from __future__ import annotations

import os
import sys
import time

from . import EXIT_OK, EXIT_USAGE
from .parsing import parser


def run(name: str, argv: list[str]) -> int:
    p = parser("record", "Log every message between an agent and an MCP server. "
                         "stdio: record [--name NAME] -- CMD ARGS...; HTTP: record --url URL [--port N]")
    p.add_argument("--name", help="server name (tools are logged as mcp__NAME__TOOL)")
    p.add_argument("--session", help="session id to log into (default: $AGENT_STRACE_SESSION or a new id)")
    p.add_argument("--url", help="HTTP mode: the MCP server's URL (Streamable HTTP or legacy SSE)")
    p.add_argument("--port", type=int, default=0, help="HTTP mode: port to listen on (default: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="HTTP mode: address to listen on (default: 127.0.0.1)")
    p.add_argument("command", nargs="*", metavar="CMD", help="stdio mode: the server command, after --")
    args = p.parse_args(argv)
    if bool(args.url) == bool(args.command):
        sys.stderr.write("agent-strace record: give either --url URL or a server command after --, "
                         "e.g. agent-strace record -- npx @modelcontextprotocol/server-everything\n")
        return EXIT_USAGE
    from agent_trace.event import new_id
    from agent_trace.capture.sink import open_sink
    from agent_trace.store.paths import Store

    label = args.name or (os.path.basename(args.command[0]) if args.command else "http")
    # Started by Claude Code: log into the agent's own session (and project),
    # where its hooks already record each tool call once.
    agent_session = os.environ.get("CLAUDE_CODE_SESSION_ID")
    session = args.session or os.environ.get("AGENT_STRACE_SESSION") or agent_session or (
        f"mcp-{label}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{new_id()[:8]}")
    tool_events = not (agent_session and session == agent_session)
    sink = open_sink(Store.open(args.trace_dir, cwd=os.environ.get("CLAUDE_PROJECT_DIR")))
    if args.command:
        from agent_trace.capture.mcp_stdio import StdioProxy

        return StdioProxy(args.command, sink, session, args.name, tool_events).run()
    return _http(args, sink, session, tool_events)


def _http(args, sink, session: str, tool_events: bool) -> int:
    from urllib.parse import urlsplit

    from agent_trace import event as ev
    from agent_trace.capture.mcp_http import McpHttpObserver, endpoint_rewriter
    from agent_trace.proxy.http_forward import ReverseProxy

    observer = McpHttpObserver(sink, session, args.name, tool_events)
    try:
        proxy = ReverseProxy(args.url, observer, host=args.host, port=args.port)
    except (ValueError, OSError) as e:
        sys.stderr.write(f"agent-strace record: {e}\n")
        return EXIT_USAGE
    proxy.rewrite_stream = endpoint_rewriter(args.url, proxy.url)
    path = urlsplit(args.url).path or "/"
    sink.emit(ev.make_event(ev.SESSION_START, session, "mcp-http", name=args.name,
                            data={"upstream": args.url, "listen": proxy.url}))
    sys.stderr.write(f"agent-strace: proxying {args.url} at {proxy.url}{path} (session {session})\n")
    sys.stderr.flush()
    try:
        proxy.serve_until_signal()
    finally:
        sink.emit(ev.make_event(ev.SESSION_END, session, "mcp-http", name=args.name,
                                data={"upstream": args.url}))
    return EXIT_OK
