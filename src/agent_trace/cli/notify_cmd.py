"""``notify test|status|flush``, and the ``--notify`` options ``watch`` and
``server`` share."""

from __future__ import annotations

import os
import sys

from . import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE
from .parsing import add_json, guarded, open_store, parser, print_json


def add_notify_args(p) -> None:
    p.add_argument("--notify", action="append", metavar="URL",
                   help="post alerts to this webhook (repeatable; see docs/rules.md, Notifications)")
    p.add_argument("--notify-format", choices=("slack", "teams", "json"),
                   help="payload for --notify (default: guessed from the URL, else json)")
    p.add_argument("--notify-on", metavar="TRIGGERS",
                   help="comma-separated triggers for --notify (default: denied,stopped,killed,budget,"
                        "session_failed)")


def notify_targets(args, policy: dict) -> list[dict]:
    """Targets from ``--notify`` plus the rules file's ``[[notify]]``;
    raises ``ValueError`` with a one-line message."""
    from agent_trace.notify.config import NotifyConfigError, make_targets

    targets = list(policy.get("notify") or [])
    on = args.notify_on.split(",") if getattr(args, "notify_on", None) else None
    for url in args.notify or ():
        try:
            for t in make_targets(url, args.notify_format, on=[x.strip() for x in on] if on else None):
                if t["key"] not in {x["key"] for x in targets}:
                    targets.append(t)
        except NotifyConfigError as e:
            raise ValueError(str(e)) from None
    return targets


def run(name: str, argv: list[str]) -> int:
    p = parser("notify", "Notifications: test (send a sample to every target), status (what is queued, "
                         "sent, failed), flush (deliver what waits, now).")
    p.add_argument("action", choices=["test", "status", "flush"])
    p.add_argument("--rules", metavar="FILE", help="rules file with [[notify]] (default: the one the hook uses here)")
    p.add_argument("--url", action="append", metavar="URL", help="(test) send to this URL instead")
    p.add_argument("--format", choices=("slack", "teams", "json"), help="(test) payload for --url")
    p.add_argument("--timeout", type=float, default=60.0, help="(flush) give up after this many seconds")
    add_json(p)
    args = p.parse_args(argv)
    return guarded(_notify)(args)


def _policy(args) -> tuple[str | None, dict]:
    from agent_trace.control.policy import find_rules_file, parse_file

    path = args.rules or find_rules_file(os.getcwd())
    return path, (parse_file(path) if path else {})


def _notify(args) -> int:
    from agent_trace.control.policy import PolicyError
    from agent_trace.notify.config import NotifyConfigError, make_targets

    try:
        if args.action == "test" and args.url:
            path, targets = None, [t for u in args.url for t in make_targets(u, args.format, on=["denied"])]
        else:
            path, policy = _policy(args)
            targets = policy.get("notify") or []
    except (PolicyError, NotifyConfigError) as e:
        sys.stderr.write(f"agent-strace notify: {e}\n")
        return EXIT_USAGE
    store = open_store(args)
    if args.action == "status":
        return _status(store, targets, args)
    if not targets:
        sys.stderr.write("agent-strace notify: no targets: add [[notify]] to the rules file "
                         f"({path or '.agent-strace/rules.toml'}) or pass --url\n")
        return EXIT_NOT_FOUND
    if args.action == "test":
        return _test(targets, args)
    return _flush(store, targets, args)


def _test(targets: list[dict], args) -> int:
    from agent_trace.notify import alerts
    from agent_trace.notify.sender import send_one

    results, failed = [], 0
    for t in targets:
        out = send_one(t, alerts.sample(t))
        ok = out.state == "sent"
        failed += not ok
        results.append({"target": t["name"], "channel": t["channel"], "format": t["format"], "ok": ok,
                        "status": out.status, "error": out.error})
    if args.json:
        print_json(results)
    else:
        for r in results:
            what = f"{r['target']} ({r['channel']}, {r['format']})"
            print(f"{what}: " + ("ok" + (f" (HTTP {r['status']})" if r["status"] else "") if r["ok"]
                                 else f"FAILED: {r['error']}"))
    return EXIT_OK if not failed else EXIT_ERROR


def _status(store, targets: list[dict], args) -> int:
    from agent_trace.notify import queue

    state = store.subdir("state")
    names = {t["key"]: t["name"] for t in targets}
    rows = []
    for key in queue.target_keys(state):
        st = queue.status(state, key)
        st["name"] = names.get(key, "(not in the rules file)")
        rows.append(st)
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print("no alerts queued or sent from this store")
    for r in rows:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items())) or "none"
        print(f"{r['name']} [{r['target']}]: {r['alerts']} alert(s): {counts}"
              + (f"; last error: {r['last_error']}" if r["last_error"] else ""))
    return EXIT_OK


def _flush(store, targets: list[dict], args) -> int:
    import time

    from agent_trace.notify import queue
    from agent_trace.notify.sender import run_until_done

    state = store.subdir("state")
    r = run_until_done(state, targets, time.time() + args.timeout)
    waiting = queue.has_pending(state, [t["key"] for t in targets])
    if args.json:
        print_json({"sent": r.sent, "retrying": r.retrying, "failed": r.failed, "doubt": r.doubt,
                    "waiting": waiting, "errors": r.errors[-5:]})
    else:
        print(f"sent {r.sent}, failed {r.failed}, in doubt {r.doubt}" + ("; some still waiting" if waiting else ""))
        for e in r.errors[-5:]:
            sys.stderr.write(f"agent-strace notify: {e}\n")
    return EXIT_OK if not waiting else EXIT_ERROR
