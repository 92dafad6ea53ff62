"""Command-line entry point: a table of command families, imported lazily.

Only the module that owns the command being run is imported, so a hook
invocation never pays for the readers, proxies or exporters.  ``hook`` skips
argparse altogether: it is on the agent's hot path.

Exit codes (also in ``docs/cli.md``):
  0 success; 1 runtime error (unreadable store, I/O failure);
  2 bad arguments or input; 3 session not found or ambiguous;
  4 a check failed (lint --strict findings, compare regression, a rule fired).
"""

from __future__ import annotations

import sys

# Command families, in the order --help shows them.  Each family is a table
# of command -> (module, one-line help); only the owning module is imported.
FAMILIES = {
    "record": {
        "setup": ("agent_trace.cli.setup_cmds", "install agent-strace hooks into an agent's settings"),
        "hook": ("agent_trace.cli.hook_cmds", "record one agent hook event (reads JSON on stdin)"),
        "doctor": ("agent_trace.cli.doctor_cmd", "check that each agent records: hooks present, current, trusted"),
        "daemon": ("agent_trace.cli.daemon_cmd", "the per-user daemon HTTP hooks post to (start, stop, status)"),
        "import": ("agent_trace.cli.import_cmd", "import existing agent logs as whole sessions (--all: every one)"),
        "record": ("agent_trace.cli.record_cmd", "run an MCP server (stdio) behind a logging proxy"),
        "proxy": ("agent_trace.cli.llm_cmds", "capture proxy for OpenAI/Anthropic-compatible APIs"),
        "run": ("agent_trace.cli.llm_cmds", "run an agent (or a task corpus) with its LLM calls captured"),
        "demo": ("agent_trace.cli.demo_cmd", "record a demo session from a bundled capture and replay it"),
    },
    "read": {
        "list": ("agent_trace.cli.store_cmds", "list recorded sessions"),
        "inspect": ("agent_trace.cli.store_cmds", "show one session's summary"),
        "replay": ("agent_trace.cli.replay_cmd", "print a session one line per event, like strace"),
        "stats": ("agent_trace.cli.report_cmds", "counts, durations (p50/p95), tokens and errors"),
        "cost": ("agent_trace.cli.report_cmds", "money spent, from real token usage"),
        "usage": ("agent_trace.cli.usage_cmds", "tokens and cost across all history: daily ... blocks"),
        "prices": ("agent_trace.cli.usage_cmds", "the price table; prices update --from LiteLLM's JSON"),
        "search": ("agent_trace.cli.search_cmd", "find text in every session: prompts, tool calls, results, errors"),
        "statusline": ("agent_trace.cli.statusline_cmd", "Claude Code's status line: costs, 5-hour block, context"),
        "explain": ("agent_trace.cli.story_cmds", "the session in plain English, phase by phase"),
        "timeline": ("agent_trace.cli.story_cmds", "phases with durations and cost"),
        "why": ("agent_trace.cli.story_cmds", "the causal chain behind one event"),
        "diff": ("agent_trace.cli.story_cmds", "compare two sessions, with the tool-sequence diff"),
        "compare": ("agent_trace.cli.story_cmds", "compare two sessions: metrics and a verdict for CI"),
        "tree": ("agent_trace.cli.story_cmds", "sessions and subagents as a hierarchy"),
        "lint": ("agent_trace.cli.lint_cmd", "check a session against named rules (--strict for CI)"),
        "browse": ("agent_trace.cli.browse_cmd", "interactive terminal picker: sessions, calls, one call"),
        "mcp": ("agent_trace.cli.mcp_cmd", "an MCP server (stdio) for agents to query their own history"),
        "store": ("agent_trace.cli.store_cmds", "where the store is and what it holds"),
    },
    "control": {
        "watch": ("agent_trace.cli.watch_cmd", "live view; limits that stop the agent process"),
        "rules": ("agent_trace.cli.control_cmds", "validate the rules file (rules check)"),
        "pause": ("agent_trace.cli.control_cmds", "pause the agent at its next tool call"),
        "resume": ("agent_trace.cli.control_cmds", "let a paused agent go on"),
        "postmortem": ("agent_trace.cli.control_cmds", "what a stop rule left behind"),
        "notify": ("agent_trace.cli.notify_cmd", "alerts to Slack, Teams or any webhook: test, status, flush"),
    },
    "share": {
        "export": ("agent_trace.cli.export_cmds", "write a session out (jsonl, json, otlp, dataset)"),
        "share": ("agent_trace.cli.server_cmds", "one session as a self-contained offline HTML page"),
        "ui": ("agent_trace.cli.server_cmds", "the web dashboard over the local store"),
        "report": ("agent_trace.cli.report_cmd", "a PR report (markdown, GitHub job summary): what the agent did"),
    },
    "test": {
        "cassette": ("agent_trace.cli.cassette_cmds", "cassettes: from-session (make one), diff (compare two)"),
        "serve": ("agent_trace.cli.cassette_cmds", "replay a cassette to a real agent: --llm (HTTP) or --mcp (stdio)"),
        "grade": ("agent_trace.cli.grade_cmd", "run a verify command in a session's workspace; record the result"),
    },
    "team": {
        "server": ("agent_trace.cli.server_cmds", "collector for remote capture and OTLP, with the web dashboard"),
        "push": ("agent_trace.cli.server_cmds", "deliver spooled events to AGENT_STRACE_ENDPOINT now"),
    },
}

