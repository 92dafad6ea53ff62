"""``setup``: install, show or remove agent-strace hooks in an agent's settings."""

from __future__ import annotations

import difflib
import os
import sys

from . import EXIT_ERROR, EXIT_OK
from .parsing import parser

CLIS = ("claude", "codex", "gemini", "opencode")


def run(name: str, argv: list[str]) -> int:
    p = parser("setup", "Install agent-strace hooks into an agent's settings file, merging with "
                        "what is there (idempotent; other hooks and keys are kept; a backup is made). "
                        "'setup mcp' routes the stdio MCP servers of an mcpServers file through "
                        "'agent-strace record'.")
    p.add_argument("target", nargs="?", choices=("hooks", "mcp"), default="hooks",
                   help="hooks (default) or mcp")
    p.add_argument("--file", metavar="PATH", help="setup mcp: the mcpServers JSON (default: PROJECT/.mcp.json)")
    p.add_argument("--cli", choices=CLIS, default="claude", help="which agent (default: claude)")
    p.add_argument("--scope", choices=("user", "project", "local"), default=None,
                   help="user (~/.claude/settings.json), project (.claude/settings.json) or "
                        "local (.claude/settings.local.json; Claude Code only); default: project "
                        "(user for --statusline, local with --transport http)")
    p.add_argument("--statusline", action="store_true",
                   help="Claude Code: install agent-strace's status line (cost, 5-hour block, context) "
                        "instead of the hooks")
    p.add_argument("--project", metavar="DIR", default=".", help="project root (default: .)")
    p.add_argument("--print", dest="dry", action="store_true", help="show the change, write nothing")
    p.add_argument("--uninstall", action="store_true", help="remove only agent-strace's hooks")
    p.add_argument("--python", metavar="PATH",
                   help="interpreter the hook command runs (default: this one, by absolute path)")
    p.add_argument("--trust", action="store_true",
                   help="also record the approval the agent asks for, as its own review would: Codex: the "
                        "project and these hooks in ~/.codex/config.toml; Gemini CLI: the folder in "
                        "~/.gemini/trustedFolders.json")
    p.add_argument("--transport", choices=("command", "http"), default="command",
                   help="Claude Code: command hooks (a process per event, default) or http (events posted to "
                        "the agent-strace daemon, started on demand; see docs/hooks.md)")
    p.add_argument("--port", type=int, metavar="N",
                   help="--transport http: the daemon's loopback port (default: the one configured, else 47391)")
    p.add_argument("--enforce", choices=("http", "command"), default="http",
                   help="--transport http: PreToolUse answered by the daemon, refused by Claude Code while it is "
                        "unreachable (http, default), or a command hook per tool call (command)")
    args = p.parse_args(argv)
    if args.scope is None and args.statusline:
        args.scope = "user"
    if args.statusline:
        if args.cli != "claude" or args.target != "hooks":
            p.error("--statusline is a Claude Code setting (setup --statusline)")
        return _setup_statusline(args)
    if args.cli != "claude" and args.scope == "local":
        p.error(f"--scope local is a Claude Code scope; use user or project for {args.cli}")
    if args.transport == "http" and args.cli != "claude":
        p.error(f"--transport http is for Claude Code; {args.cli} runs command hooks")
    if args.scope is None:  # the daemon and its secret are per user: so are the hooks that reach it
        args.scope = "local" if args.transport == "http" else "project"
    elif args.scope == "project" and args.transport == "http" and not args.uninstall:
        print("note: HTTP hooks in the project file reach each teammate's own daemon; a teammate without "
              "agent-strace gets every tool call refused (no daemon answers PreToolUse): consider --scope local")
    if args.port is not None and not 0 < args.port < 65536:
        p.error(f"--port must be a TCP port, not {args.port}")
    if args.target == "mcp":
        return _setup_mcp(args)
    return _setup(args)


def _setup_mcp(args) -> int:
    from agent_trace.setup import mcp_config, settings_file

    path = args.file or os.path.join(os.path.abspath(args.project), ".mcp.json")
    if not os.path.exists(path):
        sys.stderr.write(f"agent-strace setup mcp: no such file: {path}\n")
        return EXIT_ERROR
    try:
        current = settings_file.load(path)
    except settings_file.SettingsError as e:
        sys.stderr.write(f"agent-strace setup mcp: {e}\n")
        return EXIT_ERROR
    notes: list[str] = []
    if args.uninstall:
        new = mcp_config.unwrap(current)
    else:
        new, notes = mcp_config.wrap(current, args.python)
    return _write(args, path, current, new, notes, "MCP servers routed through agent-strace record in",
                  "MCP servers restored in")


def _module(cli: str):
    if cli == "claude":
        from agent_trace.setup import claude as m
    elif cli == "codex":
        from agent_trace.setup import codex as m  # type: ignore[no-redef]  # one module per agent, same interface
    else:
        from agent_trace.setup import gemini as m  # type: ignore[no-redef]  # one module per agent, same interface
    return m


