"""``replay``: a session as strace-style lines (or JSON lines), live with --follow."""

from __future__ import annotations

import sys

from agent_trace.event.encode import to_bytes
from agent_trace.render.strace import Formatter
from agent_trace.store.reader import ReadStats, iter_events

from . import EXIT_OK
from .parsing import add_json, add_session, guarded, open_store, parser


def run(name: str, argv: list[str]) -> int:
    p = parser("replay", "Print a session one line per event, like strace.")
    add_session(p)
    add_json(p)
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new events (Ctrl-C to stop)")
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
        return bool(aid) and aid.startswith(args.agent)
    return True


@guarded
def _replay(args) -> int:
    path = open_store(args).resolve(args.session)
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    fmt = Formatter(color=color)
    stats = ReadStats()
    out = sys.stdout
    try:
        for e in iter_events(path, stats, follow=args.follow):
            if not _keep(e, args):
                # results need their call even when only failures are shown
                if e.get("type") == "tool.call" and e.get("tool_use_id"):
                    fmt.open[e["tool_use_id"]] = e
                elif e.get("type") in ("tool.result", "tool.error"):
                    fmt.open.pop(e.get("tool_use_id"), None)
                elif e.get("type") == "session.start":
                    fmt.line(e)  # learn the cwd for shorter paths
                continue
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
    return EXIT_OK