FAMILY_TITLES = {
    "record": "record: capture what an agent does",
    "read": "read: what happened, what it cost, what went wrong",
    "control": "control: rules, limits and the kill switch",
    "share": "share: export, share and look in a browser",
    "test": "test: record once, replay deterministically",
    "team": "team: collect sessions from many machines",
}

COMMANDS = {name: spec for family in FAMILIES.values() for name, spec in family.items()}

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CHECK = 0, 1, 2, 3, 4


def _usage() -> str:
    from agent_trace import __version__

    width = max(len(c) for c in COMMANDS)
    lines = [
        f"agent-strace {__version__}: strace for AI agents",
        "",
        "usage: agent-strace [--version] [--trace-dir DIR] COMMAND [ARGS]",
        "",
    ]
    for family, commands in FAMILIES.items():
        lines.append(FAMILY_TITLES[family])
        lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in commands.items()]
        lines.append("")
    lines.append("Run 'agent-strace COMMAND --help' for a command's options.")
    return "\n".join(lines)


def _lenient_output() -> None:
    """Text that is not valid Unicode (lone surrogates a log's odd bytes or
    escapes left in a stored string) prints as ``\\udcff`` escapes instead
    of failing the command half-way with a traceback."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # a test's StringIO has none
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # closed, or not a text stream after all
                pass


def main(argv: list[str] | None = None) -> int:
    _lenient_output()
    if argv is None:
        argv = sys.argv[1:]
    # Global options may come before the command.
    pre: list[str] = []
    while argv and argv[0].startswith("-"):
        opt = argv[0]
        if opt in ("-h", "--help"):
            print(_usage())
            return EXIT_OK
        if opt in ("-V", "--version"):
            from agent_trace import __version__

            print(f"agent-strace {__version__}")
            return EXIT_OK
        if opt == "--trace-dir" and len(argv) > 1:
            pre += argv[:2]
            argv = argv[2:]
            continue
        if opt.startswith("--trace-dir="):
            pre.append(opt)
            argv = argv[1:]
            continue
        sys.stderr.write(f"agent-strace: unknown option {opt!r} (see --help)\n")
        return EXIT_USAGE
    if not argv:
        print(_usage())
        return EXIT_USAGE
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        sys.stderr.write(f"agent-strace: unknown command {name!r} (see --help)\n")
        return EXIT_USAGE
    if name == "hook":  # hot path: no argparse
        from agent_trace.cli.hook_cmds import hook_main

        return hook_main(pre + rest)
    if name == "statusline":  # runs after every message of Claude Code: no argparse either
        from agent_trace.cli.statusline_cmd import statusline_main

        return statusline_main(rest)
    import importlib

    module = importlib.import_module(COMMANDS[name][0])
    return module.run(name, pre + rest)
