"""``server``, ``ui``, ``push`` and ``share``: the collector, the dashboard,
delivering a spool, and one session as an HTML file."""

from __future__ import annotations

import os
import sys

from agent_trace.render import words

from . import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE
from .parsing import add_json, add_session, guarded, open_store, parser, print_json


def run(name: str, argv: list[str]) -> int:
    if name == "server":
        if argv[:1] == ["token"]:
            return _token_cmd(argv[1:])
        if argv[:1] == ["export-to"]:
            return _export_cmd(argv[1:])
        p = parser("server", "Collect events from remote capture (AGENT_STRACE_ENDPOINT) and OTLP "
                             "traces/logs into a store or a PostgreSQL database, and serve the web dashboard "
                             "over it.  Also: `server token add|list|revoke NAME`, `server export-to DIR`.")
        p.add_argument("--port", type=int, default=7707, help="port (default 7707; 0 picks a free one)")
        p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other "
                                                           "address needs a token)")
        _add_storage(p)
        p.add_argument("--token", help="shared bearer token (default: $AGENT_STRACE_TOKEN); per-user tokens: "
                                       "`server token add NAME`")
        p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="another host name clients use for this server (repeatable; loopback names "
                            "are always accepted, any other Host is refused as DNS rebinding)")
        p.add_argument("--max-body", type=int, default=32 * 1024 * 1024, metavar="BYTES",
                       help="largest accepted request body (default 32 MiB)")
        p.add_argument("--retain", metavar="AGE", help="delete sessions whose last event is older than AGE "
                                                       "(e.g. 90d), in the background")
        p.add_argument("--migrate-only", action="store_true",
                       help="apply the database's schema migrations and exit (PostgreSQL storage)")
        p.add_argument("--db-connections", type=int, default=8, metavar="N",
                       help="database connections per collector (PostgreSQL storage, default 8)")
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


def _add_storage(p) -> None:
    p.add_argument("--storage", metavar="DIR|URL",
                   help="a store directory, or postgresql://user@host/db (the postgres extra; the password "
                        "from ~/.pgpass or PGPASSWORD rather than the command line) "
                        "(default: $AGENT_STRACE_STORAGE, else the --trace-dir store)")


def _storage_spec(args) -> str:
    return args.storage or os.environ.get("AGENT_STRACE_STORAGE") or open_store(args).root


def _open(args, **kw):
    """The storage backend, or a one-line error (exit 2) when it cannot be used."""
    from agent_trace.server.storage import StorageError, StorageUnavailable, describe, open_storage

    spec = _storage_spec(args)
    try:
        return open_storage(spec, **kw)
    except StorageError as e:
        sys.stderr.write(f"agent-strace server: {e}\n")
        raise SystemExit(EXIT_USAGE) from None
    except StorageUnavailable as e:
        sys.stderr.write(f"agent-strace server: {describe(spec)}: {e}\n")
        raise SystemExit(EXIT_ERROR) from None


def _server(args) -> int:
    from agent_trace.server import retention
    from agent_trace.server.app import Collector, ConfigError, serve

    age = None
    if args.retain:
        try:
            age = retention.parse_age(args.retain)
        except ValueError as e:
            sys.stderr.write(f"agent-strace server: {e}\n")
            return EXIT_USAGE
    if args.migrate_only:
        if not _is_db(args):
            sys.stderr.write("agent-strace server: --migrate-only needs --storage postgresql://...\n")
            return EXIT_USAGE
        storage = _open(args, pool_size=1)
        print(f"{storage.where}: schema at version {storage.version}"
              f"{' (applied ' + ', '.join(map(str, storage.applied)) + ')' if storage.applied else ', up to date'}")
        storage.close()
        return EXIT_OK
    storage = _open(args, pool_size=max(1, args.db_connections))
    token = args.token or os.environ.get("AGENT_STRACE_TOKEN") or None
    try:
        notifier = _team_notifier(args, storage)
    except ValueError as e:
        storage.close()
        sys.stderr.write(f"agent-strace server: {e}\n")
        return EXIT_USAGE
    collector = Collector(storage, token=token, max_body=args.max_body, allowed_hosts=args.allow_host,
                          notifier=notifier)
    if age:
        retention.start(storage, age, collector.stopping)

    def ready(srv):
        host, port = srv.server_address[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"agent-strace server: listening on http://{shown}:{port} (storage {storage.where}"
              f"{', token required' if collector.needs_token() else ''})", flush=True)

    try:
        serve(collector, args.host, args.port, ready)
    except ConfigError as e:
        sys.stderr.write(f"agent-strace server: {e}\n")
        return EXIT_USAGE
    finally:
        if notifier is not None:
            notifier.close()
        storage.close()
    return EXIT_OK


