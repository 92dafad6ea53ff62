"""What tracing a Python agent framework costs, against the same agent
uninstrumented, in the same run.

For the OpenAI Agents SDK, LangGraph and Pydantic AI: the agents of
tests/frameworks/ (two agents, three or two tool calls, three or four model
calls per run) against the scripted OpenAI endpoint, run alternately plain
and traced in one process, ``--runs`` times each; for the Claude Agent SDK,
the real Claude Code CLI under the SDK with and without our hooks (fewer
runs: each starts the CLI), and a floor: the SDK with callbacks that do
nothing on the same hook events (what the CLI and the SDK spend per hook,
whoever answers it).  Printed: the median wall time per run, the
ratio traced/plain, the median of the ratios of runs taken back to back (steadier
under load), the difference per tool call, and the CPU time per run.

Runs in the frameworks virtualenv of the tests (installed on first use, see
tests/support/frameworks.py):

    python benchmarks/framework_overhead.py [--runs 30] [--claude-runs 12] [--only agents_app,claude,...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APPS = {"agents_app": ("OpenAI Agents SDK", ["--api", "responses"], 2),
        "langgraph_app": ("LangGraph", [], 3),
        "pydantic_ai_app": ("Pydantic AI", ["--api", "chat"], 3)}


def worker(app: str, runs: int) -> None:
    """In the frameworks venv: time ``runs`` plain and traced runs, alternating."""
    sys.path[:0] = [str(REPO / "tests" / "frameworks"), str(REPO / "tests"), str(REPO / "src")]
    import importlib

    from support.openai_scripted import ScriptedOpenAI

    mod = importlib.import_module(app)
    script = importlib.import_module("test_scripts").SCRIPTS[app]
    os.environ["AGENT_TRACE_DIR"] = tempfile.mkdtemp()
    times = {"plain": [], "traced": [], "plain_cpu": [], "traced_cpu": []}
    with ScriptedOpenAI(script) as stub:
        args = ["--base-url", stub.url, *APPS[app][1]]
        for i in range(runs + 2):
            order = ("plain", "traced") if i % 2 else ("traced", "plain")
            for mode in order:
                stub.played.clear()
                t0, c0 = time.perf_counter(), time.process_time()
                out = mod.run(args + (["--trace"] if mode == "traced" else []))
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
                assert "error" not in out, out
                if i >= 2:  # two warm-up rounds
                    times[mode].append(dt)
                    times[mode + "_cpu"].append(dc)  # this process's CPU: the agent, our capture, the stub
    print(json.dumps(times))


# The traced Claude run, with the time the CLI waited on each of our hook callbacks written down
# (two perf_counter calls per callback): the part of the overhead that is ours to cut, and a figure
# that a loaded machine blurs far less than the whole run's wall time.
TIMED_APP = """
import json, os, runpy, sys, time
from agent_trace.integrations import claude_sdk_hooks as h
inner, spent = h.handle, []
def handle(payload, trace_dir=None):
    t0 = time.perf_counter()
    try:
        return inner(payload, trace_dir)
    finally:
        spent.append(time.perf_counter() - t0)
h.handle = handle
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    with open(os.environ["BENCH_HOOK_TIMES"], "a") as f:
        f.write(json.dumps(spent) + "\\n")
