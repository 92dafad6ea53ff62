"""``mcp``: serve the session history to an agent as an MCP server (stdio)."""

from __future__ import annotations

from .parsing import open_store, parser


def run(name: str, argv: list[str]) -> int:
    p = parser("mcp", "An MCP server (stdio) with tools to list sessions, search events, summarise "
                      "and diff sessions. Add it to an agent: {\"command\": \"agent-strace\", \"args\": [\"mcp\"]}")
    args = p.parse_args(argv)
    from agent_trace.server.mcp_history import serve

    return serve(open_store(args))
