"""The Claude Code status line vs ``python -c pass``, same run.

A fresh process per run with a statusLine payload on stdin, run exactly as
``setup --statusline`` installs it, over a real transcript (the fixture
session, 9 main + 2 subagent messages) and a history whose today/block cache
is fresh.  Two cases, interleaved with the floor:

* nothing new since the last run (Claude Code redraws often);
* one new message appended to the transcript before each run (read and
  priced incrementally).

    python benchmarks/statusline.py [--runs 41]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "claude-code-2.1.328"
SESSION = "e8f720b7-94ae-4a8c-bae2-3ba0f907bf8b"


def timed(cmd, data: bytes, env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, input=data, stdout=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=41)
    ap.add_argument("--here", action="store_true", help="use this interpreter (an editable install adds "
                                                         "import-hook overhead); default: a fresh virtualenv")
    args = ap.parse_args()
    if not args.here and not os.environ.get("AGENT_STRACE_BENCH_CHILD"):
        with tempfile.TemporaryDirectory() as venv:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            subprocess.run([f"{venv}/bin/pip", "install", "-q", "--no-deps", str(REPO)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            argv = [f"{venv}/bin/python", __file__, *sys.argv[1:]]
            raise SystemExit(subprocess.run(argv, env={**os.environ, "AGENT_STRACE_BENCH_CHILD": "1"}).returncode)
    if args.here:
        sys.path.insert(0, str(REPO / "src"))
    from agent_trace.setup.statusline import command

    with tempfile.TemporaryDirectory() as tmp:
        proj = Path(tmp) / "home" / ".claude" / "projects" / "-w-demo"
        (proj / SESSION / "subagents").mkdir(parents=True)
        main_t = proj / f"{SESSION}.jsonl"
        shutil.copy(FIXTURES / "transcript-main.jsonl", main_t)
        for name in ("transcript-subagent-agent-ad3d745db96c336ff.jsonl",
                     "transcript-subagent-agent-ad3d745db96c336ff.meta.json"):
            shutil.copy(FIXTURES / name, proj / SESSION / "subagents" / name.replace("transcript-subagent-", ""))
        data_home = Path(tmp) / "data"
        (data_home / "agent-strace").mkdir(parents=True)
        env = {**os.environ, "HOME": str(Path(tmp) / "home"), "XDG_DATA_HOME": str(data_home)}
        env.pop("AGENT_TRACE_DIR", None)
        day = time.strftime("%Y-%m-%d")
        cache = data_home / "agent-strace" / "statusline.json"

        def fresh_cache():  # today's figures just computed: the line only reads them
            cache.write_text(json.dumps({"computed_at": time.time(), "day": day, "today_usd": 12.3,
                                         "block": {"start": time.time() - 600, "end": time.time() + 3600,
                                                   "usd": 4.5}}))

        payload = json.dumps({"session_id": SESSION, "transcript_path": str(main_t), "cwd": tmp,
                              "model": {"id": "claude-opus-5-5", "display_name": "Opus 5.5"},
                              "context_window": {"context_window_size": 200000,
                                                 "current_usage": {"input_tokens": 1200,
                                                                   "cache_read_input_tokens": 300}}}).encode()
        cmd = shlex.split(command())
        out = subprocess.run(cmd, input=payload, env=env, capture_output=True)
        print("line:", out.stdout.decode().strip())
        floor_cmd = [sys.executable, "-c", "pass"]
        entry = json.loads([x for x in main_t.read_text().splitlines() if '"type":"assistant"' in x][-1])
        still, grown, floor = [], [], []
        for i in range(args.runs):
            fresh_cache()
            still.append(timed(cmd, payload, env))
            floor.append(timed(floor_cmd, b"", env))
            entry["message"]["id"] = f"msg_bench_{i}"
            with open(main_t, "a") as f:
                f.write(json.dumps(entry, separators=(",", ":")) + "\n")
            grown.append(timed(cmd, payload, env))
        f_ms = statistics.median(floor) * 1000
        for label, xs in (("nothing new", still), ("a new message", grown)):
            m = statistics.median(xs) * 1000
            print(f"statusline ({label:13}) median {m:6.2f} ms  ratio {m / f_ms:.2f}x  (goal <= 2.0x)")
        print(f"python -c pass              median {f_ms:6.2f} ms")


if __name__ == "__main__":
    main()
