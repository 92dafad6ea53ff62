"""``daemon``: the per-user daemon HTTP hooks post to (``setup --transport http``).

    agent-strace daemon start | stop | restart | status [--json] | run
    agent-strace daemon sessions [--json]     live sessions it holds
    agent-strace daemon sync [--timeout S]    wait for its transcript imports
    agent-strace daemon secret                print the per-user secret
    agent-strace daemon service [--print] [--enable] [--uninstall]
"""

from __future__ import annotations

import os
import sys

from . import EXIT_ERROR, EXIT_OK
from .parsing import Parser, print_json

ACTIONS = ("start", "stop", "restart", "status", "run", "sessions", "sync", "secret", "service")


def run(name: str, argv: list[str]) -> int:
    p = Parser(prog="agent-strace daemon",
               description="The per-user agent-strace daemon: takes Claude Code's HTTP hooks, writes the same "
                           "store, answers rules, keeps live state for watch, inspect, the statusline and ui. "
                           "Started on demand by the SessionStart hook of 'setup --transport http'.")
    p.add_argument("action", choices=ACTIONS, help="what to do")
    p.add_argument("--json", action="store_true", help="status, sessions: machine-readable output")
    p.add_argument("--timeout", type=float, default=10.0, help="sync: seconds to wait (default 10)")
    p.add_argument("--print", dest="dry", action="store_true", help="service: show the unit file, write nothing")
    p.add_argument("--enable", action="store_true", help="service: also systemctl --user enable --now")
    p.add_argument("--uninstall", action="store_true", help="service: remove the unit file")
    args = p.parse_args(argv)
    return globals()["_" + args.action](args)


def _files():
    from agent_trace.daemon.files import DaemonFiles

    return DaemonFiles()


def _run(args) -> int:
    from agent_trace.daemon.lifecycle import run as run_daemon

    return run_daemon(_files())


def _start(args) -> int:
    from agent_trace.daemon.lifecycle import start

    try:
        st, what = start(_files())
    except ValueError as e:  # a bad port setting
        sys.stderr.write(f"agent-strace daemon: {e}\n")
        return EXIT_ERROR
    if st is None:
        sys.stderr.write(f"agent-strace daemon: not started: {what}\n")
        return EXIT_ERROR
    print(f"agent-strace daemon {what}: pid {st.get('pid')}, 127.0.0.1:{st.get('port')}"
          + (f", {st['socket']}" if st.get("socket") else ""))
    return EXIT_OK


def _stop(args) -> int:
    from agent_trace.daemon.lifecycle import stop

    print(f"agent-strace daemon {stop(_files())}")
    return EXIT_OK


def _restart(args) -> int:
    _stop(args)
    return _start(args)


def _status(args) -> int:
    from agent_trace.daemon import client
    from agent_trace.daemon.lifecycle import info

    files = _files()
    st = client.status(files)
    if st is None:
        running = info(files)
        if args.json:
            print_json({"running": running is not None, "dir": files.root, **(running or {})})
        else:
            print("agent-strace daemon: " + ("running but not answering" if running else "not running")
                  + f" ({files.root})")
        return EXIT_ERROR
    st = {"running": True, **st}
    if args.json:
        print_json(st)
        return EXIT_OK
    rss = f"{st['rss_kb'] / 1024:.1f} MB" if st.get("rss_kb") else "?"
    print(f"agent-strace daemon: running, pid {st['pid']}, 127.0.0.1:{st['port']}"
          + (f" and {st['socket']}" if st.get("socket") else ""))
    print(f"  up {st['uptime_s']:.0f}s, {st['received']} hook events, {st['live_sessions']} live sessions, "
          f"{st['imports']} transcript imports ({st['recovered']} events recovered), memory {rss}")
    if st.get("not_recorded"):
        print(f"  {st['not_recorded']} payload(s) could not be recorded: see {os.path.join(st['dir'], 'daemon.log')}")
    return EXIT_OK


def _sessions(args) -> int:
    from agent_trace.daemon import client

    rows = client.live_sessions(files=_files())
    if rows is None:
        sys.stderr.write("agent-strace daemon: not running\n")
        return EXIT_ERROR
    if args.json:
        print_json(rows)
        return EXIT_OK
    for r in rows:
        s = r["summary"]
        d = r.get("decision") or {}
        print(f"{r['session'][:36]:<36}  {s['events']:>6} events {s['tool_calls']:>5} tools "
              f"${s['cost_usd']:.4f}  hooks {r['hooks']}"
              + (f"  last rule: {d.get('action')} {d.get('rule')}" if d else "")
              + (f"  recovered {r['recovered']}" if r.get("recovered") else ""))
    return EXIT_OK


def _sync(args) -> int:
    from agent_trace.daemon import client

    idle = client.sync(args.timeout, _files())
    if idle is None:
        print("agent-strace daemon: not running (nothing to wait for)")
        return EXIT_OK
    if not idle:
        sys.stderr.write(f"agent-strace daemon: imports still running after {args.timeout:g}s\n")
        return EXIT_ERROR
    return EXIT_OK


def _secret(args) -> int:
    from agent_trace.daemon.files import secret

    print(secret(_files()))
    return EXIT_OK


def _service(args) -> int:
    import shutil
    import subprocess

    from agent_trace.daemon.service import UNIT_NAME, unit_path, unit_text

    path = unit_path()
    if args.uninstall:
        if shutil.which("systemctl"):
            subprocess.run(["systemctl", "--user", "disable", "--now", UNIT_NAME], capture_output=True)
        try:
            os.unlink(path)
            print(f"removed {path}")
        except FileNotFoundError:
            print(f"{path}: not installed")
        return EXIT_OK
    text = unit_text()
    if args.dry:
        sys.stdout.write(text)
        return EXIT_OK
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {path}")
    if not args.enable:
        print(f"enable it with: systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}")
        return EXIT_OK
    if not shutil.which("systemctl"):
        sys.stderr.write("agent-strace daemon: systemctl not found: the unit is written, enable it by hand\n")
        return EXIT_ERROR
    for cmd in (["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", UNIT_NAME]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(f"agent-strace daemon: {' '.join(cmd)} failed: {r.stderr.strip()}\n")
            return EXIT_ERROR
    print(f"enabled {UNIT_NAME}")
    return EXIT_OK
