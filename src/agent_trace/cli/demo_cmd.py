"""``demo``: a real Claude Code session, replayed into a fresh store and read back.

The session is the bundled capture of a real Claude Code 2.1.328 run (write,
read, edit, two failing commands, a background subagent).  No Claude Code
runs: the capture's hook payloads go through agent-strace's hook mapping and
its transcripts through the importer (:mod:`agent_trace.capture.recorded`),
re-timed as one coherent session that ends now, under a new session id each
run, and the result is replayed.  ``agent-strace setup`` records your own
sessions the same way, through the real hooks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from importlib import resources

from . import EXIT_OK
from .parsing import parser

FIXTURE_PROJECT = "/home/dev/demo"


def run(name: str, argv: list[str]) -> int:
    p = parser("demo", "Replay a bundled capture of a real Claude Code session into a store and read it back.")
    p.add_argument("--dir", help="project folder to record into (default: a new temp folder)")
    args = p.parse_args(argv)
    return _demo(args)


def _demo(args) -> int:
    from agent_trace.capture.recorded import load_capture, replay_capture
    from agent_trace.store.paths import Store

    project = os.path.abspath(args.dir) if args.dir else tempfile.mkdtemp(prefix="agent-strace-demo-")
    os.makedirs(project, exist_ok=True)
    store = args.trace_dir or os.path.join(project, ".agent-traces")
    capture = load_capture(resources.files("agent_trace").joinpath("data/demo"), FIXTURE_PROJECT)
    print("replaying a bundled capture of a real Claude Code 2.1.328 session (no agent runs) "
          f"into {store}\n")
    session = replay_capture(capture, Store(store), project)
    env = {**os.environ, "AGENT_TRACE_DIR": store}
    me = [sys.executable, "-m", "agent_trace", "--trace-dir", store]
    sys.stdout.flush()
    subprocess.run(me + ["replay", session], env=env)
    print()
    sys.stdout.flush()
    subprocess.run(me + ["inspect", session], env=env)
    print(f"\nnext: agent-strace --trace-dir {store} replay latest --failed")
    print("      agent-strace setup    (record your own Claude Code sessions in this project)")
    return EXIT_OK
