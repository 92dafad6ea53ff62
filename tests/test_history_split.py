"""A history import split over processes (capture/history_split.py) leaves
the stores and every report exactly as one process does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent_trace.capture import discover, history_split
from agent_trace.cli import main

from support.history_gen import generate


def _at(monkeypatch, home: Path, data: Path) -> None:
    for k in ("AGENT_TRACE_DIR", "CLAUDE_CONFIG_DIR", "CODEX_HOME"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))


def _cli(capsys, *argv) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


# The import runs in a process of its own (pytest's may have threads, and a
# process with threads does not split); small imports split too, and the run
# says when it did.  ``dies``: the worker imports half its share and dies.
IMPORT = """
import os, sys
from agent_trace.capture import history_split
from agent_trace.cli import main
history_split.MIN_BYTES = 0
split = history_split.run
def run(*args):
    sys.stderr.write("split\\n")
    return split(*args)
history_split.run = run
if os.environ.get("DIES"):
    def dies(job, share, indexes, counter, slot, out):
        job.run_share(share[: len(share) // 2], save=False)
        os._exit(3)
    history_split._work = dies
if os.environ.get("NO_ROOM"):
    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")
    history_split.tempfile.TemporaryFile = no_room
sys.exit(main(sys.argv[1:]))
"""


def imported(monkeypatch, capsys, home: Path, data: Path, jobs: int, dies: bool = False,
             no_room: bool = False) -> dict:
    """Import ``home``'s history into ``data`` with ``jobs`` processes; every
    report's JSON (store paths made neutral) and every session file's bytes."""
    _at(monkeypatch, home, data)
    env = {**os.environ, "DIES": "1" if dies else "", "NO_ROOM": "1" if no_room else ""}
    r = subprocess.run([sys.executable, "-c", IMPORT, "import", "--all", "--json", "--jobs", str(jobs)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert ("split" in r.stderr.splitlines()) == (jobs > 1)
    totals = json.loads(r.stdout)
    out = {"totals": {k: v for k, v in totals.items() if k != "stores"}, "said": r.stderr}
    for name, argv in {"daily": ("usage", "daily"), "session": ("usage", "session"), "blocks": ("usage", "blocks"),
                       "project": ("usage", "project"), "search": ("search", "pytest", "--limit", "100000"),
                       "failed": ("search", "", "--tool", "Bash", "--failed", "--limit", "100000"),
                       "list": ("list", "--all")}.items():
        text = _cli(capsys, *argv, "--json", "--no-import").replace(str(data), "<data>")
        out[name] = json.loads(text)
    for group in out["list"]:
        for s in group["sessions"]:
            s.pop("mtime", None)
    sessions = data / "agent-strace" / "history" / "sessions"
    out["files"] = {p.name: p.read_bytes() for p in sorted(sessions.iterdir())}
    return out


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("split") / "home"
    generate(home, sessions=60, days=10, projects=4, seed=3, resumed=0.3, damage=0.05)
    return home


def test_a_split_import_reports_what_one_process_does(home, tmp_path, monkeypatch, capsys):
    one = imported(monkeypatch, capsys, home, tmp_path / "one", 1)
    two = imported(monkeypatch, capsys, home, tmp_path / "two", 2)
    assert one["totals"]["events"] > 1000 and one["search"]["total"] > 0 and one["failed"]["total"] > 0
    said = [x for x in two.pop("said").splitlines() if x != "split"]
    assert len(said) == 1 and "entry type 'hologram-v9' is not known" in said[0]  # once, as one process says it
    assert one.pop("said").count("\n") == 1
    assert one == two
    # and nothing is new the second time
    again = json.loads(_cli(capsys, "import", "--all", "--json", "--jobs", "2"))
    assert again["events"] == 0 and again["unchanged"] == two["totals"]["files"] + two["totals"]["unchanged"]


def test_a_worker_that_dies_has_its_share_imported_here(home, tmp_path, monkeypatch, capsys):
    one = imported(monkeypatch, capsys, home, tmp_path / "one", 1)
    two = imported(monkeypatch, capsys, home, tmp_path / "two", 2, dies=True)  # half its share, then gone
    assert "a worker importing" in two["said"] and "stopped; importing them here" in two["said"]
    for r in (one, two):
        r.pop("totals")  # the share's first half was imported twice: counted by both
        r.pop("said")
    for r in (one, two):  # the list index read these files back (not handed over): sums in another order
        for group in r["list"]:
            for x in group["sessions"]:
                x["cost_usd"] = round(x["cost_usd"], 4)
                for m in x["models"].values():
                    m["cost_usd"] = round(m["cost_usd"], 4)
    assert one == two


def test_no_room_for_a_worker_imports_in_one_process(home, tmp_path, monkeypatch, capsys):
    one = imported(monkeypatch, capsys, home, tmp_path / "one", 1)
    two = imported(monkeypatch, capsys, home, tmp_path / "two", 2, no_room=True)
    assert "importing in one process (No space left on device)" in two["said"]
    for r in (one, two):
        r.pop("said")
    assert one == two


def test_a_response_counted_by_two_workers_counts_once(tmp_path, monkeypatch, capsys):
    """One session in two projects (the same messages): one process counts
    each response once across the store; two processes each count it, and
    the merge sees it and has the usage index count again."""
    home = tmp_path / "home"
    generate(home, sessions=12, days=3, projects=1, seed=5, resumed=0.0, damage=0.0)
    projects = home / ".claude" / "projects"
    (first,) = list(projects.iterdir())
    copy = projects / (first.name + "-copy")
    shutil.copytree(first, copy)
    for p in copy.glob("*.jsonl"):  # another session id, the same message ids
        p.rename(p.with_name("c" + p.name[1:]))
    for d in [d for d in copy.iterdir() if d.is_dir()]:
        d.rename(d.with_name("c" + d.name[1:]))
    one = imported(monkeypatch, capsys, home, tmp_path / "one", 1)
    two = imported(monkeypatch, capsys, home, tmp_path / "two", 2)
    assert one["daily"]["totals"] == two["daily"]["totals"]
    assert one["daily"]["totals"]["output"] > 0


def test_shares_keep_projects_and_sessions_whole():
    def log(path, size, session=None, agent=None):
        return discover.LogFile(discover.CLAUDE, path, session, agent, size=size)

    root = "/h/.claude/projects"
    todo = [log(f"{root}/a/s{i}.jsonl", 10, f"s{i}") for i in range(4)]
    todo += [log(f"{root}/b/t{i}.jsonl", 10, f"t{i}") for i in range(4)]
    todo += [log(f"{root}/b/t0/subagents/agent-x.jsonl", 5, "t0", "x")]
    a, b = history_split.shares(todo, 2)
    assert {os.path.dirname(x.path) for x in a} != {os.path.dirname(x.path) for x in b}  # a project per share
    big = [log(f"{root}/c/u{i}.jsonl", 100, f"u{i}") for i in range(6)]
    big += [log(f"{root}/c/u{i}/subagents/agent-{i}.jsonl", 50, f"u{i}", str(i)) for i in range(6)]
    parts = history_split.shares(big + [log(f"{root}/d/v.jsonl", 10, "v")], 2)
    loads = [sum(x.size for x in p) for p in parts]
    assert len(parts) == 2 and max(loads) - min(loads) <= 150  # the big project cut between sessions
    for p in parts:  # ... never inside one
        assert all(any(y.session == x.session and y.agent_id is None for y in p) for x in p if x.agent_id)
        assert [x.path for x in p] == sorted(x.path for x in p)
    assert history_split.shares(todo[:1], 2) == [todo[:1]]


def test_no_split_from_a_process_with_threads():
    """A fork copies only the thread that calls it: a process with other
    threads (the dashboard, the MCP server) imports in one process.  In a
    process of its own: pytest's may have threads of its own."""
    code = """
import threading
from agent_trace.capture import discover, history_split
logs = [discover.LogFile(discover.CLAUDE, f"/p/projects/a/s{i}.jsonl", f"s{i}", size=history_split.MIN_BYTES)
        for i in range(2)]
assert history_split.worth_it(logs, 2) and not history_split.worth_it(logs, 1)
stop = threading.Event()
t = threading.Thread(target=stop.wait)
t.start()
assert not history_split.worth_it(logs, 2)
stop.set()
t.join()
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
