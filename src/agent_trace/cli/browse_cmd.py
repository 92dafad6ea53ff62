"""``browse``: interactive terminal picker (sessions -> calls -> one call)."""

from __future__ import annotations

import sys

from . import EXIT_USAGE
from .parsing import guarded, open_store, parser


def run(name: str, argv: list[str]) -> int:
    p = parser("browse", "Pick a session, then a call, then read its full request and response. "
                         "Type to filter, Enter to open, Esc to go back.")
    args = p.parse_args(argv)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        sys.stderr.write("agent-strace browse: needs a terminal (try 'list' and 'replay' in scripts)\n")
        return EXIT_USAGE
    from agent_trace.render.browse import run_curses

    return guarded(lambda a: run_curses(open_store(a)))(args)
