"""A real Claude Code session with agent-strace hooks vs the same without.

Claude Code 2.1.x (npm, cached in .cache/npm-claude) runs offline in print
mode against the scripted endpoint from the tests.  The default scenario has
a subagent and ten tool calls (writes, reads, an edit, a failing and a
passing command, a search, the subagent's own read and command); ``--light``
is the earlier five-call session.  Runs rotate between a project without
hooks and one project per transport:

* ``command``: hooks as ``agent-strace setup`` installs them (a process per
  synchronous event);
* ``http``: ``setup --transport http`` (events posted to the daemon; the
  daemon is started by the first session's SessionStart hook and stays up);
* ``floor``: the same HTTP hooks posted to a Node server that answers ``{}``
  and does nothing else, and no SessionStart command hooks: what Claude Code
  itself spends on HTTP hooks, whoever answers them.  ``http`` minus
  ``floor`` is agent-strace's share.

Besides wall time it reports CPU time: Claude Code and every process it
waited for (command hooks included: ``RUSAGE_CHILDREN``), and the daemon's
own CPU time over the session (``/proc``), so a loaded machine, where wall
times scatter, still shows who spends what.

    python benchmarks/claude_session.py [--runs 7] [--transports command,http,floor] [--light]
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.anthropic_stub import Stub  # noqa: E402
from support.claude_code import run_claude  # noqa: E402
from support.processes import free_port  # noqa: E402

PROMPT = "benchmark task"
FLOOR_SERVER = r"""
const http = require('http');
const s = http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => {
  res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': 2}); res.end('{}'); }); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
"""
SUB_PROMPT = "check the notes"


def scenario(project: Path, light: bool) -> dict:
    notes = str(project / "notes.txt")
    if light:
        return {PROMPT: [
            [{"tool": "Write", "input": {"file_path": notes, "content": "one\n"}}],
            [{"tool": "Read", "input": {"file_path": notes}}],
            [{"tool": "Edit", "input": {"file_path": notes, "old_string": "one", "new_string": "two"}}],
            [{"tool": "Bash", "input": {"command": "cat missing.txt", "description": "fail"}}],
            [{"tool": "Bash", "input": {"command": "ls", "description": "list"}}],
            [{"text": "Done."}],
        ]}
    return {
        PROMPT: [
            [{"tool": "Write", "input": {"file_path": notes, "content": "one\n"}}],
            [{"tool": "Read", "input": {"file_path": notes}}],
            [{"tool": "Edit", "input": {"file_path": notes, "old_string": "one", "new_string": "two"}}],
            [{"tool": "Bash", "input": {"command": "cat missing.txt", "description": "fail"}}],
            [{"tool": "Bash", "input": {"command": "ls", "description": "list"}}],
            [{"tool": "Grep", "input": {"pattern": "two", "path": str(project)}}],
            [{"tool": "Write", "input": {"file_path": str(project / "more.txt"), "content": "more\n"}}],
            [{"tool": "Agent", "input": {"description": "helper", "prompt": SUB_PROMPT,
                                         "subagent_type": "general-purpose"}}],
            [{"text": "Done."}],
        ],
        SUB_PROMPT: [
            [{"tool": "Read", "input": {"file_path": notes}}],
            [{"tool": "Bash", "input": {"command": "wc -l notes.txt", "description": "count"}}],
            [{"text": "Notes checked."}],
        ],
    }


def floor_settings(project: Path, daemon_port: int, floor_port: int) -> None:
    """The project's HTTP hooks sent to the floor server; SessionStart (command hooks) dropped."""
    f = project / ".claude" / "settings.local.json"
    settings = json.loads(f.read_text())
    settings["hooks"].pop("SessionStart", None)
    f.write_text(json.dumps(settings).replace(f"127.0.0.1:{daemon_port}/", f"127.0.0.1:{floor_port}/"))


def cpu_s(pid: int | None) -> float:
    """user+system seconds of a running process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, TypeError, IndexError):
        return 0.0


def daemon_pid(daemon_dir: Path) -> int | None:
    try:
        return json.loads((daemon_dir / "daemon.json").read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return None


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--transports", default="command,http", help="comma-separated: command, http, floor")
    ap.add_argument("--light", action="store_true", help="the earlier five-call session without a subagent")
    args = ap.parse_args()
    transports = [t for t in args.transports.split(",") if t]
    kinds = ["without"] + transports
    walls: dict[str, list[float]] = {k: [] for k in kinds}
    cpus: dict[str, list[float]] = {k: [] for k in kinds}  # Claude Code + the processes it waited for
    dcpus: dict[str, list[float]] = {k: [] for k in kinds}  # the daemon, over the same session
    allowed = "Write,Read,Edit,Bash,Grep,Agent"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "home"
        home.mkdir()
        store = tmp / "store"
        port = free_port()
        daemon_env = {"AGENT_STRACE_DAEMON_DIR": str(tmp / "daemon"), "AGENT_STRACE_DAEMON_PORT": str(port)}
        env = {**os.environ, **daemon_env, "HOME": str(home)}
        floor = None
        if "floor" in kinds:
            (tmp / "floor.js").write_text(FLOOR_SERVER)
            floor = subprocess.Popen(["node", str(tmp / "floor.js")], stdout=subprocess.PIPE, text=True)
            floor_port = int(floor.stdout.readline())
        for kind in kinds:
            (tmp / kind).mkdir()
            if kind != "without":
                subprocess.run([sys.executable, "-m", "agent_trace", "setup", "--scope", "local", "--project",
                                str(tmp / kind), "--transport", "http" if kind == "floor" else kind],
                               check=True, capture_output=True, env=env)
            if kind == "floor":
                floor_settings(tmp / kind, port, floor_port)
        try:
            for i in range(args.runs + 1):
                for kind in kinds:
                    project = tmp / kind
                    for f in ("notes.txt", "more.txt"):
                        (project / f).unlink(missing_ok=True)
                    with Stub(scenario(project, args.light)) as stub:
                        pid = daemon_pid(tmp / "daemon")
                        c0, d0 = children_cpu(), cpu_s(pid)
                        out = run_claude(project, home, stub.url, PROMPT, allowed,
                                         env_extra={"AGENT_TRACE_DIR": str(store / kind), **daemon_env})
                        c1, d1 = children_cpu(), cpu_s(pid)
                    assert out["_returncode"] == 0, out
                    if i:  # the first round warms caches (and starts the daemon)
                        walls[kind].append(out["_wall_s"])
                        cpus[kind].append(c1 - c0)
                        dcpus[kind].append(max(0.0, d1 - d0))
        finally:
            subprocess.run([sys.executable, "-m", "agent_trace", "daemon", "stop"], env=env, capture_output=True)
            if floor:
                floor.terminate()
                floor.wait()
        events = {k: sum(1 for f in (store / k / "sessions").iterdir() for _ in open(f)) // (args.runs + 1)
                  for k in transports if k != "floor"}
    base = statistics.median(walls["without"])
    base_cpu = statistics.median(cpus["without"])
    what = "light (5 tool calls)" if args.light else "subagent, 10 tool calls"
    print(f"runs per kind: {args.runs}; scenario: {what}; medians")
    print(f"without hooks      wall {base:.3f} s                 CPU (Claude Code) {base_cpu:.3f} s")
    for k in transports:
        w, c, d = statistics.median(walls[k]), statistics.median(cpus[k]), statistics.median(dcpus[k])
        label = "floor (HTTP, {})" if k == "floor" else f"{k} hooks"
        note = ("(HTTP hooks answered {} by a Node server: Claude Code's own cost)" if k == "floor"
                else f"({events[k]} events per session)")
        print(f"{label:<18} wall {w:.3f} s = {w / base:.3f}x   CPU (Claude Code + hooks) {c:.3f} s "
              f"(+{c - base_cpu:.3f}), daemon {d:.3f} s   {note}")


if __name__ == "__main__":
    main()
