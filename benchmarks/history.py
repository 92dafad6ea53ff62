"""Whole-history figures on a generated Claude Code history, as ratios to
floors measured in the same run.

    python benchmarks/history.py [--sessions 3000 --days 90 --projects 12 --scale 1.33] [--dir DIR]

The history (tests/support/history_gen.py: 3,000 sessions over 90 days in 12
projects, about 900 MB, subagents, resumed sessions, damaged lines) is
generated once into DIR (reused when its parameters match).  Then:

* cold ``import --all`` (a fresh data folder), with one process and split
  over two (``--jobs``), against the floor: ``json.loads`` of every line of
  the same files, read from the same page cache; peak memory of the
  import's processes together (summed PSS: pages a fork shares count once);
* warm ``usage daily`` (nothing new) against ``ccusage daily`` (npm
  ccusage@20.0.24, its native binary, ``--offline``) on the same files;
* warm ``search`` (a common term, a rare one, failed Bash calls);
* the tokens of both tools' daily reports, compared day by day.

Run on an idle machine for absolute times; the ratios hold under load
better than the times do (the figures in docs/usage.md say which).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.history_gen import generate  # noqa: E402
from support.npm import npm_install  # noqa: E402


def log(msg: str) -> None:
    print(msg, flush=True)


def history(args) -> Path:
    root = Path(args.dir)
    stamp = root / "params.json"
    want = {"sessions": args.sessions, "days": args.days, "projects": args.projects, "scale": args.scale,
            "seed": args.seed, "generator": 1}
    if stamp.exists() and json.loads(stamp.read_text()) == want:
        return root / "home"
    if root.exists():
        import shutil

        shutil.rmtree(root)
    (root / "home").mkdir(parents=True)
    t = time.perf_counter()
    written = generate(root / "home", sessions=args.sessions, days=args.days, projects=args.projects,
                       scale=args.scale, seed=args.seed)
    log(f"generated {written} in {time.perf_counter() - t:.0f}s")
    stamp.write_text(json.dumps(want))
    return root / "home"


def logs_of(home: Path) -> list[str]:
    out = []
    for dirpath, _dirs, files in os.walk(home / ".claude" / "projects"):
        out += [os.path.join(dirpath, f) for f in files if f.endswith(".jsonl")]
    return sorted(out)


def floor_json_loads(files: list[str]) -> tuple[float, int, int]:
    """Seconds to json.loads every line of every file (and bytes, lines)."""
    t = time.perf_counter()
    n_bytes = n_lines = 0
    loads = json.loads
    for path in files:
        with open(path, "rb") as f:
            for line in f:
                n_bytes += len(line)
                n_lines += 1
                try:
                    loads(line)
                except ValueError:
                    pass
    return time.perf_counter() - t, n_bytes, n_lines


def warm_cache(files: list[str]) -> None:
    for path in files:
        with open(path, "rb") as f:
            while f.read(1 << 22):
                pass


def run(cmd: list[str], env: dict) -> tuple[float, float, bytes]:
    """Wall seconds, CPU seconds (user + sys) of the child, stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed ({r.returncode}): {r.stderr[-2000:].decode(errors='replace')}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r.stdout


def _tree_rss_kib(pid: int) -> int:
    """Memory of a process and all its descendants, now: the sum of their
    proportional set sizes (KiB; pages a fork still shares count once, not
    once per process as RSS would)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next((int(x.split()[1]) for x in f if x.startswith("Pss:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def peak_tree_rss(cmd: list[str], env: dict) -> tuple[float, float, int, bytes]:
    """Wall and CPU seconds, the peak memory of the process and its workers
    together (KiB, summed PSS sampled every 20 ms), stdout."""
    import threading

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed: {err[-2000:].decode(errors='replace')}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak[0], out


def median_of(cmd: list[str], env: dict, n: int) -> tuple[float, float]:
    """Median wall and CPU seconds of n runs after a warm-up."""
    run(cmd, env)
    runs = [run(cmd, env) for _ in range(n)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


FLOOR = """
import json, sys
for path in open(sys.argv[1]).read().splitlines():
    with open(path, "rb") as f:
        for line in f:
            try:
                json.loads(line)
            except ValueError:
                pass
