"""One PreToolUse hook invocation vs ``python -c pass``, same run.

A fresh process per invocation with the real Claude Code PreToolUse payload on
stdin, into a store already holding a 5,000-event session, run exactly as
``agent-strace setup`` installs it.  Prints medians and the ratio.

    python benchmarks/hook_latency.py [--runs 41]
    python benchmarks/hook_latency.py --rules     # 10 rules, 10,000-event session (goal <= 2.5x)
    python benchmarks/hook_latency.py --endpoint  # remote capture on: a real server receives the events
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "claude-code-2.1.328" / "hook-payloads.jsonl"


RULES = """
[budget]
usd = 500.0
tokens = 900000000
[limits]
tool_calls = 100000
duration = "24h"
consecutive_failures = 50
[loop]
threshold = 50
[[deny]]
paths = ["secrets/**", ".env", "**/*.pem"]
reason = "secrets are off limits"
[[deny]]
commands = ["rm -rf /*", "git push --force*", "curl * | sh"]
[[deny]]
tools = ["mcp__prod__*"]
[[allow]]
paths = ["**"]
"""


def timed(cmd: list[str], data: bytes, env: dict, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, input=data, stdout=subprocess.DEVNULL, env=env, check=True)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=41)
    ap.add_argument("--events", type=int, default=None)
    ap.add_argument("--rules", action="store_true", help="with a 10-rule rules file in the project")
    ap.add_argument("--here", action="store_true",
                    help="use this interpreter (an editable dev install adds import-hook overhead); "
                         "default: a fresh virtualenv with a regular install, as users have")
    ap.add_argument("--endpoint", action="store_true",
                    help="set AGENT_STRACE_ENDPOINT to a running agent-strace server (remote capture)")
    args = ap.parse_args()
    if not args.here and not os.environ.get("AGENT_STRACE_BENCH_CHILD"):
        with tempfile.TemporaryDirectory() as venv:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            subprocess.run([f"{venv}/bin/pip", "install", "-q", "--no-deps", str(REPO)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            argv = [f"{venv}/bin/python", __file__, *sys.argv[1:]]
            raise SystemExit(subprocess.run(argv, env={**os.environ, "AGENT_STRACE_BENCH_CHILD": "1"}).returncode)
    if args.events is None:
        args.events = 10_000 if args.rules else 5_000

    if args.here:
        sys.path.insert(0, str(REPO / "src"))
    from agent_trace.setup.hook_command import hook_command

    payloads = [json.loads(x) for x in FIXTURE.read_text().splitlines() if x.strip()]
    pre = next(p for p in payloads if p["hook_event_name"] == "PreToolUse")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "AGENT_TRACE_DIR": os.path.join(tmp, "store")}
        server = None
        if args.endpoint:
            import socket

            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            server = subprocess.Popen([sys.executable, "-m", "agent_trace", "server", "--port", str(port),
                                       "--storage", os.path.join(tmp, "server")], stdout=subprocess.PIPE)
            server.stdout.readline()  # listening
            env["AGENT_STRACE_ENDPOINT"] = f"http://127.0.0.1:{port}"
        if args.rules:
            project = os.path.join(tmp, "proj")
            os.makedirs(os.path.join(project, ".agent-strace"))
            with open(os.path.join(project, ".agent-strace", "rules.toml"), "w") as f:
                f.write(RULES)
            pre = {**pre, "cwd": project}
        # a store already holding a 5,000-event session, written by the real hook
        from agent_trace.capture.hooks import events_from_hook
        from agent_trace.store.sink import FileSink
        from agent_trace.store import Store

        sink = FileSink(Store(env["AGENT_TRACE_DIR"]))
        batch = []
        for i in range(args.events):
            p = dict(payloads[i % len(payloads)])
            batch += events_from_hook(p, None, "claude-code")
        sink.emit_many(batch)
        size = os.path.getsize(Store(env["AGENT_TRACE_DIR"]).path_for(pre["session_id"]))

        cmd = shlex.split(hook_command("pre-tool-use"))
        data = json.dumps(pre).encode()
        if args.rules:  # the first hook builds the incremental rule state over the whole session
            out = subprocess.run(cmd, input=data, env=env, capture_output=True)
            assert out.returncode == 0 and out.stdout == b"", out
        floor_cmd = [sys.executable, "-c", "pass"]
        timed(cmd, data, env, 3)  # warm caches
        timed(floor_cmd, b"", env, 3)
        hook, floor = [], []
        for _ in range(args.runs):  # interleave so drift hits both alike
            hook += timed(cmd, data, env, 1)
            floor += timed(floor_cmd, b"", env, 1)
        if server is not None:
            from agent_trace.store.reader import iter_events

            time.sleep(1)
            got = sum(1 for _ in iter_events(Store(os.path.join(tmp, "server")).path_for(pre["session_id"])))
            server.terminate()
            server.wait()
            print(f"server received {got} of {args.events + args.runs + 3 + (1 if args.rules else 0)} events")
    h, f = statistics.median(hook), statistics.median(floor)
    print(f"session file: {args.events} events, {size / 1e6:.1f} MB"
          + (", 10 rules active (the call is allowed)" if args.rules else "")
          + (", remote capture on (AGENT_STRACE_ENDPOINT)" if args.endpoint else ""))
    print(f"python -c pass      median {f * 1000:6.2f} ms")
    print(f"agent-strace hook   median {h * 1000:6.2f} ms  p90 {sorted(hook)[int(len(hook) * .9)] * 1000:6.2f} ms")
    print(f"ratio               {h / f:.2f}x   (goal <= {'2.5' if args.rules else '2.0'}x)")


if __name__ == "__main__":
    main()
