"""``rules check``, ``pause``, ``resume``, ``postmortem``."""

from __future__ import annotations

import os
import sys

from agent_trace.store.reader import iter_events

from agent_trace.render import words

from . import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE
from .parsing import add_json, guarded, open_store, parser, print_json


def run(name: str, argv: list[str]) -> int:
    if name == "rules":
        p = parser("rules", "Validate the rules file: agent-strace rules check [FILE]")
        p.add_argument("action", choices=["check", "path"])
        p.add_argument("file", nargs="?", help="rules file (default: the one the hook would use here)")
        add_json(p)
        return _rules(p.parse_args(argv))
    if name in ("pause", "resume"):
        p = parser(name, "Pause the agent at its next tool call (PreToolUse waits)" if name == "pause"
                   else "Let a paused agent go on.")
        p.add_argument("session", nargs="?", help="one session (default: every session of this store)")
        args = p.parse_args(argv)
        return guarded(_pause)(args, name == "pause")
    p = parser("postmortem", "What a stop rule left behind: the rule, the totals, the last events.")
    p.add_argument("session", metavar="SESSION")
    add_json(p)
    return guarded(_postmortem)(p.parse_args(argv))


def _rules(args) -> int:
    from agent_trace.control.policy import PolicyError, find_rules_file, parse_file

    path = args.file or find_rules_file(os.getcwd())
    if args.action == "path":
        print(path or "no rules file (looked for .agent-strace/rules.toml here and above, "
                      "and ~/.config/agent-strace/rules.toml)")
        return EXIT_OK if path else EXIT_NOT_FOUND
    if not path:
        sys.stderr.write("agent-strace rules: no rules file found (.agent-strace/rules.toml)\n")
        return EXIT_NOT_FOUND
    try:
        pol = parse_file(path)
    except PolicyError as e:
        sys.stderr.write(f"agent-strace rules: {e}\n")
        return EXIT_ERROR if "cannot read" in str(e) else EXIT_USAGE
    if args.json:
        print_json(pol)
        return EXIT_OK
    n = len(pol["deny"]) + len(pol["allow"]) + sum(1 for k in ("budget", "limits", "loop") if pol[k])
    print(f"{path}: ok, {words.count(n, 'rule')}; paths are relative to {pol['root']}")
    if pol["budget"]:
        b = pol["budget"]
        print("  budget: " + ", ".join(x for x in (f"${b['usd']}" if b["usd"] else "",
                                                    f"{b['tokens']} tokens" if b["tokens"] else "") if x)
              + f" -> {b['action']}")
    if pol["limits"]:
        lim = pol["limits"]
        parts = [f"{k}={v}" for k, v in lim.items() if k != "action" and v is not None]
        print(f"  limits: {', '.join(parts)} -> {lim['action']}")
    if pol["loop"]:
        print(f"  loop: threshold {pol['loop']['threshold']} -> {pol['loop']['action']}")
    for kind in ("deny", "allow"):
        for r in pol[kind]:
            what = [f"paths ({r['scope']}) {r['paths']}" if r["paths"] else "",
                    f"commands {r['commands']}" if r["commands"] else "", f"tools {r['tools']}" if r["tools"] else ""]
            print(f"  {kind}: {'; '.join(w for w in what if w)} -> {r['action']}")
    if pol.get("daily_budget"):
        d = pol["daily_budget"]
        print("  daily_budget (collector): " + ", ".join(x for x in (f"${d['usd']}" if d["usd"] else "",
                                                                     f"{d['tokens']} tokens" if d["tokens"] else "")
                                                           if x) + f" per {' and '.join(d['per'])} per day")
    for t in pol.get("notify") or ():
        budget = f" at {', '.join(f'{x:g}%' for x in t['budget'])}" if "budget" in t["on"] else ""
        print(f"  notify: {t['name']} ({t['channel']}, {t['format']}) on {', '.join(t['on'])}{budget}")
        if t.get("url_env") and not os.environ.get(t["url_env"]):
            print(f"    note: ${t['url_env']} is not set here; alerts wait until a sender has it")
    return EXIT_OK


def _pause(args, paused: bool) -> int:
    from agent_trace.control.pause import set_paused

    store = open_store(args)
    session = None
    if args.session:
        session = os.path.basename(store.resolve(args.session))[: -len(".jsonl")]
    set_paused(store, session, paused)
    who = f"session {session}" if session else "every session in " + store.root
    print(f"{'paused' if paused else 'resumed'} {who}" + (" (at its next tool call)" if paused else ""))
    return EXIT_OK


def _postmortem(args) -> int:
    path = open_store(args).resolve(args.session)
    pms = [e for e in iter_events(path) if e.get("type") == "postmortem"]
    if not pms:
        sys.stderr.write("agent-strace postmortem: no rule stopped this session\n")
        return EXIT_NOT_FOUND
    if args.json:
        print_json([e["data"] | {"ts": e["ts"]} for e in pms])
        return EXIT_OK
    for e in pms:
        d = e["data"]
        t = d["totals"]
        print(f"{e['ts']}  {d['action'].upper()} by rule {d['rule']}: {d['reason']}")
        print(f"  totals: {t['tool_calls']} tool calls ({t['tool_errors']} failed), {t['llm_calls']} LLM calls, "
              f"${t['cost_usd']:.4f}, {sum(t['tokens'].values())} tokens")
        print("  last events:")
        for line in d["last_events"]:
            print(f"    {line}")
    return EXIT_OK
