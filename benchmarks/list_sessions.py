"""``agent-strace list`` over 10,000 sessions: cold (index built from the
session files) and warm (index up to date), as a fresh CLI process.

    python benchmarks/list_sessions.py [--sessions 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=20)
    args = ap.parse_args()
    from agent_trace import event as ev
    from agent_trace.event.encode import encode_event
    from agent_trace.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(os.path.join(tmp, "store"))
        store.ensure()
        for s in range(args.sessions):
            sid = f"session-{s:06d}"
            lines = [encode_event(ev.make_event(ev.USER_PROMPT, sid, "claude-code",
                                                data={"prompt": f"task {s}"}))]
            for i in range(args.events - 1):
                lines.append(encode_event(ev.make_event(ev.TOOL_CALL, sid, "claude-code", tool="Bash",
                                                        tool_use_id=f"t{i}",
                                                        data={"tool_input": {"command": "ls -la"}})))
            with open(store.path_for(sid), "wb") as f:
                f.write(b"".join(lines))
        env = {**os.environ, "AGENT_TRACE_DIR": store.root}
        cmd = [sys.executable, "-m", "agent_trace", "list", "--json"]
        floor = [sys.executable, "-c", "pass"]
        t = time.perf_counter()
        subprocess.run(floor, check=True)
        f = time.perf_counter() - t
        results = {}
        for label in ("cold", "warm", "warm"):
            t = time.perf_counter()
            out = subprocess.run(cmd, env=env, capture_output=True, check=True)
            results[label] = time.perf_counter() - t
        assert out.stdout.count(b'"session":') == args.sessions
    print(f"{args.sessions} sessions x {args.events} events")
    print(f"list --json cold (index built)  {results['cold']:.3f} s")
    print(f"list --json warm (index fresh)  {results['warm']:.3f} s   (goal < 1 s; python -c pass {f:.3f} s)")


if __name__ == "__main__":
    main()
