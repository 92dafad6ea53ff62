"""One PreToolUse hook invocation vs ``python -c pass``, same run.

A fresh process per invocation with the real Claude Code PreToolUse payload on
stdin, into a store already holding a 5,000-event session, run exactly as
``agent-strace setup`` installs it.  Prints medians and the ratio.

    python benchmarks/hook_latency.py [--runs 41]
    python benchmarks/hook_latency.py --rules     # 10 rules, 10,000-event session (goal <= 2.5x)
    python benchmarks/hook_latency.py --endpoint  # remote capture on: a real server receives the events
    python benchmarks/hook_latency.py --notify    # [[notify]] configured: an allowed call, and a denied one
                                                  # (alert queued, sender forked, a local receiver gets it)
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
    ap.add_argument("--notify", action="store_true",
                    help="rules with [[notify]] to a local webhook receiver: allowed and denied calls")
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
        if args.notify:
            return notify_bench(args, tmp, env, pre, payloads)
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


NOTIFY_RULES = """
[budget]
usd = 500.0
[[deny]]
paths = ["secrets/**"]
reason = "secrets are off limits"
"""


def notify_bench(args, tmp: str, env: dict, pre: dict, payloads: list[dict]) -> None:
    """Three hooks in the same run, interleaved with the floor: the same rules
    without [[notify]], with it (the call allowed: no alert), and a denied
    call (an alert queued each time, a sender forked unless one is alive)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from agent_trace.capture.hooks import events_from_hook
    from agent_trace.setup.hook_command import hook_command
    from agent_trace.store import Store
    from agent_trace.store.sink import FileSink

    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers.get("content-length") or 0)))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
    projects = {}
    for name, extra in (("rules", ""), ("notify", f'[[notify]]\nurl = "{url}"\nformat = "slack"\n'
                                                  'budget = [50, 80, 100]\n')):
        project = os.path.join(tmp, name)
        os.makedirs(os.path.join(project, ".agent-strace"))
        with open(os.path.join(project, ".agent-strace", "rules.toml"), "w") as f:
            f.write(NOTIFY_RULES + extra)
        projects[name] = project
    # one store per rules file (the validated policy is cached per store), one session per case
    envs = {k: {**env, "AGENT_TRACE_DIR": os.path.join(tmp, f"store-{k}")} for k in projects}
    for k in projects:
        sink = FileSink(Store(envs[k]["AGENT_TRACE_DIR"]))
        for session in ((k,) if k == "rules" else ("notify", "denied")):
            sink.emit_many([e for i in range(args.events) for e in events_from_hook(
                {**payloads[i % len(payloads)], "session_id": session}, None, "claude-code")])
    cmd = shlex.split(hook_command("pre-tool-use"))
    allowed = {k: json.dumps({**pre, "cwd": p, "session_id": k}).encode() for k, p in projects.items()}
    denied = json.dumps({**pre, "cwd": projects["notify"], "session_id": "denied", "tool_name": "Write",
                         "tool_input": {"file_path": os.path.join(projects["notify"], "secrets", "k"),
                                        "content": "x"}}).encode()
    cases = {"rules, no notify": (allowed["rules"], envs["rules"]),
             "rules + [[notify]], call allowed": (allowed["notify"], envs["notify"]),
             "rules + [[notify]], call denied (alert)": (denied, envs["notify"])}
    for data, e in cases.values():  # build each rule state and warm caches
        subprocess.run(cmd, input=data, env=e, capture_output=True, check=True)
        timed(cmd, data, e, 2)
    floor_cmd = [sys.executable, "-c", "pass"]
    times = {k: [] for k in cases}
    floor = []
    for _ in range(args.runs):
        for k, (data, e) in cases.items():
            times[k] += timed(cmd, data, e, 1)
        floor += timed(floor_cmd, b"", env, 1)
    deadline = time.time() + 30
    want = 3 + args.runs  # denied calls: warm-up (3) and timed runs
    while len(received) < want and time.time() < deadline:
        time.sleep(0.1)
    srv.shutdown()
    f = statistics.median(floor)
    print(f"session file: {args.events} events; rules: [budget], [[deny]]; notify: one Slack-format webhook")
    print(f"python -c pass                              median {f * 1000:6.2f} ms")
    for k, v in times.items():
        h = statistics.median(v)
        print(f"{k:<42} median {h * 1000:6.2f} ms  ratio {h / f:.2f}x")
    print(f"alerts received by the webhook: {len(received)} of {want} denied calls (goal: all, each once)")


if __name__ == "__main__":
    main()
