"""``cassette from-session|diff`` and ``serve --llm|--mcp``: cassettes from
recorded sessions, their differences, and replaying them to real agents."""

from __future__ import annotations

import sys

from agent_trace.render import words

from . import EXIT_CHECK, EXIT_OK, EXIT_USAGE
from .parsing import add_json, add_session, guarded, open_store, parser, print_json


def run(name: str, argv: list[str]) -> int:
    if name == "serve":
        p = parser("serve", "Replay a cassette to a real agent: an OpenAI/Anthropic-compatible HTTP "
                            "endpoint (--llm) or an MCP server on stdio (--mcp).")
        what = p.add_mutually_exclusive_group(required=True)
        what.add_argument("--llm", metavar="CASSETTE", help="serve the cassette's LLM API recordings over HTTP")
        what.add_argument("--mcp", metavar="CASSETTE", help="serve the cassette's MCP recordings on stdio")
        p.add_argument("--port", type=int, default=0, help="--llm: port (default: a free one, printed)")
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--strict", action="store_true",
                       help="answer a request no recording matches exactly with an error (default: play the "
                            "closest recording, at the same point of the loop when there is one)")
        p.add_argument("--ignore", action="append", default=[], metavar="FIELD",
                       help="dotted path left out of matching, e.g. body.json.temperature (repeatable)")
        p.add_argument("--allow-repeats", action="store_true", help="recordings may play more than once")
        p.add_argument("--workspace", metavar="DIR", help="--llm: the replaying agent's folder (default: learned "
                                                           "from its requests; recorded paths are moved there)")
        p.add_argument("--home", metavar="DIR", help="--llm: the replaying agent's home (default: learned)")
        fork = p.add_argument_group("fork (--llm): play up to a point, then go on with a live model")
        fork.add_argument("--fork-at", metavar="N|divergence|prompt:TEXT",
                          help="play the first N model calls (or up to the first request no recording "
                               "matches, or up to the turn of the prompt containing TEXT), then forward")
        fork.add_argument("--upstream", metavar="URL", help="the live API to fork onto")
        fork.add_argument("--record", metavar="CASSETTE", help="the new cassette, written when the server stops "
                                                               "(default: CASSETTE.fork.json)")
        fork.add_argument("--session", help="session id of the forked run (default: a new fork-... id)")
        return guarded(_serve)(p.parse_args(argv))
    p = parser("cassette", "Cassettes: make one from a recorded session, or compare two.")
    sub = p.add_subparsers(dest="action", required=True)
    fs = sub.add_parser("from-session", help="turn a recorded session (LLM proxy, MCP proxy, SDK) into a cassette")
    add_session(fs)
    fs.add_argument("-o", "--output", required=True, metavar="CASSETTE.json")
    d = sub.add_parser("diff", help="new, dropped and changed calls between two cassettes, and the token delta")
    d.add_argument("a", metavar="A")
    d.add_argument("b", metavar="B")
    d.add_argument("--fail-on-change", action="store_true", help="exit 4 when anything differs")
    add_json(d)
    args = p.parse_args(argv)
    return guarded(_from_session if args.action == "from-session" else _diff)(args)


def _load_file(path: str):
    from agent_trace.cassette.format import CassetteFileError, load_file

    try:
        return load_file(path)
    except FileNotFoundError:
        raise SystemExit(_usage(f"no such cassette: {path}")) from None
    except CassetteFileError as e:
        raise SystemExit(_usage(str(e))) from None


def _usage(msg: str) -> int:
    sys.stderr.write(f"agent-strace: {msg}\n")
    return EXIT_USAGE


def _from_session(args) -> int:
    from agent_trace.cassette.convert import from_session
    from agent_trace.cassette.format import save

    path = open_store(args).resolve(args.session)
    entries, counts, workspace = from_session(path)
    if not entries:
        sys.stderr.write("agent-strace cassette: the session holds no LLM proxy, MCP proxy or SDK calls "
                         "(record with `agent-strace run`/`proxy`, `record`, or the SDK)\n")
        return EXIT_USAGE
    save(args.output, entries, workspace)
    kinds = ", ".join(f"{n} {k}" for k, n in counts.items() if k != "unanswered" and n)
    unanswered = counts.get("unanswered")
    extra = f"; {words.count(unanswered, 'call')} without an answer left out" if unanswered else ""
    where = f"; workspace {workspace['root']}" if workspace.get("root") else \
        "; no workspace folder known (paths replay unchanged)"
    print(f"{args.output}: {len(entries)} recordings ({kinds}){extra}{where}")
    return EXIT_OK


