"""``setup``: install, show or remove agent-strace hooks in an agent's settings."""

from __future__ import annotations

import difflib
import os
import sys

from . import EXIT_ERROR, EXIT_OK
from .parsing import parser

CLIS = ("claude", "codex", "gemini")


def run(name: str, argv: list[str]) -> int:
    p = parser("setup", "Install agent-strace hooks into an agent's settings file, merging with "
                        "what is there (idempotent; other hooks and keys are kept; a backup is made).")
    p.add_argument("--cli", choices=CLIS, default="claude", help="which agent (default: claude)")
    p.add_argument("--scope", choices=("user", "project", "local"), default="project",
                   help="user (~/.claude/settings.json), project (.claude/settings.json) or "
                        "local (.claude/settings.local.json; Claude Code only)")
    p.add_argument("--project", metavar="DIR", default=".", help="project root (default: .)")
    p.add_argument("--print", dest="dry", action="store_true", help="show the change, write nothing")
    p.add_argument("--uninstall", action="store_true", help="remove only agent-strace's hooks")
    p.add_argument("--python", metavar="PATH",
                   help="interpreter the hook command runs (default: this one, by absolute path)")
    args = p.parse_args(argv)
    if args.cli != "claude" and args.scope == "local":
        p.error(f"--scope local is a Claude Code scope; use user or project for {args.cli}")
    return _setup(args)


def _module(cli: str):
    if cli == "claude":
        from agent_trace.setup import claude as m
    elif cli == "codex":
        from agent_trace.setup import codex as m
    else:
        from agent_trace.setup import gemini as m
    return m


def _setup(args) -> int:
    from agent_trace.setup import settings_file

    m = _module(args.cli)
    project = os.path.abspath(args.project)
    path = m.settings_path(args.scope, project)
    try:
        current = settings_file.load(path)
    except settings_file.SettingsError as e:
        sys.stderr.write(f"agent-strace setup: {e}\n")
        return EXIT_ERROR
    new = m.remove(current) if args.uninstall else m.install(current, args.python)
    if args.dry:
        before = settings_file.render(current).splitlines(keepends=True) if os.path.exists(path) else []
        diff = difflib.unified_diff(before, settings_file.render(new).splitlines(keepends=True),
                                    fromfile=path, tofile=path + " (after)")
        text = "".join(diff)
        sys.stdout.write(text if text else f"{path}: no change\n")
        return EXIT_OK
    try:
        changed = settings_file.save(path, new)
    except OSError as e:
        sys.stderr.write(f"agent-strace setup: cannot write {path}: {e.strerror}\n")
        return EXIT_ERROR
    verb = "removed agent-strace hooks from" if args.uninstall else "installed agent-strace hooks in"
    print(f"{verb} {path}" if changed else f"{path}: already up to date")
    if args.cli == "codex" and not args.uninstall:
        _codex_flag(m, args.scope, project, args.dry)
    return EXIT_OK


def _codex_flag(m, scope: str, project: str, dry: bool) -> None:
    cfg = m.config_path(scope, project)
    try:
        with open(cfg, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    new, advice = m.feature_flag_fix(text)
    if advice:
        print(f"note: {advice} ({cfg})")
    elif new is not None:
        os.makedirs(os.path.dirname(cfg), exist_ok=True)
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(new)
        print(f"enabled codex_hooks in {cfg}")
