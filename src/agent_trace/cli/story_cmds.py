"""``explain``, ``timeline``, ``why``, ``diff``/``compare`` and ``tree``."""

from __future__ import annotations

import sys

from agent_trace.store.reader import ReadStats

from . import EXIT_CHECK, EXIT_NOT_FOUND, EXIT_OK
from .parsing import add_json, add_session, guarded, open_store, parser, print_json
from agent_trace.store.timeline import iter_timeline


def run(name: str, argv: list[str]) -> int:
    if name in ("explain", "timeline"):
        p = parser(name, "The session in plain English, phase by phase." if name == "explain"
                   else "Phases with their durations and cost.")
        add_session(p)
        add_json(p)
        return guarded(_story)(p.parse_args(argv), name)
    if name == "why":
        p = parser("why", "The causal chain behind one event: what it answered, what it led to.")
        add_session(p)
        p.add_argument("event", metavar="EVENT", help="event id prefix, or its 1-based index (#12)")
        add_json(p)
        return guarded(_why)(p.parse_args(argv))
    if name == "tree":
        p = parser("tree", "Sessions and their subagents as a hierarchy.")
        p.add_argument("session", nargs="?", metavar="SESSION", help="one session (default: the newest ones)")
        p.add_argument("-n", "--limit", type=int, default=20)
        add_json(p)
        return guarded(_tree)(p.parse_args(argv))
    p = parser(name, "Compare two sessions: tool sequence, files, errors, tokens, cost, duration, "
                     "and a verdict (same, improved, changed, regressed).")
    add_session(p, "a", latest=False)
    add_session(p, "b", latest=False)
    add_json(p)
    p.add_argument("--tolerance", type=float, default=20.0, metavar="PCT",
                   help="growth in cost/tokens/calls/duration that counts as a regression (default 20)")
    p.add_argument("--fail-on", choices=("regressed", "changed"), default=None,
                   help="exit 4 when the verdict is this (changed also fails on regressed)")
    return guarded(_compare)(p.parse_args(argv), name)


def _note(stats: ReadStats) -> None:
    note = stats.note()
    if note:
        sys.stderr.write(note + "\n")


def _story(args, name: str) -> int:
    """Streams: each phase is printed when it closes, so memory stays flat on
    huge sessions; the session line comes last (it needs every event)."""
    from agent_trace.event.encode import to_bytes
    from agent_trace.analysis.phases import iter_phases
    from agent_trace.render.story import (TIMELINE_HEAD, explain_header, explain_outcome, explain_phase,
                                          phase_dict, timeline_lines)
    from agent_trace.analysis.summary import SessionSummary

    from agent_trace.analysis.agent_tree import AgentTree

    path = open_store(args).resolve(args.session)
    stats = ReadStats()
    total = SessionSummary()
    tree = AgentTree()
    out = sys.stdout

    def feed(events):
        for e in events:
            tree.add(e)
            yield e

    n = failed = recovered = 0
    if args.json:
        out.write('{"phases": [')
    elif name == "timeline":
        out.write(TIMELINE_HEAD + "\n")
    for phase in iter_phases(feed(iter_timeline(path, stats)), total):
        p = phase_dict(phase)
        n += 1
        failed += p["failures_total"]
        recovered += p["recovered"]
        if args.json:
            out.write(("," if n > 1 else "") + "\n" + to_bytes(p).decode("utf-8"))
        elif name == "explain":
            out.write("\n".join(explain_phase(p, total.cwd)) + "\n\n")
        else:
            out.write("\n".join(timeline_lines([p], total.cwd)[1:]) + "\n")
    t = total.to_dict()
    if args.json:
        out.write('\n], "session": ' + to_bytes(t["session"]).decode() + ', "summary": '
                  + to_bytes(t).decode("utf-8") + ', "agents": ' + to_bytes(tree.to_list()).decode("utf-8") + "}\n")
    elif name == "explain":
        agents = tree.lines()
        if agents:
            out.write("Agents:\n" + "\n".join(agents) + "\n\n")
        out.write(explain_header(t, n) + "\n" + explain_outcome(t, failed, recovered) + "\n")
    _note(stats)
    return EXIT_OK


def _brief(e: dict) -> str:
    from agent_trace.render.strace import Formatter, tool_arg

    t = e.get("type")
    if t == "tool.call":
        return f"{e.get('tool')}({tool_arg(e)})"
    line = Formatter().line(e)
    return (line or t)[13:] if line else t  # type: ignore[index, return-value]  # stored events always have a type


