"""``record``: run an MCP server behind the stdio proxy, logging every message."""

from __future__ import annotations

import os
import sys
import time

from . import EXIT_USAGE
from .parsing import parser


def run(name: str, argv: list[str]) -> int:
    p = parser("record", "Wrap an MCP server (stdio): agent-strace record [--name NAME] -- CMD ARGS...")
    p.add_argument("--name", help="server name (tools are logged as mcp__NAME__TOOL)")
    p.add_argument("--session", help="session id to log into (default: $AGENT_STRACE_SESSION or a new id)")
    p.add_argument("command", nargs="*", metavar="CMD", help="the server command, after --")
    args = p.parse_args(argv)
    if not args.command:
        sys.stderr.write("agent-strace record: give the server command after --, "
                         "e.g. agent-strace record -- npx @modelcontextprotocol/server-everything\n")
        return EXIT_USAGE
    from agent_trace.capture.mcp_stdio import StdioProxy
    from agent_trace.event import new_id
    from agent_trace.sink import open_sink
    from agent_trace.store.paths import Store

    session = args.session or os.environ.get("AGENT_STRACE_SESSION") or (
        f"mcp-{args.name or os.path.basename(args.command[0])}-"
        f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{new_id()[:8]}")
    sink = open_sink(Store.open(args.trace_dir))
    return StdioProxy(args.command, sink, session, args.name).run()
