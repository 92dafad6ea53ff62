"""Readers at scale: a generated 1,000,000-event session (realistic tool mix
and payload sizes, in our own format).

For ``stats``, ``cost``, ``explain`` and ``lint`` (each a fresh CLI process):
wall time as a ratio of ``json.loads`` over every line of the same file
(measured in the same run, in one process), and peak memory (max RSS).
Also: how long ``replay`` takes to print its first line.

    python benchmarks/scale.py [--events 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from agent_trace import event as ev  # noqa: E402
from agent_trace.event.encode import encode_event  # noqa: E402

SESSION = "scale-1m"
TOOLS = [("Read", 0.30), ("Bash", 0.25), ("Edit", 0.15), ("Grep", 0.12), ("Write", 0.05), ("Glob", 0.05),
         ("mcp__fs__read_file", 0.08)]


def generate(path: Path, n: int) -> None:
    rnd = random.Random(7)
    names, weights = zip(*TOOLS)
    text = "lorem ipsum dolor sit amet consectetur adipiscing elit " * 40
    with open(path, "wb") as f:
        buf = []
        i = 0

        def put(e):
            nonlocal i
            buf.append(encode_event(e, max_field=0))
            i += 1
            if len(buf) >= 5000:
                f.write(b"".join(buf))
                buf.clear()

        put(ev.make_event(ev.SESSION_START, SESSION, "claude-code", name="SessionStart",
                          data={"session_id": SESSION, "cwd": "/home/dev/proj", "source": "startup"}))
        turn = 0
        while i < n - 1:
            if i % 400 == 1:
                turn += 1
                put(ev.make_event(ev.USER_PROMPT, SESSION, "claude-code", name="UserPromptSubmit",
                                  data={"session_id": SESSION, "prompt": f"task {turn}: fix the failing tests"}))
            tool = rnd.choices(names, weights)[0]
            tid = f"toolu_{i:09d}"
            path_ = f"/home/dev/proj/src/module_{rnd.randrange(300)}.py"
            inp = {"command": f"pytest tests/test_{rnd.randrange(50)}.py -x"} if tool == "Bash" else \
                {"file_path": path_, "old_string": "a = 1", "new_string": "a = 2"} if tool == "Edit" else \
                {"pattern": "def main", "path": "src"} if tool == "Grep" else {"file_path": path_}
            base = {"session_id": SESSION, "cwd": "/home/dev/proj", "hook_event_name": "PreToolUse",
                    "tool_name": tool, "tool_input": inp, "tool_use_id": tid, "permission_mode": "default"}
            put(ev.make_event(ev.TOOL_CALL, SESSION, "claude-code", name="PreToolUse", tool=tool,
                              tool_use_id=tid, data=base))
            size = rnd.choice((80, 200, 600, 1500, 4000))
            if rnd.random() < 0.08:
                put(ev.make_event(ev.TOOL_ERROR, SESSION, "claude-code", name="PostToolUseFailure", tool=tool,
                                  tool_use_id=tid, status="error", duration_ms=rnd.randrange(5, 3000),
                                  error={"message": "Exit code 1\nFAILED tests/test_x.py::test_y - AssertionError",
                                         "is_interrupt": False},
                                  data={**base, "hook_event_name": "PostToolUseFailure", "error": "Exit code 1"}))
            else:
                put(ev.make_event(ev.TOOL_RESULT, SESSION, "claude-code", name="PostToolUse", tool=tool,
                                  tool_use_id=tid, status="ok", duration_ms=rnd.randrange(1, 2000),
                                  data={**base, "hook_event_name": "PostToolUse",
                                        "tool_response": {"stdout": text[:size], "stderr": ""}}))
            if i % 6 == 0:
                put(ev.make_event(ev.LLM_RESPONSE, SESSION, "claude-code", name="transcript",
                                  model="claude-sonnet-4-5-20250929",
                                  usage={"input": rnd.randrange(10, 3000), "output": rnd.randrange(20, 800),
                                         "cache_read": rnd.randrange(10000, 90000), "cache_write": 500},
                                  status="ok", data={"message_id": f"msg_{i}", "stop_reason": "tool_use",
                                                     "content": [{"type": "tool_use", "id": tid, "name": tool}]}))
        put(ev.make_event(ev.SESSION_END, SESSION, "claude-code", name="SessionEnd", data={"reason": "exit"}))
        f.write(b"".join(buf))


def floor(path: Path) -> float:
    t = time.perf_counter()
    with open(path, "rb") as f:
        for line in f:
            json.loads(line)
    return time.perf_counter() - t


def timed(cmd: list[str], env: dict) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one fresh process."""
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if r.returncode not in (0, 4):
        raise SystemExit(f"{cmd} failed: {r.stderr[-500:]}")
    return wall, int(r.stderr.strip().splitlines()[-1])


def first_line_latency(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE)
    p.stdout.readline()
    dt = time.perf_counter() - t
    p.kill()
    p.wait()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--keep", help="reuse/keep the generated store here")
    ap.add_argument("--repeat", type=int, default=2, help="runs per measurement; the best is kept")
    args = ap.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="agent-strace-scale-"))
    sessions = root / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    path = sessions / f"{SESSION}.jsonl"
    if not path.exists() or sum(1 for _ in open(path, "rb")) != args.events:
        t = time.perf_counter()
        generate(path, args.events)
        print(f"generated {args.events:,} events, {path.stat().st_size / 1e6:.0f} MB in "
              f"{time.perf_counter() - t:.0f}s")
    env = {**os.environ, "AGENT_TRACE_DIR": str(root)}
    # best of --repeat runs for the floor and for every command alike (machine noise is ~5%)
    f = min(floor(path) for _ in range(args.repeat))
    print(f"floor: json.loads over every line  {f:6.2f} s   (best of {args.repeat})")
    me = [sys.executable, "-m", "agent_trace"]
    for name in ("stats", "cost", "explain", "lint"):
        runs = [timed(me + [name, SESSION], env) for _ in range(args.repeat)]
        wall, rss = min(r[0] for r in runs), max(r[1] for r in runs)
        print(f"{name:<8} {wall:6.2f} s  {wall / f:.2f}x floor  peak {rss / 1024:.0f} MB   (goal <= 1.5x, <= 100 MB)")
    lat = min(first_line_latency(me + ["replay", SESSION], env) for _ in range(3))
    print(f"replay first line after {lat * 1000:.0f} ms   (goal < 100 ms)")
    if not args.keep:
        import shutil

        shutil.rmtree(root)


if __name__ == "__main__":
    main()
