"""``replay``: a session as strace-style lines (or JSON lines), live with --follow."""

from __future__ import annotations

import sys

from agent_trace.event.encode import to_bytes
from agent_trace.render.strace import Formatter
from agent_trace import event as ev
from agent_trace.store.reader import ReadStats
from agent_trace.store.timeline import timeline

from . import EXIT_OK, EXIT_USAGE
from .parsing import add_json, add_session, guarded, open_store, parser


def run(name: str, argv: list[str]) -> int:
    p = parser("replay", "Print a session one line per event, like strace.")
    add_session(p)
    add_json(p)
    p.add_argument("-f", "--follow", action="store_true",
                   help="keep printing new events until the session ends (Ctrl-C to stop)")
    p.add_argument("--type", action="append", metavar="TYPE",
                   help="only these event types (repeatable; prefix match: tool, llm, mcp ...)")
    p.add_argument("--tool", action="append", metavar="NAME", help="only these tools (repeatable)")
    p.add_argument("--failed", action="store_true", help="only failed tool calls and errors")
    p.add_argument("--agent", metavar="ID", help="only this subagent (prefix); 'main' for the main agent")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    return _replay(p.parse_args(argv))


def _keep(e: dict, args) -> bool:
    t = e.get("type", "")
    if args.type and not any(t == x or t.startswith(x.rstrip(".") + ".") for x in args.type):
        return False
    if args.tool and e.get("tool") not in args.tool:
        return False
    if args.failed and not (t == "tool.error" or e.get("status") == "error" or t == "rule.decision"):
        return False
    if args.agent:
        aid = e.get("agent_id")
        if args.agent == "main":
            return aid is None
        return bool(aid) and aid.startswith(args.agent)  # type: ignore[union-attr]  # bool(aid) checked it
    return True


def bad_types(types: list[str] | None) -> list[str]:
    """``--type`` values that name no event type (exact or a prefix like ``tool``)."""
    families = {t.split(".")[0] for t in ev.TYPES}
    return [x for x in types or () if x.rstrip(".") not in ev.TYPES and x.rstrip(".") not in families]


@guarded
def _replay(args) -> int:
    bad = bad_types(args.type)
    if bad:
        known = ", ".join(sorted({t.split(".")[0] for t in ev.TYPES} | set(ev.TYPES)))
        sys.stderr.write(f"agent-strace replay: unknown event type {bad[0]!r} (known: {known})\n")
        return EXIT_USAGE
    path = open_store(args).resolve(args.session)
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    fmt = Formatter(color=color)
    stats = ReadStats()
    out = sys.stdout
    tools_seen: set[str] = set()
    shown = 0
    try:
        for e in timeline(path, stats, follow=args.follow):
            if e.get("tool"):
                tools_seen.add(e["tool"])
            if not _keep(e, args):
                # results need their call even when only failures are shown
                if e.get("type") == "tool.call" and e.get("tool_use_id"):
                    fmt.open[e["tool_use_id"]] = e
                elif e.get("type") in ("tool.result", "tool.error"):
                    # type-checker: an event without the id just misses
                    fmt.open.pop(e.get("tool_use_id"), None)  # type: ignore[arg-type]
                elif e.get("type") == "session.start":
                    fmt.line(e)  # learn the cwd for shorter paths
                continue
            shown += 1
            if args.json:
                sys.stdout.buffer.write(to_bytes(e) + b"\n")
                sys.stdout.buffer.flush() if args.follow else None
                continue
            line = fmt.line(e)
            if line is not None:
                out.write(line + "\n")
                if args.follow:
                    out.flush()
    except KeyboardInterrupt:
        pass
    if not args.json:
        for line in fmt.pending():
            out.write(line + "\n")
    note = stats.note()
    if note:
        sys.stderr.write(note + "\n")
    missing = [t for t in args.tool or () if t not in tools_seen]
    if missing and not shown:
        have = ", ".join(sorted(tools_seen)) or "none"
        sys.stderr.write(f"agent-strace replay: no calls of {', '.join(missing)} in this session "
                         f"(tools used: {have})\n")
    return EXIT_OK
