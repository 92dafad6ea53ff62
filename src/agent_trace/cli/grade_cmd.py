"""``grade SESSION --verify CMD``: run a check in the session's workspace and
record its result in the session (exit 4 when it fails)."""

from __future__ import annotations

import os
import sys

from . import EXIT_CHECK, EXIT_OK, EXIT_USAGE
from .parsing import add_json, add_session, guarded, open_store, parser, print_json


def run(name: str, argv: list[str]) -> int:
    p = parser("grade", "Run a verify command (tests, a linter) in a session's workspace and record its "
                        "result in the session; compare shows it. Exit 4 when the command fails.")
    add_session(p)
    p.add_argument("--verify", required=True, metavar="CMD", help="shell command; exit 0 means the run passed")
    p.add_argument("--workspace", metavar="DIR", help="where to run it (default: the session's workspace)")
    p.add_argument("--timeout", type=float, default=None, metavar="S", help="give up after S seconds (a failure)")
    p.add_argument("--label", help="a name for this check in reports")
    add_json(p)
    return guarded(_grade)(p.parse_args(argv))


def _grade(args) -> int:
    from agent_trace.analysis.workspace import WorkspaceFinder
    from agent_trace.capture.grade import grade_event, run_verify
    from agent_trace.capture.sink import open_sink
    from agent_trace.store.reader import iter_events

    store = open_store(args)
    path = store.resolve(args.session)
    finder, session = WorkspaceFinder(), None
    for e in iter_events(path):
        session = session or e.get("session")
        finder.add(e)
        if finder.root and session:
            break
    if session is None:
        sys.stderr.write(f"agent-strace grade: {args.session}: the session holds no events\n")
        return EXIT_USAGE
    cwd = args.workspace or finder.places()[0]
    if not cwd:
        sys.stderr.write(f"agent-strace grade: session {session} does not say where it worked: "
                         "give --workspace DIR\n")
        return EXIT_USAGE
    if not os.path.isdir(cwd):
        given = "" if args.workspace else " (the session's workspace)"
        sys.stderr.write(f"agent-strace grade: no such folder: {cwd}{given}; give --workspace DIR\n")
        return EXIT_USAGE
    result = run_verify(args.verify, cwd, args.timeout)
    event = grade_event(session, result, args.label)
    open_sink(store).emit(event)
    if args.json:
        print_json({"session": session, **result})
    else:
        from agent_trace.analysis.grades import grade_of, word

        g = grade_of(event)
        print(f"grade: {word(g)}  {args.verify}  ({result['duration_ms'] / 1000:.1f} s in {result['cwd']}); "
              f"recorded in session {session}")
        if not result["passed"]:
            tail = (result["stdout_tail"] + result["stderr_tail"]).strip().splitlines()[-10:]
            for line in tail:
                print(f"  | {line}")
    return EXIT_OK if result["passed"] else EXIT_CHECK
