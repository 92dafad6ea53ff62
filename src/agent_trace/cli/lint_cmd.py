"""``lint``: named rules over a session; ``--strict`` exits 4 on findings (for CI)."""

from __future__ import annotations

import sys

from agent_trace.event.encode import to_bytes
from agent_trace.store.reader import ReadStats

from agent_trace.render import words

from . import EXIT_CHECK, EXIT_OK, EXIT_USAGE
from .parsing import add_json, guarded, open_store, parser
from agent_trace.store.timeline import iter_timeline


def run(name: str, argv: list[str]) -> int:
    p = parser("lint", "Check a session against named rules (loop, repeated-failure, reread, "
                       "edit-revert, error-spiral, huge-output, runaway-cost).")
    p.add_argument("session", nargs="?", metavar="SESSION", help="session id, prefix or 'latest'")
    add_json(p)
    p.add_argument("--strict", action="store_true", help="exit 4 when there are findings")
    p.add_argument("--rule", action="append", metavar="NAME", help="run only these rules (repeatable)")
    p.add_argument("--config", metavar="TOML", help="rules configuration (default: .agent-strace/lint.toml)")
    p.add_argument("--list", action="store_true", help="list the rules and their options")
    return guarded(_lint)(p.parse_args(argv))


def _lint(args) -> int:
    from agent_trace.lint import RULES
    from agent_trace.lint.runner import ConfigError, Linter, load_config

    if args.list:
        for r in RULES.values():
            opts = ", ".join(f"{k}={v}" for k, v in r.defaults.items())
            print(f"{r.name:<18} {r.severity:<8} {r.doc}" + (f"  [{opts}]" if opts else ""))
        return EXIT_OK
    if not args.session:
        sys.stderr.write("agent-strace lint: give a SESSION (or --list)\n")
        return EXIT_USAGE
    try:
        cfg = load_config(args.config)
        for n in args.rule or ():
            if n not in RULES:
                raise ConfigError(f"unknown rule {n!r} (known: {', '.join(sorted(RULES))})")
    except ConfigError as e:
        sys.stderr.write(f"agent-strace lint: {e}\n")
        return EXIT_USAGE
    path = open_store(args).resolve(args.session)
    linter = Linter(cfg, args.rule)
    stats = ReadStats()
    out = sys.stdout
    count = 0

    def emit(found):  # findings are written as they are found: memory stays flat
        nonlocal count
        for f in found:
            if args.json:
                out.write(("," if count else "") + "\n" + to_bytes(f.as_dict()).decode("utf-8"))
            else:
                where = f"#{f.index}" if f.index else ""
                out.write(f"{f.severity:<8} {f.rule:<17} {where:<8} {f.message}\n")
            count += 1

    if args.json:
        out.write('{"session": ' + to_bytes(args.session).decode() + ', "findings": [')
    feed = linter.feed
    # type-checker: a new loop variable, not the except clause's
    for e in iter_timeline(path, stats, sizes=True):  # type: ignore[misc]
        found = feed(e)  # type: ignore[misc]  # a new loop variable, not the except clause's
        if found:
            emit(found)
    if args.json:
        out.write('\n], "skipped": ' + to_bytes(stats.as_dict()).decode() + "}\n")
    else:
        out.write(f"{words.count(count, 'finding')} from {words.count(len(linter.rules), 'rule')}\n")
    findings = count
    note = stats.note()
    if note:
        sys.stderr.write(note + "\n")
    return EXIT_CHECK if args.strict and findings else EXIT_OK
