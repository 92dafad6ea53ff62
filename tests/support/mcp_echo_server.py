"""A tiny MCP server (official Python SDK, stdio) for agent end-to-end tests."""

try:  # mcp >= 2
    from mcp.server.mcpserver import MCPServer as Server
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as Server

app = Server("echo")


@app.tool()
def echo(text: str) -> str:
    """Echo the text back, upper-cased."""
    return text.upper()


@app.tool()
def fail(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"failed on purpose: {reason}")


if __name__ == "__main__":
    app.run()
