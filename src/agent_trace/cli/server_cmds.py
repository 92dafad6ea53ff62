"""``server``, ``ui``, ``push`` and ``share``: the collector, the dashboard,
delivering a spool, and one session as an HTML file."""

from __future__ import annotations

import os
import sys

from agent_trace.render import words

from . import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from .parsing import add_json, add_session, guarded, open_store, parser, print_json


def run(name: str, argv: list[str]) -> int:
    if name == "server":
        p = parser("server", "Collect events from remote capture (AGENT_STRACE_ENDPOINT) and OTLP "
                             "traces/logs into a store, and serve the web dashboard over it.")
        p.add_argument("--port", type=int, default=7707, help="port (default 7707; 0 picks a free one)")
        p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other "
                                                           "address needs a token)")
        p.add_argument("--storage", metavar="DIR", help="store to write (default: the --trace-dir store)")
        p.add_argument("--token", help="required bearer token (default: $AGENT_STRACE_TOKEN)")
        p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="another host name clients use for this server (repeatable; loopback names "
                            "are always accepted, any other Host is refused as DNS rebinding)")
        p.add_argument("--max-body", type=int, default=32 * 1024 * 1024, metavar="BYTES",
                       help="largest accepted request body (default 32 MiB)")
        p.add_argument("--rules", metavar="FILE", help="[[notify]], [budget] (per session) and [daily_budget] "
                                                      "(per user/project per day) for alerts on every client's "
                                                      "sessions")
        from .notify_cmd import add_notify_args

        add_notify_args(p)
        return guarded(_server)(p.parse_args(argv))
    if name == "ui":
        p = parser("ui", "The web dashboard over the local store (read-only, loopback).")
        p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
        p.add_argument("--open", action="store_true", help="open it in the default browser")
        return guarded(_ui)(p.parse_args(argv))
    if name == "push":
        p = parser("push", "Deliver events spooled for AGENT_STRACE_ENDPOINT now, and wait for it.")
        p.add_argument("--endpoint", help="server URL (default: $AGENT_STRACE_ENDPOINT)")
        p.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds")
        add_json(p)
        return guarded(_push)(p.parse_args(argv))
    p = parser("share", "Write one session as a self-contained, offline, redacted HTML page.")
    add_session(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE.html")
    p.add_argument("--anonymize", action="store_true",
                   help="pseudonymise usernames, home paths, hostnames and emails (consistently, as export does)")
    return guarded(_share)(p.parse_args(argv))


def _server(args) -> int:
    from agent_trace.server.app import Collector, ConfigError, serve
    from agent_trace.store.paths import Store

    store = Store(os.path.abspath(args.storage)) if args.storage else open_store(args)
    token = args.token or os.environ.get("AGENT_STRACE_TOKEN") or None
    try:
        notifier = _team_notifier(args, store)
    except ValueError as e:
        sys.stderr.write(f"agent-strace server: {e}\n")
        return EXIT_USAGE
    collector = Collector(store, token=token, max_body=args.max_body, allowed_hosts=args.allow_host,
                          notifier=notifier)

    def ready(srv):
        host, port = srv.server_address[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"agent-strace server: listening on http://{shown}:{port} (storage {store.root}"
              f"{', token required' if token else ''})", flush=True)

    try:
        serve(collector, args.host, args.port, ready)
    except ConfigError as e:
        sys.stderr.write(f"agent-strace server: {e}\n")
        return EXIT_USAGE
    finally:
        if notifier is not None:
            notifier.close()
    return EXIT_OK


def _team_notifier(args, store):
    """Alerts for every client's sessions (``--notify``, ``--rules``), or None."""
    from .notify_cmd import notify_targets

    policy = {}
    if args.rules:
        from agent_trace.control.policy import PolicyError, parse_file

        try:
            policy = parse_file(args.rules)
        except PolicyError as e:
            raise ValueError(str(e)) from None
    targets = notify_targets(args, policy)
    if not targets:
        return None
    from agent_trace.analysis.session_index import summarize_file
    from agent_trace.analysis.summary import SessionSummary
    from agent_trace.notify.live import LiveNotifier

    def summary_of(session: str):  # once per session and server run: that session's file only
        path = store.path_for(session)
        return SessionSummary.from_dict(summarize_file(path)["state"]) if os.path.exists(path) else None

    b = policy.get("budget")
    return LiveNotifier(store.subdir("state"), targets, budget=b, daily_budget=policy.get("daily_budget"),
                        trace_dir=store.root, summary_of=summary_of)


def _ui(args) -> int:
    from agent_trace.server.app import Collector, serve

    store = open_store(args)
    collector = Collector(store, ingest=False)

    def ready(srv):
        url = f"http://127.0.0.1:{srv.server_address[1]}/"
        print(f"agent-strace ui: {url} (store {store.root}; Ctrl-C to stop)", flush=True)
        if args.open:
            import webbrowser

            webbrowser.open(url)

    serve(collector, "127.0.0.1", args.port, ready)
    return EXIT_OK


def _push(args) -> int:
    import time

    from agent_trace.remote.config import endpoint, token
    from agent_trace.remote.shipper import Shipper

    url = (args.endpoint or endpoint() or "").rstrip("/")
    if not url:
        sys.stderr.write("agent-strace push: no endpoint (set AGENT_STRACE_ENDPOINT or pass --endpoint)\n")
        return EXIT_USAGE
    try:
        shipper = Shipper(open_store(args), url, token())
    except ValueError as e:
        sys.stderr.write(f"agent-strace push: {e}\n")
        return EXIT_USAGE
    end = time.monotonic() + args.timeout
    while True:
        r = shipper.ship(deadline=end)
        if (not r.error and not r.busy and not r.pending_bytes) or time.monotonic() >= end \
                or (r.error and not r.retry):
            break
        time.sleep(0.5)
    if args.json:
        print_json(r.as_dict())
    else:
        print(f"delivered {words.count(r.lines, 'line')} in {words.count(r.batches, 'batch')}: {r.accepted} new, "
              f"{r.duplicates} already there, {r.rejected} rejected; {r.pending_bytes} bytes pending")
    if r.error:
        sys.stderr.write(f"agent-strace push: {r.error}\n")
    return EXIT_OK if not r.pending_bytes else EXIT_ERROR


def _share(args) -> int:
    from agent_trace.export.share_html import build

    path = open_store(args).resolve(args.session)
    anonymizer = None
    if args.anonymize:
        from agent_trace.export.anonymize import Anonymizer

        anonymizer = Anonymizer()
    html, info = build(path, anonymizer)
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8", errors="backslashreplace") as f:
        f.write(html)
    os.replace(tmp, args.output)
    print(f"{args.output}: {info['events']} events, {info['bytes']:,} bytes"
          f" ({info['cuts']} strings cut at {info['cap']:,} characters"
          f"{', ' + str(info['dropped']) + ' events left out' if info['dropped'] else ''})")
    return EXIT_OK