def _setup(args) -> int:
    from agent_trace.setup import settings_file

    if args.cli == "opencode":
        from .setup_agents import setup_opencode

        return setup_opencode(args)
    m = _module(args.cli)
    project = os.path.abspath(args.project)
    path = m.settings_path(args.scope, project)
    try:
        current = settings_file.load(path)
    except settings_file.SettingsError as e:
        sys.stderr.write(f"agent-strace setup: {e}\n")
        return EXIT_ERROR
    if args.uninstall:
        return _uninstall(args, m, path, current, project)
    portable = args.scope == "project" and not args.python
    notes = ["project hooks run `agent-strace` from PATH, so the file works on every teammate's "
             "machine that has agent-strace installed"] if portable else []
    if args.transport == "http":
        from agent_trace.cli.setup_http import prepare

        try:
            port, secret = prepare(args)
        except (OSError, ValueError) as e:
            sys.stderr.write(f"agent-strace setup: {e}\n")
            return EXIT_ERROR
        new = m.install(current, args.python, portable, http_port=port, enforce=args.enforce)
        if args.scope == "user":
            from agent_trace.setup.http_hooks import with_secret_env

            new = with_secret_env(new, secret)
    else:
        new = m.install(current, args.python, portable)
    had_ours = m.remove(current) != current
    code = _write(args, path, current, new, notes, "installed agent-strace hooks in",
                  "removed agent-strace hooks from", backup=not had_ours)
    if code == EXIT_OK and args.transport == "http":
        from agent_trace.cli.setup_http import finish

        code = finish(args, path, port, secret, _write)
    if code == EXIT_OK and not args.dry and args.cli in ("codex", "gemini"):
        from .setup_agents import after_install

        return after_install(args, m, path, project)
    return code


def _uninstall(args, m, path: str, current: dict, project: str) -> int:
    """Remove our hooks and leave the file as it was before setup: the backup
    put back when nothing else changed since, the file deleted when setup had
    created it, otherwise only our entries taken out."""
    from agent_trace.setup import settings_file

    if m.remove(current) == current:
        print(f"{path}: no agent-strace hooks" if os.path.exists(path) else f"{path}: no such file, nothing to remove")
        return EXIT_OK
    ours = m.entries(path, current) if args.cli == "codex" else []
    before = settings_file.load_backup(path)
    new = m.uninstall(current, before) if hasattr(m, "uninstall") else m.remove(current)
    if args.cli == "claude" and args.scope == "user":  # the daemon's secret went beside the hooks
        from agent_trace.setup.http_hooks import without_secret_env

        new = without_secret_env(new)
    if args.dry:
        return _write(args, path, current, new, [], "", "")
    try:
        if before is not None and new == before:
            settings_file.restore(path)
            print(f"removed agent-strace hooks from {path} (restored as it was before setup)")
        elif before is None and not new:
            settings_file.delete(path)
            print(f"removed {path} (setup had created it)")
        else:
            settings_file.save(path, new, backup=False)
            print(f"removed agent-strace hooks from {path}")
    except OSError as e:
        sys.stderr.write(f"agent-strace setup: cannot write {path}: {e.strerror}\n")
        return EXIT_ERROR
    if args.cli in ("codex", "gemini"):
        from .setup_agents import after_uninstall

        after_uninstall(args, m, ours, project, hooks_left=bool(new.get("hooks")))
    return EXIT_OK


def _setup_statusline(args) -> int:
    """Our statusLine in Claude Code's settings: merged, idempotent, and
    taken out again by --uninstall (another tool's status line put back)."""
    from agent_trace.setup import claude, settings_file, statusline

    path = claude.settings_path(args.scope, os.path.abspath(args.project))
    try:
        current = settings_file.load(path)
    except settings_file.SettingsError as e:
        sys.stderr.write(f"agent-strace setup: {e}\n")
        return EXIT_ERROR
    if args.uninstall:
        if not statusline.is_ours(current.get(statusline.KEY)):
            print(f"{path}: no agent-strace status line")
            return EXIT_OK
        previous = None if args.dry else statusline.take_previous(path)
        new = statusline.remove(current, previous)
        before = settings_file.load_backup(path)
        if not args.dry and before is not None and new == before:
            settings_file.restore(path)
            print(f"removed the agent-strace status line from {path} (restored as it was before setup)")
            return EXIT_OK
        if not args.dry and before is None and not new:
            settings_file.delete(path)
            print(f"removed {path} (setup had created it)")
            return EXIT_OK
        return _write(args, path, current, new, [], "", "removed the agent-strace status line from", backup=False)
    new, replaced = statusline.install(current, args.python, args.scope == "project" and not args.python)
    notes = []
    if replaced is not None:
        notes.append("your status line was replaced; 'setup --statusline --uninstall' puts it back")
        if not args.dry:
            statusline.remember_previous(path, replaced)
    return _write(args, path, current, new, notes, "installed the agent-strace status line in", "")


def _write(args, path: str, current: dict, new: dict, notes: list[str], done: str, undone: str,
           backup: bool = True) -> int:
    from agent_trace.setup import settings_file

    for note in notes:
        print(f"note: {note}")
    if args.dry:
        before = settings_file.render(current).splitlines(keepends=True) if os.path.exists(path) else []
        diff = difflib.unified_diff(before, settings_file.render(new).splitlines(keepends=True),
                                    fromfile=path, tofile=path + " (after)")
        text = "".join(diff)
        sys.stdout.write(text if text else f"{path}: no change\n")
        return EXIT_OK
    try:
        changed = settings_file.save(path, new, backup=backup)
    except OSError as e:
        sys.stderr.write(f"agent-strace setup: cannot write {path}: {e.strerror}\n")
        return EXIT_ERROR
    print(f"{undone if args.uninstall else done} {path}" if changed else f"{path}: already up to date")
    return EXIT_OK
