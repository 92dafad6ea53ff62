"""``statusline``: the line Claude Code shows under the prompt (``setup --statusline``).

``agent-strace statusline`` reads Claude Code's statusLine JSON on stdin and
prints one line (see :mod:`agent_trace.render.statusline`).  Like ``hook``
it is dispatched before argparse and never fails the agent's UI: whatever
goes wrong, it prints what it can and exits 0.

``agent-strace statusline --refresh`` recomputes today's cost and the
current 5-hour block across every store (importing new agent logs first) and
writes the cache the line reads; the line starts it in the background when
the cache is over a minute old.
"""

from __future__ import annotations

import os
import sys

from . import EXIT_OK

# How setup's commands enter the CLI (setup.hook_command.LAUNCH; not imported
# from there: it loads shlex, and with it re, which the line must not pay for).
LAUNCH = "import sys; from agent_trace.cli import main; sys.exit(main())"

HELP = """usage: agent-strace statusline [--refresh]

Print Claude Code's status line: model, this session's cost and tool calls,
today's cost, the current 5-hour block and its time left, context fill and
the last rule decision.  Reads Claude Code's statusLine JSON on stdin.
Install it with: agent-strace setup --statusline
--refresh   recompute today's figures now (normally done in the background)"""


def statusline_main(argv: list[str]) -> int:
    if "-h" in argv or "--help" in argv:
        print(HELP)
        return EXIT_OK
    if "--refresh" in argv:
        return refresh_today()
    try:
        from agent_trace.event.fastjson import loads
        from agent_trace.render.statusline import render

        raw = sys.stdin.buffer.read()
        payload = loads(raw.decode("utf-8", "replace")) if raw.strip() else {}
        line = render(payload if isinstance(payload, dict) else {}, spawn=_spawn_refresh)
    except Exception as e:  # the status line never breaks the agent's screen
        sys.stderr.write(f"agent-strace statusline: {type(e).__name__}: {e}\n")
        line = "agent-strace"
    sys.stdout.write(line + "\n")
    return EXIT_OK


def _spawn_refresh() -> None:
    """Start ``statusline --refresh`` detached (no subprocess import: os.posix_spawn)."""
    devnull = os.devnull
    actions = [(os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, devnull, os.O_WRONLY, 0)]
    os.posix_spawn(sys.executable, [sys.executable, "-c", LAUNCH, "statusline", "--refresh"], dict(os.environ),
                   file_actions=actions, setsid=True)


def refresh_today() -> int:
    """Compute today's cost and the current block; write the status line's cache."""
    import fcntl
    import time

    from agent_trace.render.statusline import _data_dir, _write_json

    os.makedirs(_data_dir(), exist_ok=True)
    lock = os.open(os.path.join(_data_dir(), "statusline.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return EXIT_OK  # another refresh is at work
        from types import SimpleNamespace

        from agent_trace.analysis.summary import prices
        from agent_trace.usage.index import UsageIndex
        from agent_trace.usage.reports import report, rows_of

        from .history_scope import stores

        now = time.time()
        indexes = []
        for store in stores(SimpleNamespace(trace_dir=None, no_import=False)):
            idx = UsageIndex(store).load()
            if idx.update():
                idx.save()
            indexes.append(idx)
        day = time.strftime("%Y-%m-%d", time.localtime(now))
        rows = list(rows_of(indexes))
        daily = report("daily", rows, prices(), None, since=day, until=day)["daily"]
        blocks = [b for b in report("blocks", rows, prices(), None, now=now)["blocks"] if b.get("active")]
        block = None
        if blocks:
            from agent_trace.event import iso_to_epoch

            b = blocks[-1]
            block = {"start": iso_to_epoch(b["start"].replace("Z", ".000000Z")),
                     "end": iso_to_epoch(b["end"].replace("Z", ".000000Z")), "usd": b["cost_usd"]}
        _write_json(os.path.join(_data_dir(), "statusline.json"),
                    {"computed_at": now, "day": day, "today_usd": daily[0]["cost_usd"] if daily else 0.0,
                     "block": block})
        return EXIT_OK
    finally:
        os.close(lock)
