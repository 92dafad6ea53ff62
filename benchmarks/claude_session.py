"""A real Claude Code session with agent-strace hooks vs the same without.

Claude Code 2.1.x (npm, cached in .cache/npm-claude) runs offline in print
mode against the scripted endpoint from the tests.  The default scenario has
a subagent and ten tool calls (writes, reads, an edit, a failing and a
passing command, a search, the subagent's own read and command); ``--light``
is the earlier five-call session.  Runs rotate between a project without
hooks and one project per transport:

* ``command``: hooks as ``agent-strace setup`` installs them (a process per
  synchronous event);
* ``http``: ``setup --transport http`` (events posted to the daemon; the
  daemon is started by the first session's SessionStart hook and stays up).

    python benchmarks/claude_session.py [--runs 7] [--transports command,http] [--light]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.anthropic_stub import Stub  # noqa: E402
from support.claude_code import run_claude  # noqa: E402
from support.processes import free_port  # noqa: E402

PROMPT = "benchmark task"
SUB_PROMPT = "check the notes"


def scenario(project: Path, light: bool) -> dict:
    notes = str(project / "notes.txt")
    if light:
        return {PROMPT: [
            [{"tool": "Write", "input": {"file_path": notes, "content": "one\n"}}],
            [{"tool": "Read", "input": {"file_path": notes}}],
            [{"tool": "Edit", "input": {"file_path": notes, "old_string": "one", "new_string": "two"}}],
            [{"tool": "Bash", "input": {"command": "cat missing.txt", "description": "fail"}}],
            [{"tool": "Bash", "input": {"command": "ls", "description": "list"}}],
            [{"text": "Done."}],
        ]}
    return {
        PROMPT: [
            [{"tool": "Write", "input": {"file_path": notes, "content": "one\n"}}],
            [{"tool": "Read", "input": {"file_path": notes}}],
            [{"tool": "Edit", "input": {"file_path": notes, "old_string": "one", "new_string": "two"}}],
            [{"tool": "Bash", "input": {"command": "cat missing.txt", "description": "fail"}}],
            [{"tool": "Bash", "input": {"command": "ls", "description": "list"}}],
            [{"tool": "Grep", "input": {"pattern": "two", "path": str(project)}}],
            [{"tool": "Write", "input": {"file_path": str(project / "more.txt"), "content": "more\n"}}],
            [{"tool": "Agent", "input": {"description": "helper", "prompt": SUB_PROMPT,
                                         "subagent_type": "general-purpose"}}],
            [{"text": "Done."}],
        ],
        SUB_PROMPT: [
            [{"tool": "Read", "input": {"file_path": notes}}],
            [{"tool": "Bash", "input": {"command": "wc -l notes.txt", "description": "count"}}],
            [{"text": "Notes checked."}],
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--transports", default="command,http", help="comma-separated: command, http")
    ap.add_argument("--light", action="store_true", help="the earlier five-call session without a subagent")
    args = ap.parse_args()
    transports = [t for t in args.transports.split(",") if t]
    kinds = ["without"] + transports
    walls: dict[str, list[float]] = {k: [] for k in kinds}
    allowed = "Write,Read,Edit,Bash,Grep,Agent"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "home"
        home.mkdir()
        store = tmp / "store"
        daemon_env = {"AGENT_STRACE_DAEMON_DIR": str(tmp / "daemon"), "AGENT_STRACE_DAEMON_PORT": str(free_port())}
        env = {**os.environ, **daemon_env, "HOME": str(home)}
        for kind in kinds:
            (tmp / kind).mkdir()
            if kind != "without":
                subprocess.run([sys.executable, "-m", "agent_trace", "setup", "--scope", "local", "--project",
                                str(tmp / kind), "--transport", kind], check=True, capture_output=True, env=env)
        try:
            for i in range(args.runs + 1):
                for kind in kinds:
                    project = tmp / kind
                    for f in ("notes.txt", "more.txt"):
                        (project / f).unlink(missing_ok=True)
                    with Stub(scenario(project, args.light)) as stub:
                        out = run_claude(project, home, stub.url, PROMPT, allowed,
                                         env_extra={"AGENT_TRACE_DIR": str(store / kind), **daemon_env})
                    assert out["_returncode"] == 0, out
                    if i:  # the first round warms caches (and starts the daemon)
                        walls[kind].append(out["_wall_s"])
        finally:
            subprocess.run([sys.executable, "-m", "agent_trace", "daemon", "stop"], env=env, capture_output=True)
        events = {k: sum(1 for f in (store / k / "sessions").iterdir() for _ in open(f)) // (args.runs + 1)
                  for k in transports}
    base = statistics.median(walls["without"])
    what = "light (5 tool calls)" if args.light else "subagent, 10 tool calls"
    print(f"runs per kind: {args.runs}; scenario: {what}")
    print(f"without hooks      median {base:.3f} s")
    for k in transports:
        w = statistics.median(walls[k])
        print(f"{k + ' hooks':<18} median {w:.3f} s   ratio {w / base:.3f}x   ({events[k]} events per session)")


if __name__ == "__main__":
    main()