"""


def floor_command(files: list[str], listing: Path) -> list[str]:
    """The floor as a process: ``json.loads`` of every line of ``files``
    (named one per line in ``listing``, written here)."""
    listing.write_text("\n".join(files))
    return [sys.executable, "-c", FLOOR, str(listing)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=3000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--projects", type=int, default=12)
    ap.add_argument("--scale", type=float, default=1.33)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default=str(REPO / ".cache" / "bench-history"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--reuse", action="store_true",
                    help="keep the imported history of the last run: measure only the warm figures")
    ap.add_argument("--jobs", default="1,2",
                    help="cold imports to time, by processes (import --jobs N), the last one kept")
    args = ap.parse_args()

    home = history(args)
    files = logs_of(home)
    data = Path(args.dir) / "xdg"
    if data.exists() and not args.reuse:
        import shutil

        shutil.rmtree(data)
    # PYTHONDONTWRITEBYTECODE: an installed agent-strace has its bytecode; without it every run
    # compiles ~40 modules (0.1 s) and the warm figures measure the compiler.
    env = {k: v for k, v in os.environ.items()
           if k not in ("AGENT_TRACE_DIR", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "PYTHONDONTWRITEBYTECODE")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(data), NO_COLOR="1")
    cli = [sys.executable, "-m", "agent_trace"]

    warm_cache(files)
    floor, n_bytes, n_lines = floor_json_loads(files)
    floor_cmd = floor_command(files, Path(args.dir) / "files.txt")
    f_wall, f_cpu, _ = run(floor_cmd, env)
    log(f"history: {len(files)} files, {n_bytes / 1e6:.0f} MB, {n_lines} lines")
    log(f"floor: json.loads over every line: {floor:.2f}s in-process ({n_bytes / 1e6 / floor:.0f} MB/s); "
        f"as a process: {f_wall:.2f}s wall, {f_cpu:.2f}s CPU")

    if not args.reuse:
        for i, jobs in enumerate(int(j) for j in args.jobs.split(",")):
            if i:
                import shutil

                shutil.rmtree(data)
            wall, cpu, kib, out = peak_tree_rss([*cli, "import", "--all", "--json", "--jobs", str(jobs)], env)
            totals = json.loads(out)
            log(f"cold import --all --jobs {jobs}: {wall:.2f}s wall = {wall / f_wall:.2f}x the floor's wall; "
                f"{cpu:.2f}s CPU = {cpu / f_cpu:.2f}x the floor's CPU; peak memory of all its processes (PSS) "
                f"{kib / 1024:.0f} MB; {totals['events']} events from {totals['files']} logs, "
                f"skipped {totals['skipped']}")
            f2_wall, f2_cpu, _ = run(floor_cmd, env)
            log(f"floor again after the import: {f2_wall:.2f}s wall, {f2_cpu:.2f}s CPU "
                f"(ratios against it: {wall / f2_wall:.2f}x wall, {cpu / f2_cpu:.2f}x CPU)")

    exe = str(npm_install("npm-ccusage", ["ccusage@20.0.24"]) / "ccusage")
    ours = median_of([*cli, "usage", "daily", "--json", "--agent", "claude"], env, args.runs)
    theirs = median_of([exe, "claude", "daily", "--json", "--offline"], env, args.runs)
    log(f"warm usage daily: {ours[0]:.3f}s wall, {ours[1]:.3f}s CPU; ccusage daily: {theirs[0]:.3f}s wall, "
        f"{theirs[1]:.3f}s CPU; ratio {ours[0] / theirs[0]:.2f}x wall, {ours[1] / theirs[1]:.2f}x CPU")

    for label, q in (("common term", ["search", "pytest"]), ("rare term", ["search", "rm -rf build/"]),
                     ("failed Bash calls", ["search", "", "--tool", "Bash", "--failed"])):
        t = median_of([*cli, *q, "--json"], env, args.runs)
        log(f"warm search ({label}): {t[0]:.3f}s wall, {t[1]:.3f}s CPU")

    _, _, a = run([*cli, "usage", "daily", "--json", "--agent", "claude", "--timezone", "UTC", "--no-import"], env)
    _, _, b = run([exe, "claude", "daily", "--json", "--offline", "--timezone", "UTC"], env)
    mine = {d["date"]: (d["input"], d["output"], d["cache_read"], d["cache_write"], d["cost_usd"])
            for d in json.loads(a)["daily"]}
    cc = {d["date"]: (d["inputTokens"], d["outputTokens"], d["cacheReadTokens"], d["cacheCreationTokens"],
                      d["totalCost"]) for d in json.loads(b)["daily"]}
    same = sum(1 for k in cc if k in mine and mine[k][:4] == cc[k][:4])
    log(f"ccusage comparison: {same}/{len(cc)} days with identical tokens; total cost ours "
        f"${sum(v[4] for v in mine.values()):.2f} vs ccusage ${sum(v[4] for v in cc.values()):.2f} (ccusage "
        "leaves claude-opus-5-5 unpriced; per-model costs agree within 1% in tests/test_usage_ccusage.py)")


if __name__ == "__main__":
    main()
