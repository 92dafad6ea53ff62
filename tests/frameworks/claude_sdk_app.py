"""A small real Claude Agent SDK agent (the real Claude Code CLI underneath,
offline against a scripted endpoint): it writes a file, runs a command that
fails, asks a subagent, and tries a command a rule may deny.  Run by the
tests in the frameworks virtualenv; prints one JSON line.

    python claude_sdk_app.py --cli PATH --cwd DIR --prompt TEXT [--trace | --noop-hooks EVENT,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from claude_agent_sdk import AssistantMessage, ClaudeAgentOptions, ResultMessage, query

ALLOWED = ["Write", "Read", "Bash", "Agent"]


async def run(a) -> dict:
    opts = dict(cli_path=a.cli, cwd=a.cwd, allowed_tools=ALLOWED, max_turns=12,
                setting_sources=[])
    if a.trace:
        from agent_trace.integrations import claude_agent_sdk_options

        options = claude_agent_sdk_options(**opts)
    elif a.noop_hooks:  # the benchmark's floor: the SDK's own cost per hook, with callbacks that do nothing
        from claude_agent_sdk import HookMatcher

        async def noop(input_data, tool_use_id, context):
            return {}

        hooks = {name: [HookMatcher(matcher=None, hooks=[noop])] for name in a.noop_hooks.split(",")}
        options = ClaudeAgentOptions(hooks=hooks, **opts)
    else:
        options = ClaudeAgentOptions(**opts)
    out: dict = {"tools": []}
    async for m in query(prompt=a.prompt, options=options):
        if isinstance(m, AssistantMessage):
            out["tools"] += [b.name for b in m.content if type(b).__name__ == "ToolUseBlock"]
        elif isinstance(m, ResultMessage):
            out.update(result=m.result, session_id=m.session_id, usage=m.usage, is_error=m.is_error)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cli", required=True)
    p.add_argument("--cwd", required=True)
    p.add_argument("--prompt", required=True)
    p.add_argument("--trace", action="store_true")
    p.add_argument("--noop-hooks", default="", help="comma-separated hook events to register no-op callbacks for")
    a = p.parse_args(argv)
    try:
        out = asyncio.run(run(a))
    except Exception as e:
        out = {"error": {"type": type(e).__name__, "message": str(e)}}
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