"""


def claude(runs: int) -> dict:
    """Plain, floor (the SDK with no-op callbacks on the events we hook: what
    the SDK and the CLI spend per hook whoever answers) and traced runs, in
    a rotating order each round."""
    sys.path[:0] = [str(REPO / "tests"), str(REPO / "src")]
    from support.anthropic_stub import Stub
    from support.claude_code import claude_bin, claude_env
    from support.frameworks import framework_python

    from agent_trace.integrations.claude_sdk_hooks import EVENTS

    py = framework_python()
    modes = ("plain", "floor", "traced")
    times: dict = {k: [] for m in modes for k in (m, m + "_cpu")}
    with tempfile.TemporaryDirectory() as tmp:
        spent = Path(tmp) / "callbacks.jsonl"
        home, proj = Path(tmp) / "home", Path(tmp) / "proj"
        home.mkdir()
        proj.mkdir()
        steps = {"bench task": [[{"tool": "Bash", "input": {"command": "echo one", "description": "1"}}],
                                [{"tool": "Bash", "input": {"command": "echo two", "description": "2"}}],
                                [{"tool": "Bash", "input": {"command": "echo three", "description": "3"}}],
                                [{"text": "Done."}]]}
        with Stub(steps) as stub:
            env = claude_env(home, stub.url, {"PYTHONPATH": str(REPO / "src"), "AGENT_TRACE_DIR": tmp + "/t"})
            # an installed agent-strace has its bytecode: without it each traced run compiles the modules
            # the hooks import (the warm-up round writes it), and the figure measures the compiler
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["BENCH_HOOK_TIMES"] = str(spent)
            for i in range(runs + 1):
                for mode in modes[i % 3:] + modes[:i % 3]:
                    cmd = [py, str(REPO / "tests" / "frameworks" / "claude_sdk_app.py"), "--cli", claude_bin(),
                           "--cwd", str(proj), "--prompt", "bench task"]
                    if mode == "traced":
                        cmd[1:1] = ["-c", TIMED_APP]
                        cmd.append("--trace")
                    elif mode == "floor":
                        cmd += ["--noop-hooks", ",".join(EVENTS)]
                    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t0 = time.perf_counter()
                    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
                    dt = time.perf_counter() - t0
                    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    assert '"result"' in r.stdout, r.stdout + r.stderr[-2000:]
                    if i >= 1:  # CPU: the app, the CLI and the hooks (all children; the stub runs here)
                        times[mode].append(dt)
                        times[mode + "_cpu"].append(c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime)
        lines = spent.read_text().splitlines()[1:]  # the warm-up round's run aside
        times["callbacks"] = [sum(json.loads(line)) for line in lines]
        times["callback_count"] = statistics.median(len(json.loads(line)) for line in lines)
    return times


def report(name: str, times: dict, tools: int) -> str:
    plain, traced = statistics.median(times["plain"]), statistics.median(times["traced"])
    per_tool = (traced - plain) / tools
    line = (f"{name:<18} wall: plain {plain * 1000:8.1f} ms/run, traced {traced * 1000:8.1f} ms/run, "
            f"{traced / plain:5.3f}x, {per_tool * 1e6:+7.0f} us per tool call ({tools} per run, "
            f"n={len(times['plain'])})")
    pairs = [t / p for p, t in zip(times["plain"], times["traced"])]  # runs of one round ran back to back
    line += f"\n{'':<18} paired wall ratio (median of {len(pairs)}): {statistics.median(pairs):5.3f}x"
    if times.get("plain_cpu"):
        pc, tc = statistics.median(times["plain_cpu"]), statistics.median(times["traced_cpu"])
        line += f"\n{'':<18} cpu:  plain {pc * 1000:8.1f} ms/run, traced {tc * 1000:8.1f} ms/run, {tc / pc:5.3f}x"
    if times.get("floor"):
        fl, fc = statistics.median(times["floor"]), statistics.median(times["floor_cpu"])
        floor_pairs = [f / p for p, f in zip(times["plain"], times["floor"])]
        ours = [t / f for f, t in zip(times["floor"], times["traced"])]
        line += (f"\n{'':<18} floor (no-op callbacks on the same hook events): {fl * 1000:8.1f} ms/run, "
                 f"{fl / plain:5.3f}x plain (paired {statistics.median(floor_pairs):5.3f}x), cpu {fc * 1000:.1f} ms/run"
                 f"\n{'':<18} traced against the floor: {traced / fl:5.3f}x (paired {statistics.median(ours):5.3f}x)")
    if times.get("callbacks"):
        cb = statistics.median(times["callbacks"])
        line += (f"\n{'':<18} the CLI waited on our {times['callback_count']:.0f} hook callbacks: "
                 f"{cb * 1000:.1f} ms/run (median; max {max(times['callbacks']) * 1000:.1f}), "
                 f"{cb / tools * 1000:.2f} ms per tool call")
    return line


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--claude-runs", type=int, default=12)
    p.add_argument("--only", default="")
    p.add_argument("--worker")
    a = p.parse_args()
    if a.worker:
        worker(a.worker, a.runs)
        return
    sys.path[:0] = [str(REPO / "tests")]
    from support.frameworks import framework_python

    py = framework_python()
    only = set(filter(None, a.only.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        scripts = Path(tmp) / "test_scripts.py"  # the scripted conversations, shared with the tests
        src = (REPO / "tests" / "test_integrations_frameworks.py").read_text()
        start, end = src.index("PROMPT_AGENTS = "), src.index("APPS = list(SCRIPTS)")
        scripts.write_text(src[start:end])
        for app, (name, _, tools) in APPS.items():
            if only and app not in only:
                continue
            env = {**os.environ, "PYTHONPATH": f"{tmp}:{REPO / 'src'}"}
            r = subprocess.run([py, __file__, "--worker", app, "--runs", str(a.runs)], env=env, capture_output=True,
                               text=True)
            if r.returncode != 0:
                print(f"{name}: failed: {r.stderr[-1500:]}")
                continue
            print(report(name, json.loads(r.stdout.splitlines()[-1]), tools), flush=True)
    if a.claude_runs and (not only or "claude" in only):
        print(report("Claude Agent SDK", claude(a.claude_runs), 3), flush=True)


if __name__ == "__main__":
    main()
