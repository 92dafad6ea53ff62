"""``import``: bring the logs agents already wrote into the store, whole sessions.

``agent-strace import --all`` finds every Claude Code, Codex and Gemini CLI
log on the machine (see :mod:`agent_trace.capture.discover`); ``import PATH``
takes log files or folders.  Sessions go to their home store (the project
store that holds them, else the history store) unless ``--trace-dir`` or
``AGENT_TRACE_DIR`` names one.  Idempotent and incremental.
"""

from __future__ import annotations

import os
import sys
import time

from . import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from .parsing import guarded, parser, print_json


def run(name: str, argv: list[str]) -> int:
    p = parser("import", "Import the logs agents already write (Claude Code transcripts with their subagents, "
                         "Codex rollouts, Gemini CLI chats) as whole sessions: prompts, tool calls and results, "
                         "LLM turns with usage, subagents, compactions.  Idempotent and incremental: a second "
                         "run reads only what the logs gained; events hooks already recorded are not repeated.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="a log file or a folder of logs")
    p.add_argument("--all", action="store_true",
                   help="every log on this machine (~/.claude, $CLAUDE_CONFIG_DIR, $CODEX_HOME or ~/.codex, "
                        "~/.gemini)")
    p.add_argument("--agent", action="append", choices=("claude", "codex", "gemini"),
                   help="only this agent's logs (repeatable; default: all)")
    p.add_argument("--session", help="session id for a single transcript (default: the one it names)")
    p.add_argument("--json", action="store_true", help="print the totals as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")
    p.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="processes for a big import (default: the cores available, at most 2)")
    args = p.parse_args(argv)
    if not args.paths and not args.all:
        p.error("give PATH(s) to import, or --all")
    return guarded(_import)(args)


def target_store(args):
    """The store named by --trace-dir or AGENT_TRACE_DIR, else None (each
    session to its home store)."""
    from agent_trace.store import Store
    from agent_trace.store.paths import ENV_VAR

    explicit = getattr(args, "trace_dir", None) or os.environ.get(ENV_VAR)
    return Store.open(explicit) if explicit else None


class Progress:
    """A one-line progress bar on stderr, only on a terminal, at most ten
    redraws a second."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.t0 = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        frac = done_bytes / total_bytes if total_bytes else 1.0
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\rimporting [{bar:<30}] {done}/{total} logs  {done_bytes / 1e6:.0f}/"
                         f"{total_bytes / 1e6:.0f} MB  {now - self.t0:.1f}s ")
        sys.stderr.flush()
        self.drawn = True

    def done(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")


def _warn(msg: str) -> None:
    sys.stderr.write(f"agent-strace import: {msg}\n")


def _logs(args):
    from agent_trace.capture import discover, transcript

    kinds = tuple(args.agent) if args.agent else discover.KINDS
    if args.all:
        logs = discover.discover(kinds, on_error=lambda path, e: _warn(f"{path}: {e.strerror or e}: skipped"))
    else:
        logs = []
    for path in args.paths:
        found = discover.logs_under(path, on_error=lambda p, e: _warn(f"{p}: {e.strerror or e}: skipped"))
        if os.path.isfile(path) and found and found[0].kind == discover.CLAUDE and found[0].agent_id is None:
            session = args.session or found[0].session
            for agent_id, sub in transcript.subagent_transcripts(found[0].path, session):
                found += [log for log in discover.logs_under(sub) if log.agent_id == agent_id]
        if not found:
            _warn(f"{path}: no agent logs found there")
        logs += [log for log in found if log.kind in kinds]
    if args.session:
        for log in logs:
            log.session = args.session
    seen, out = set(), []
    for log in logs:
        if log.path not in seen:
            seen.add(log.path)
            out.append(log)
    return out


def _import(args) -> int:
    from agent_trace.analysis.indexes import IndexSet
    from agent_trace.capture.history import HistoryImport
    from agent_trace.capture.history_split import default_jobs

    if args.session and (args.all or len(args.paths) != 1 or not os.path.isfile(args.paths[0])):
        _warn("--session goes with a single transcript file")
        return EXIT_USAGE
    for path in args.paths:
        if not os.path.exists(path):
            _warn(f"no such file or folder: {path}")
            return EXIT_USAGE
    if args.jobs is not None and args.jobs < 1:
        _warn("--jobs takes a number of processes, 1 or more")
        return EXIT_USAGE
    logs = _logs(args)
    indexes = IndexSet()
    progress = Progress(sys.stderr.isatty() and not args.quiet and not args.json)
    job = HistoryImport(indexes.writer_for, target=target_store(args), warn=_warn, progress=progress)
    try:
        totals = job.run(logs, jobs=args.jobs or default_jobs(), indexes=indexes)
    finally:
        progress.done()
        indexes.close()
    if args.json:
        print_json(totals.as_dict())
    elif not args.quiet:
        _report(totals, len(logs))
    return EXIT_ERROR if totals.failed and not totals.files and not totals.skipped_files else EXIT_OK


def _report(t, found: int) -> None:
    if not found:
        print("no agent logs found")
        return
    where = ", ".join(f"{root} ({n})" for root, n in sorted(t.stores.items())) or "-"
    print(f"{t.events} event(s) from {t.files} log(s) ({t.bytes / 1e6:.1f} MB, {len(t.sessions)} session(s)); "
          f"{t.skipped_files} unchanged; written to: {where}")
    damaged = {k: v for k, v in t.skipped.items() if v}
    if damaged:
        print("skipped lines: " + ", ".join(f"{k}={v}" for k, v in damaged.items()))
    if t.failed:
        print(f"{t.failed} log(s) could not be imported (see above)")
