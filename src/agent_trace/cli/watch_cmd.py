"""``watch``: live view, limits, and the kill switch for the agent process."""

from __future__ import annotations

import os
import sys
import time

from . import EXIT_CHECK, EXIT_OK, EXIT_USAGE
from .parsing import guarded, open_store, parser

DAEMON_WAIT_S = 0.25  # longest wait between two looks at the files while a daemon runs


def run(name: str, argv: list[str]) -> int:
    p = parser("watch", "Follow sessions live; with limits, stop the agent when one is passed. "
                        "watch [SESSION] | watch [limits] -- CMD ARGS... | watch [limits] --pid PID")
    p.add_argument("session", nargs="?", help="follow this session (default: sessions active from now on)")
    p.add_argument("--budget", type=float, metavar="USD", help="stop past this much real cost")
    p.add_argument("--tokens", type=int, help="stop past this many tokens")
    p.add_argument("--tool-calls", type=int, metavar="N", help="stop past N tool calls")
    p.add_argument("--failures", type=int, metavar="N", help="stop after N failed tool calls in a row")
    p.add_argument("--timeout", metavar="DUR", help="stop after this long (30m, 90s ...), even with no events")
    p.add_argument("--rules", metavar="FILE", help="also take budget and limits from this rules file")
    p.add_argument("--pid", type=int, help="the agent process to stop (when it was started elsewhere)")
    p.add_argument("--grace", type=float, default=0.5, help="seconds between SIGTERM and SIGKILL (default 0.5)")
    p.add_argument("-q", "--quiet", action="store_true", help="no live lines, only the outcome")
    from .notify_cmd import add_notify_args

    add_notify_args(p)
    command: list[str] = []
    if "--" in argv:  # the agent's own command line: never parsed as ours
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    args = p.parse_args(argv)
    args.command = command
    return guarded(_watch)(args, p)


def _watch(args, p) -> int:
    from agent_trace.control.watch import Limits, Watcher, run_child
    from agent_trace.capture.sink import open_sink
    from agent_trace.event.timefmt import parse_duration

    if args.command and args.pid:
        p.error("give either -- CMD or --pid, not both")
    try:
        timeout = parse_duration(args.timeout) if args.timeout else None
    except ValueError as e:
        p.error(str(e))
    policy = {}
    if args.rules:
        from agent_trace.control.policy import PolicyError, parse_file

        try:
            policy = parse_file(args.rules)
        except PolicyError as e:
            sys.stderr.write(f"agent-strace watch: {e}\n")
            return EXIT_USAGE
    limits = Limits.from_policy(policy, usd=args.budget, tokens=args.tokens, tool_calls=args.tool_calls,
                                failures=args.failures, timeout_s=timeout)
    store = open_store(args)
    try:
        notifier = _notifier(args, policy, limits, store)
    except ValueError as e:
        p.error(str(e))
    sink = open_sink(store)
    fixed = [store.resolve(args.session)] if args.session else None
    start = time.time()
    watcher = Watcher(store, limits, fixed, since=start - 1, quiet=args.quiet)
    if notifier is not None:
        watcher.observer = notifier.feed
    child = None
    if args.command:
        env = {**os.environ, "AGENT_TRACE_DIR": store.root}
        child = run_child(args.command, env)
    pid = child.pid if child else args.pid
    try:
        return _loop(args, watcher, child, pid, sink, store, notifier)
    finally:
        if notifier is not None:
            notifier.close()


def _notifier(args, policy: dict, limits, store):
    """Alerts for what this watch sees (``--notify`` and the rules file's
    ``[[notify]]``), or None."""
    from .notify_cmd import notify_targets

    targets = notify_targets(args, policy)
    if not targets:
        return None
    from agent_trace.notify.live import LiveNotifier

    budget = {"usd": limits.usd, "tokens": limits.tokens} if (limits.usd or limits.tokens) else None
    return LiveNotifier(store.subdir("state"), targets, budget=budget, trace_dir=store.root)


def _loop(args, watcher, child, pid, sink, store, notifier) -> int:
    from agent_trace.control.watch import TICK_S, record_kill, stop_process
    from agent_trace.daemon.client import ChangeWaiter

    # With the daemon running, wake as soon as it writes; other sources show within DAEMON_WAIT_S.
    waiter = ChangeWaiter(store.root, TICK_S)
    try:
        while True:
            d = watcher.poll()
            if d is not None:
                limit_at = time.time()
                how = stop_process(pid, group=child is not None, grace=args.grace) if pid else "no process"
                if child:
                    child.wait()
                watcher.poll()
                record_kill(sink, store, watcher.fired_session, d, how, limit_at)
                watcher.poll()  # its own kill decision, for the notifier
                sys.stdout.flush()
                sys.stderr.write(f"agent-strace watch: {d.reason}; "
                                 f"{'agent stopped by ' + how if pid else 'limit passed'}\n")
                return EXIT_CHECK
            if child is not None and child.poll() is not None:
                watcher.poll()
                code = child.returncode if child.returncode >= 0 else 128 - child.returncode
                if code and notifier is not None:
                    f = watcher.newest()
                    notifier.agent_failed(f.summary.session if f else None, f"the agent exited with status {code}",
                                          f.summary if f else None)
                return code
            if args.pid and not os.path.exists(f"/proc/{args.pid}"):
                watcher.poll()
                return EXIT_OK
            waiter.wait(DAEMON_WAIT_S)
    except KeyboardInterrupt:
        if child is not None:
            stop_process(child.pid, True, args.grace)
        return 130