def _diff(args) -> int:
    from agent_trace.cassette.diff import diff

    (a, head_a), (b, head_b) = _load_file(args.a), _load_file(args.b)
    r = diff(a, b, head_a.get("workspace"), head_b.get("workspace"))
    if args.json:
        print_json(r)
    else:
        out = sys.stdout.write
        out(f"A: {r['calls_a']} calls   B: {r['calls_b']} calls   same: {r['same']}\n")
        for x in r["new"]:
            out(f"+ new      {x['endpoint']} #{x['n']}\n")
        for x in r["dropped"]:
            out(f"- dropped  {x['endpoint']} #{x['n']}\n")
        for x in r["changed"]:
            out(f"~ changed  {x['endpoint']} #{x['n']} at {x['where']}: {x['a']} -> {x['b']}\n")
        delta = r["token_delta"]
        if delta:
            out("tokens: " + ", ".join(f"{k} {r['tokens_a'].get(k, 0)} -> {r['tokens_b'].get(k, 0)} "
                                       f"({v:+d})" for k, v in delta.items()) + "\n")
    changed = r["new"] or r["dropped"] or r["changed"]
    return EXIT_CHECK if args.fail_on_change and changed else EXIT_OK


def _serve(args) -> int:
    from agent_trace.cassette.core import Cassette

    path = args.llm or args.mcp
    if args.mcp and (args.fork_at or args.upstream or args.workspace or args.home):
        return _usage("serve --mcp: --fork-at, --upstream, --workspace and --home are for --llm")
    if bool(args.fork_at) != bool(args.upstream):
        return _usage("serve: --fork-at and --upstream go together")
    entries, header = _load_file(path)
    if args.llm:
        return _serve_llm(args, path, entries, header)
    from agent_trace.cassette.mcp_server import DEFAULT_IGNORE, serve_stdio

    cas = Cassette.from_entries([e for e in entries if e.get("kind") == "mcp"], path, strict=args.strict,
                                ignore=DEFAULT_IGNORE + tuple(args.ignore), allow_repeats=args.allow_repeats)
    return serve_stdio(cas)


def _serve_llm(args, path: str, entries: list, header: dict) -> int:
    from agent_trace.cassette.core import Cassette
    from agent_trace.cassette.fork import ForkError
    from agent_trace.cassette.llm_server import DEFAULT_IGNORE, Player, make_server

    try:
        cas = Cassette.from_entries([e for e in entries if e.get("kind") == "http"], path, header.get("workspace"),
                                    strict=args.strict, ignore=DEFAULT_IGNORE + tuple(args.ignore),
                                    allow_repeats=args.allow_repeats, tolerate_drift=True, fork_at=args.fork_at)
    except ForkError as e:
        return _usage(f"serve: --fork-at: {e}")
    if not cas.entries:
        return _usage(f"{path} has no LLM API recordings")
    player = Player(cas, args.workspace, args.home)
    if args.fork_at:
        return _serve_fork(args, player)
    srv = make_server(player, args.host, args.port)
    print(f"agent-strace serve: replaying {words.count(len(cas.entries), 'LLM call')} from {path} on "
          f"http://{args.host}:{srv.server_address[1]}", flush=True)
    from agent_trace.server.app import serve_until_signal

    def report():
        left = cas.unplayed()
        sys.stderr.write(f"agent-strace serve: played {len(cas.entries) - len(left)} of {len(cas.entries)} "
                         f"recordings\n")

    serve_until_signal(srv, report)
    return EXIT_OK


def _serve_fork(args, player) -> int:
    import os
    import time

    from agent_trace.capture.sink import open_sink
    from agent_trace.cassette.fork_server import ForkServer, fork_summary
    from agent_trace.event import new_id

    store = open_store(args)
    store.ensure()
    cas = player.cassette
    session = args.session or f"fork-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{new_id()[:8]}"
    target = args.record or f"{os.path.splitext(cas.path)[0]}.fork.json"
    try:
        fork = ForkServer(player, args.upstream, open_sink(store), session, args.host, args.port)
    except (ValueError, OSError) as e:
        return _usage(f"serve: {e}")
    print(f"agent-strace serve: replaying {cas.path} {cas.fork.describe()}, then forwarding to {args.upstream}, "
          f"on {fork.proxy.url}; session {session}; new cassette {target} (written when stopped)", flush=True)
    fork.proxy.serve_until_signal()
    n = fork.save(target)
    sys.stderr.write(f"agent-strace serve: {fork_summary(cas)}; {words.count(n, 'call')} in {target}; "
                     f"session {session}\n")
    return EXIT_OK
