"""Where a cold history import's CPU goes, as ratios to the ``json.loads``
floor: the same import (one process) with stages switched off one at a time.

    python benchmarks/import_breakdown.py [--dir DIR] [--limit-mb N] [--runs 3]

DIR is the history ``benchmarks/history.py`` generated (its ``home``); by
default that benchmark's cache.  ``--limit-mb`` imports only the first
projects up to about N MB (the whole history takes minutes per variant).

Variants, each a fresh data folder in a fresh process, CPU seconds (user +
system), median of ``--runs``:

* ``full``: the import as shipped;
* ``-indexes``: the list, usage and search indexes not fed;
* ``-redaction``: the encoder's look for secrets skipped (every line taken
  as it serialises);
* ``-both``: neither: what parsing the logs, building the events,
  serialising and appending them costs alone;
* with ``--each-index``, also ``-list``, ``-usage``, ``-search``: one index
  not fed.

This is a diagnostic, not a product mode: nothing here can switch redaction
off outside this script (it patches the modules in its own child process).
The floor is ``json.loads`` of every line of the same files, as a process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from history import floor_command, run, warm_cache  # noqa: E402  (the same floor and timing as history.py)

CHILD = r"""
import json, sys
sys.path.insert(0, {src!r})
off = set(sys.argv[1].split(","))
from agent_trace.analysis.session_index import ListIndex
from agent_trace.analysis.search_index import SearchIndex
from agent_trace.usage.index import UsageIndex
for name, cls in (("list", ListIndex), ("search", SearchIndex), ("usage", UsageIndex)):
    if "indexes" in off or name in off:
        cls.advance = lambda self, *a, **k: True
if "redaction" in off:
    from agent_trace.event import redact
    redact.walk_markers = lambda serialised, prefilter=True: None
from agent_trace.cli import main
sys.exit(main(["import", "--json", "--jobs", "1", *json.load(open(sys.argv[2]))]))
"""

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=str(REPO / ".cache" / "bench-history"))
    ap.add_argument("--limit-mb", type=float, default=0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--each-index", action="store_true", help="also switch off each index alone")
    args = ap.parse_args()
    home = Path(args.dir) / "home"
    if not home.is_dir():
        raise SystemExit(f"no history at {home}: run benchmarks/history.py first (or --dir)")
    projects = sorted((home / ".claude" / "projects").iterdir())
    files: list[str] = []  # the logs, for the floor
    folders: list[str] = []  # their project folders, for the import
    size = 0
    for proj in projects:
        folders.append(str(proj))
        for dirpath, _dirs, names in os.walk(proj):
            for n in names:
                if n.endswith(".jsonl"):
                    p = os.path.join(dirpath, n)
                    files.append(p)
                    size += os.path.getsize(p)
        if args.limit_mb and size >= args.limit_mb * 1e6:
            break
    work = Path(tempfile.mkdtemp(prefix="import-breakdown-"))
    try:
        projects_arg = work / "folders.json"
        projects_arg.write_text(json.dumps(folders))
        env = {k: v for k, v in os.environ.items()
               if k not in ("AGENT_TRACE_DIR", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "PYTHONDONTWRITEBYTECODE")}
        env.update(HOME=str(home), NO_COLOR="1")
        warm_cache(files)  # the page cache holds them for every variant alike
        floor_cmd = floor_command(sorted(files), work / "files.txt")
        floor = statistics.median(run(floor_cmd, env)[1] for _ in range(args.runs))
        print(f"history: {len(files)} logs, {size / 1e6:.0f} MB; floor (json.loads of every line, a process): "
              f"{floor:.2f} s CPU", flush=True)
        child = CHILD.format(src=str(REPO / "src"))
        variants = [("full", ""), ("-indexes", "indexes"), ("-redaction", "redaction"),
                    ("-both", "indexes,redaction")]
        if args.each_index:
            variants += [("-list", "list"), ("-usage", "usage"), ("-search", "search")]
        for label, off in variants:
            times = []
            for _ in range(args.runs):
                data = work / "xdg"
                shutil.rmtree(data, ignore_errors=True)
                _wall, cpu, out = run([sys.executable, "-c", child, off or "-", str(projects_arg)],
                                      {**env, "XDG_DATA_HOME": str(data)})
                times.append(cpu)
            events = json.loads(out)["events"]
            t = statistics.median(times)
            print(f"{label:11} {t:6.2f} s CPU = {t / floor:4.2f}x the floor ({events} events)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