def _is_db(args) -> bool:
    from agent_trace.server.storage import is_database_url

    return is_database_url(_storage_spec(args))


def _token_cmd(argv: list[str]) -> int:
    p = parser("server token", "Per-user (or per-machine) collector tokens: events sent with one are "
                               "attributed to its name.  Only a hash is kept; `add` prints the token once.")
    p.add_argument("action", choices=("add", "list", "revoke"))
    p.add_argument("name", nargs="?", help="token name (add, revoke): letters, digits, . _ @ + -")
    _add_storage(p)
    add_json(p)
    args = p.parse_args(argv)
    if args.action != "list" and not args.name:
        p.error(f"{args.action} needs a NAME")
    return guarded(_token)(args)


def _token(args) -> int:
    from agent_trace.server.tokens import TokenError

    storage = _open(args, pool_size=1)
    try:
        if args.action == "add":
            token = storage.token_add(args.name)
            if args.json:
                print_json({"name": args.name, "token": token})
            else:
                print(token)
                sys.stderr.write(f"token {args.name!r} added to {storage.where}: shown once, keep it "
                                 "(clients: AGENT_STRACE_TOKEN)\n")
        elif args.action == "revoke":
            if not storage.token_revoke(args.name):
                sys.stderr.write(f"agent-strace server: no active token named {args.name!r}\n")
                return EXIT_NOT_FOUND
            print(f"revoked {args.name}")
        else:
            rows = storage.token_list()
            if args.json:
                print_json({"tokens": rows})
            else:
                for r in rows:
                    print(f"{r['name']:<24} created {r['created'] or '?'}"
                          f"{'  REVOKED ' + r['revoked'] if r['revoked'] else ''}")
                if not rows:
                    print("no tokens")
    except TokenError as e:
        sys.stderr.write(f"agent-strace server: {e}\n")
        return EXIT_USAGE
    finally:
        storage.close()
    return EXIT_OK


def _export_cmd(argv: list[str]) -> int:
    p = parser("server export-to", "Write the collector's database back to the file layout in DIR (one "
                                   "JSONL file per session, exactly the stored lines), for every CLI command "
                                   "or a file-backed server.")
    p.add_argument("dir", metavar="DIR")
    _add_storage(p)
    add_json(p)
    return guarded(_export)(p.parse_args(argv))


def _export(args) -> int:
    from agent_trace.store.paths import Store

    if not _is_db(args):
        sys.stderr.write("agent-strace server export-to: --storage must be a postgresql:// URL "
                         "(a file store already has this layout)\n")
        return EXIT_USAGE
    storage = _open(args, pool_size=1, migrate=False)
    try:
        counts = storage.export_to(Store(os.path.abspath(args.dir)))
    finally:
        storage.close()
    if args.json:
        print_json(counts)
    else:
        print(f"{args.dir}: {counts['sessions']} session(s), {counts['events']} event(s), "
              f"{counts['tokens']} token(s)")
    return EXIT_OK


def _team_notifier(args, storage):
    """Alerts for every client's sessions (``--notify``, ``--rules``), or None.
    Alert state lives in the file store (a database collector keeps it in its
    local ``--trace-dir`` store, so each collector alerts for what it received)."""
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
    store = getattr(storage, "store", None) or open_store(args)
    from agent_trace.analysis.session_index import summarize_file
    from agent_trace.analysis.summary import SessionSummary
    from agent_trace.notify.live import LiveNotifier

    def summary_of(session: str):  # once per session and server run: that session's file only
        if getattr(storage, "store", None) is None:
            return None  # a database: the notifier counts from what it receives
        path = store.path_for(session)
        return SessionSummary.from_dict(summarize_file(path)["state"]) if os.path.exists(path) else None

    b = policy.get("budget")
    return LiveNotifier(store.subdir("state"), targets, budget=b, daily_budget=policy.get("daily_budget"),
                        trace_dir=store.root, summary_of=summary_of)


def _ui(args) -> int:
    from agent_trace.server.app import Collector, serve
    from agent_trace.server.file_storage import FileStorage

    store = open_store(args)
    collector = Collector(FileStorage(store, ingest=False), ingest=False)

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
