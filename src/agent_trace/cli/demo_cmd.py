"""``demo``: record a real Claude Code session through the real hook path, then
read it back.

The session is the bundled capture of a real Claude Code 2.1.328 run (write,
read, edit, two failing commands, a background subagent).  Each hook payload
is fed to a fresh ``agent-strace hook`` process exactly as Claude Code does,
the transcripts are imported at Stop/SessionEnd, and the result is replayed.
When a real ``claude`` is on PATH, ``agent-strace setup`` is all it takes to
record your own sessions the same way.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from importlib import resources

from . import EXIT_ERROR, EXIT_OK
from .parsing import parser

FIXTURE_HOME = "/home/dev/demo"
FIXTURE_CLAUDE = "/home/dev/.claude/projects/-home-dev-demo"


def run(name: str, argv: list[str]) -> int:
    p = parser("demo", "Record a real (bundled) Claude Code session through the hook path and replay it.")
    p.add_argument("--dir", help="project folder to record into (default: a new temp folder)")
    args = p.parse_args(argv)
    return _demo(args)


def _demo(args) -> int:
    from agent_trace.event import now_iso
    from agent_trace.setup.hook_command import hook_command
    from agent_trace.event.timefmt import parse_iso

    project = os.path.abspath(args.dir) if args.dir else tempfile.mkdtemp(prefix="agent-strace-demo-")
    os.makedirs(project, exist_ok=True)
    store = args.trace_dir or os.path.join(project, ".agent-traces")
    demo = resources.files("agent_trace").joinpath("data/demo")
    claude_dir = os.path.join(project, ".claude-home", "projects", "-demo")
    payloads = [json.loads(x) for x in demo.joinpath("hook-payloads.jsonl").read_text("utf-8").splitlines() if x]
    session = payloads[0]["session_id"]
    sub_dir = os.path.join(claude_dir, session, "subagents")
    os.makedirs(sub_dir, exist_ok=True)
    shift = None
    for src, dst in (("transcript-main.jsonl", os.path.join(claude_dir, f"{session}.jsonl")),
                     ("transcript-subagent-agent-ad3d745db96c336ff.jsonl",
                      os.path.join(sub_dir, "agent-ad3d745db96c336ff.jsonl"))):
        lines = []
        for line in demo.joinpath(src).read_text("utf-8").splitlines():
            entry = json.loads(line)
            if isinstance(entry.get("timestamp"), str):  # replay the capture as if it were now
                t = parse_iso(entry["timestamp"])
                shift = time.time() - t if shift is None else shift
                entry["timestamp"] = now_iso(t + shift)
            lines.append(json.dumps(entry))
        with open(dst, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    env = {**os.environ, "AGENT_TRACE_DIR": store}
    print(f"recording a real Claude Code 2.1.328 session into {store}")
    timings = []
    for p in payloads:
        text = json.dumps(p).replace(FIXTURE_CLAUDE, claude_dir).replace(FIXTURE_HOME, project)
        cmd = shlex.split(hook_command("x"))[:-1]  # the exact command `setup` installs
        t = time.perf_counter()
        r = subprocess.run(cmd, input=text.encode(), env=env, capture_output=True)
        timings.append(time.perf_counter() - t)
        if r.returncode != 0 or r.stderr:
            sys.stderr.write(r.stderr.decode(errors="replace"))
            return EXIT_ERROR
    timings.sort()
    print(f"{len(payloads)} hook calls, median {timings[len(timings) // 2] * 1000:.1f} ms each\n")
    me = [sys.executable, "-m", "agent_trace", "--trace-dir", store]
    sys.stdout.flush()
    subprocess.run(me + ["replay", session], env=env)
    print()
    sys.stdout.flush()
    subprocess.run(me + ["inspect", session], env=env)
    print(f"\nnext: agent-strace --trace-dir {store} replay latest --failed")
    print("      agent-strace setup    (record your own Claude Code sessions in this project)")
    return EXIT_OK
