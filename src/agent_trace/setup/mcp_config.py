"""``setup mcp``: route the stdio MCP servers of an ``mcpServers`` config
(Claude Code's ``.mcp.json``, Claude Desktop, Cursor ...) through
``agent-strace record``, and back.

A wrapped server keeps every key it had; only ``command`` and ``args`` change,
to ``<python> -c <launcher> record --name NAME -- <original command> <args>``,
so undoing is reading the original back from after ``--``.  URL servers
(``type: http``/``sse``) cannot be wrapped in a config file; they are listed
with the ``record --url`` command to run instead.
"""

from __future__ import annotations

import sys

from .hook_command import LAUNCH, MARKER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def is_wrapped(server) -> bool:
    args = server.get("args") if isinstance(server, dict) else None
    return (isinstance(args, list) and len(args) >= 5 and args[0] == "-c"
            and isinstance(args[1], str) and MARKER in args[1] and args[2] == "record" and "--" in args)


def wrap(config: dict, python: str | None = None) -> tuple[dict, list[str]]:
    servers = config.get("mcpServers")
    if not isinstance(servers, dict):
        return config, ["no mcpServers in this file"]
    notes, out = [], {}
    for name, srv in servers.items():
        if not isinstance(srv, dict) or is_wrapped(srv):
            out[name] = srv
            continue
        if not isinstance(srv.get("command"), str):
            if isinstance(srv.get("url"), str):
                notes.append(f"{name}: URL server not wrapped; run `agent-strace record --url {srv['url']} "
                             f"--name {name}` and point the client at the address it prints")
            out[name] = srv
            continue
        orig_args: list[Any] = srv["args"] if isinstance(srv.get("args"), list) else []
        out[name] = {**srv, "command": python or sys.executable,
                     "args": ["-c", LAUNCH, "record", "--name", name, "--", srv["command"], *orig_args]}
    return {**config, "mcpServers": out}, notes


def unwrap(config: dict) -> dict:
    servers = config.get("mcpServers")
    if not isinstance(servers, dict):
        return config
    out = {}
    for name, srv in servers.items():
        if is_wrapped(srv):
            args = srv["args"]
            original = args[args.index("--") + 1:]
            restored = {**srv, "command": original[0]}
            if len(original) > 1:
                restored["args"] = original[1:]
            else:
                restored.pop("args", None)
            out[name] = restored
        else:
            out[name] = srv
    return {**config, "mcpServers": out}