def _why(args) -> int:
    from agent_trace.analysis.causality import EventNotFound, why

    path = open_store(args).resolve(args.session)
    try:
        w = why(path, args.event)
    except EventNotFound as e:
        sys.stderr.write(f"agent-strace why: {e}\n")
        return EXIT_NOT_FOUND
    if args.json:
        print_json(w)
        return EXIT_OK
    out = sys.stdout.write
    out(f"#{w['index']} {_brief(w['event'])}  [{w['event']['type']} {w['event']['id'][:12]}]\n")
    out("because:\n" if w["causes"] else "because: (nothing earlier in the log points to it)\n")
    for c in w["causes"]:
        out(f"  {c['relation']:<28} #{c['index']:<6} {_brief(c['event'])}\n")
    out("led to:\n" if w["effects"] else "led to: (nothing later in the log)\n")
    for c in w["effects"]:
        out(f"  {c['relation']:<28} #{c['index']:<6} {_brief(c['event'])}\n")
    return EXIT_OK


def _compare(args, name: str) -> int:
    from agent_trace.analysis.compare import compare

    store = open_store(args)
    r = compare(store.resolve(args.a), store.resolve(args.b), args.tolerance)
    if args.json:
        print_json(r)
    else:
        out = sys.stdout.write
        out(f"A {r['a']}\nB {r['b']}\n\n{'METRIC':<12} {'A':>12} {'B':>12} {'CHANGE':>10}\n")
        for k, m in r["metrics"].items():
            pct = "" if m["pct"] is None else ("new" if m["pct"] == float("inf") else f"{m['pct']:+.0f}%")
            fmt = (lambda v: f"{v:.4f}") if k == "cost_usd" else (lambda v: f"{v:.1f}") if k == "duration_s" \
                else (lambda v: f"{v}")
            out(f"{k:<12} {fmt(m['a']):>12} {fmt(m['b']):>12} {pct:>10}\n")
        _grade_lines(r, out)
        f = r["files"]
        for label, key in (("changed only in A", "changed_only_a"), ("changed only in B", "changed_only_b"),
                           ("read only in A", "read_only_a"), ("read only in B", "read_only_b")):
            if f[key]:
                out(f"{label}: {', '.join(f[key][:10])}{' ...' if len(f[key]) > 10 else ''}\n")
        if name == "diff" and r["sequence_diff"]:
            out("\ntool sequence:\n" + "\n".join(r["sequence_diff"][:200]) + "\n")
        elif r["same_tool_sequence"]:
            out("tool sequence: identical\n")
        else:
            out("tool sequence: differs (agent-strace diff A B shows it)\n")
        why = f" ({'; '.join(r['reasons'])})" if r["reasons"] else ""
        out(f"verdict: {r['verdict'].upper()}{why}\n")
    if args.fail_on and (r["verdict"] == "regressed" or (args.fail_on == "changed" and r["verdict"] != "same")):
        return EXIT_CHECK
    return EXIT_OK


def _grade_lines(r: dict, out) -> None:
    """Grades side by side (one line per verify command), and where B was forked from."""
    from agent_trace.analysis.grades import word

    ga = {g["command"]: g for g in r["grades"]["a"]}
    gb = {g["command"]: g for g in r["grades"]["b"]}
    for cmd in list(ga) + [c for c in gb if c not in ga]:
        out(f"{'grade':<12} {word(ga.get(cmd)):>12} {word(gb.get(cmd)):>12}  {cmd}\n")
    for side in ("a", "b"):
        fork = r["forks"][side]
        if fork:
            out(f"{side.upper()} is a fork of {fork.get('cassette')} (--fork-at {fork.get('fork_at')}, "
                f"live from {fork.get('upstream')})\n")


def _tree(args) -> int:
    from agent_trace.analysis.session_index import list_sessions
    from agent_trace.event.timefmt import human_duration

    store = open_store(args)
    if args.session:
        paths = [store.resolve(args.session)]
    else:
        paths = [r["file"] for r in list_sessions(store)[: args.limit]]
    trees = [_session_tree(p) for p in paths]
    if args.json:
        print_json(trees)
        return EXIT_OK
    out = sys.stdout.write
    for t in trees:
        title = f"  {t['title'][:50]}" if t["title"] else ""
        out(f"{t['session']}  [{t['agent'] or '?'}] {t['tool_calls']} calls, {t['tool_errors']} errors, "
            f"{human_duration(t['duration_s'])}{title}\n")
        for i, a in enumerate(t["subagents"]):
            branch = "└─" if i == len(t["subagents"]) - 1 else "├─"
            out(f"  {branch} {a['agent_id']} ({a['agent_type'] or '?'}) {a['tool_calls']} calls, "
                f"{a['tool_errors']} errors, {a['llm_calls']} LLM calls\n")
    return EXIT_OK


def _session_tree(path: str) -> dict:
    from agent_trace.analysis.session_view import session_view

    v = session_view(path, series=False)
    m = v["summary"]
    return {"session": m["session"], "agent": m["agent"], "title": m["title"], "tool_calls": m["tool_calls"],
            "tool_errors": m["tool_errors"], "duration_s": m["duration_s"],
            "subagents": [{k: a[k] for k in ("agent_id", "agent_type", "tool_calls", "tool_errors", "llm_calls")}
                          for a in v["subagents"]]}
