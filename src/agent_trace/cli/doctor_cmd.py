"""``doctor``: is recording set up so that nothing is lost?  One line per
finding, with the command that fixes it; exit 0 when healthy, 4 when
something would lose events or skip rules (see :mod:`agent_trace.setup.doctor`)."""

from __future__ import annotations

import os

from . import EXIT_CHECK, EXIT_OK

MARK = {"fail": "FAIL", "warn": "warn", "ok": "ok", "info": "--"}


def run(name: str, argv: list[str]) -> int:
    from .parsing import guarded, parser

    p = parser("doctor", "Check that Claude Code, Codex CLI, Gemini CLI and OpenCode record into agent-strace: "
                         "installed, hooks present, current and trusted, when each last recorded; the store, "
                         "the rules file and the remote endpoint.  Exit 4 when events would be lost or rules "
                         "skipped.")
    p.add_argument("--cli", choices=("claude", "codex", "gemini", "opencode"), action="append",
                   help="check only this agent (repeatable; default: all four)")
    p.add_argument("--project", metavar="DIR", default=".", help="project root (default: .)")
    p.add_argument("--json", action="store_true", help="findings as JSON")
    args = p.parse_args(argv)
    return guarded(_doctor)(args)


def _doctor(args) -> int:
    from agent_trace.setup.doctor import FAIL, run_checks
    from agent_trace.store.paths import resolve_root

    project = os.path.abspath(args.project)
    clis = tuple(args.cli or ("claude", "codex", "gemini", "opencode"))
    root = resolve_root(getattr(args, "trace_dir", None), project)
    findings = run_checks(project, root, clis)
    if args.json:
        import json

        print(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        width = max(len(f.agent) for f in findings)
        for f in findings:
            fix = f"  -> {f.fix}" if f.fix and f.level in ("fail", "warn") else ""
            print(f"{MARK[f.level]:4} {f.agent:<{width}}  {f.text}{fix}")
    return EXIT_CHECK if any(f.level == FAIL for f in findings) else EXIT_OK
