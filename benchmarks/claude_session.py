"""A real Claude Code session with agent-strace hooks vs the same without.

Claude Code 2.1.x (npm, cached in .cache/npm-claude) runs offline in print
mode against the scripted endpoint from the tests; the session writes, reads
and edits a file and runs a failing command.  Runs alternate between a
project with hooks installed by ``agent-strace setup`` and one without.

    python benchmarks/claude_session.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.anthropic_stub import Stub  # noqa: E402
from support.claude_code import run_claude  # noqa: E402

PROMPT = "benchmark task"


def scenario(project: Path) -> dict:
    notes = str(project / "notes.txt")
    return {PROMPT: [
        [{"tool": "Write", "input": {"file_path": notes, "content": "one\n"}}],
        [{"tool": "Read", "input": {"file_path": notes}}],
        [{"tool": "Edit", "input": {"file_path": notes, "old_string": "one", "new_string": "two"}}],
        [{"tool": "Bash", "input": {"command": "cat missing.txt", "description": "fail"}}],
        [{"tool": "Bash", "input": {"command": "ls", "description": "list"}}],
        [{"text": "Done."}],
    ]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    walls = {"without": [], "with": []}
    events = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "home"
        home.mkdir()
        for kind in ("without", "with"):
            (tmp / kind).mkdir()
        subprocess.run([sys.executable, "-m", "agent_trace", "setup", "--project", str(tmp / "with")],
                       check=True, capture_output=True)
        store = tmp / "store"
        for i in range(args.runs + 1):
            for kind in ("without", "with"):
                project = tmp / kind
                (project / "notes.txt").unlink(missing_ok=True)
                with Stub(scenario(project)) as stub:
                    out = run_claude(project, home, stub.url, PROMPT, "Write,Read,Edit,Bash",
                                     env_extra={"AGENT_TRACE_DIR": str(store)})
                assert out["_returncode"] == 0, out
                if i:  # first round warms caches
                    walls[kind].append(out["_wall_s"])
        events = sum(1 for f in (store / "sessions").iterdir() for _ in open(f))
    w, h = statistics.median(walls["without"]), statistics.median(walls["with"])
    print(f"runs per kind: {args.runs}; events recorded with hooks: {events} "
          f"({events // (args.runs + 1)} per session)")
    print(f"without hooks  median {w:.3f} s")
    print(f"with hooks     median {h:.3f} s")
    print(f"ratio          {h / w:.2f}x   (goal <= 1.3x)")


if __name__ == "__main__":
    main()
