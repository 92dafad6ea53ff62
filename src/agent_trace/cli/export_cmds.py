"""``export``: write one session out in another format."""

from __future__ import annotations

import sys

from agent_trace.encode import to_bytes
from agent_trace.store.reader import ReadStats, iter_events

from . import EXIT_OK
from .parsing import add_session, guarded, open_store, parser

FORMATS = ("jsonl", "json")


def run(name: str, argv: list[str]) -> int:
    p = parser("export", "Write a session out: jsonl (one event per line) or json (an array).")
    add_session(p)
    p.add_argument("--format", "-f", choices=FORMATS, default="jsonl")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    return _export(p.parse_args(argv))


@guarded
def _export(args) -> int:
    path = open_store(args).resolve(args.session)
    stats = ReadStats()
    out = open(args.output, "wb") if args.output else sys.stdout.buffer
    try:
        if args.format == "jsonl":
            for e in iter_events(path, stats):
                out.write(to_bytes(e) + b"\n")
        else:
            out.write(b"[")
            for i, e in enumerate(iter_events(path, stats)):
                out.write((b",\n" if i else b"\n") + to_bytes(e))
            out.write(b"\n]\n")
        out.flush()
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    note = stats.note()
    if note:
        sys.stderr.write(note + "\n")
    return EXIT_OK
