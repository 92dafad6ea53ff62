"""``list``, ``inspect`` and ``store``: finding sessions and what they hold."""

from __future__ import annotations

import os
import sys

from agent_trace.analysis.session_index import list_sessions, session_row, summarize_cached
from agent_trace.event.timefmt import human_duration

from agent_trace.render.words import count

from . import EXIT_OK
from .parsing import add_json, add_session, guarded, open_store, parser, print_json


def run(name: str, argv: list[str]) -> int:
    if name == "list":
        p = parser("list", "List recorded sessions, newest first.")
        add_json(p)
        p.add_argument("-n", "--limit", type=int, default=None, help="show at most N sessions")
        p.add_argument("--all", action="store_true",
                       help="every project on this machine (and the agents' own logs, imported first), "
                            "grouped by project")
        p.add_argument("--no-import", action="store_true", help="with --all: do not import new agent logs first")
        p.add_argument("--branch", metavar="NAME", help="only sessions on this git branch (glob: 'feature/*')")
        p.add_argument("--commit", metavar="SHA", help="only sessions that started on, ended on or made this "
                                                      "commit (prefix of 4+ characters)")
        args = p.parse_args(argv)
        return _list_all(args) if args.all else _list(args)
    if name == "inspect":
        p = parser("inspect", "Show one session's summary.")
        add_session(p)
        add_json(p)
        return _inspect(p.parse_args(argv))
    p = parser("store", "Where the store is and what it holds.")
    p.add_argument("what", nargs="?", choices=["path", "status"], default="status")
    add_json(p)
    return _store(p.parse_args(argv))


def _money(x: float) -> str:
    return f"${x:.4f}" if x < 1 else f"${x:.2f}"


@guarded
def _list(args) -> int:
    store = open_store(args)
    rows = _git_filter(list_sessions(store), args)
    if args.limit is not None:
        rows = rows[: args.limit]
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print(f"no sessions in {store.root} (run `agent-strace setup` to record this project's agent)")
        return EXIT_OK
    out = sys.stdout
    out.write(_HEADER)
    for r in rows:
        out.write(_row_line(r))
    return EXIT_OK


_HEADER = (f"{'SESSION':<36}  {'AGENT':<12} {'STARTED':<19}  {'DUR':>7} {'EVENTS':>7} "
           f"{'TOOLS':>6} {'ERR':>4} {'COST':>9}  {'GIT':<24}  TITLE\n")


def _row_line(r: dict) -> str:
    started = (r.get("started") or "")[:19].replace("T", " ")
    cost = _money(r["cost_usd"]) if r.get("llm_calls") else "-"
    flag = "" if r.get("ended") else " (live)"
    return (f"{r['session'][:36]:<36}  {(r.get('agent') or '-')[:12]:<12} {started:<19}  "
            f"{human_duration(r.get('duration_s')):>7} {r['events']:>7} {r['tool_calls']:>6} "
            f"{r['tool_errors']:>4} {cost:>9}  {_git_cell(r.get('git')):<24}  {(r.get('title') or '')[:60]}{flag}\n"
    )


def _git_filter(rows: list[dict], args) -> list[dict]:
    if args.branch is None and args.commit is None:
        return rows
    from agent_trace.analysis.git_link import matches

    return [r for r in rows if matches(r, args.branch, args.commit)]


@guarded
def _list_all(args) -> int:
    from agent_trace.analysis.session_index import by_project, list_everywhere

    from .history_scope import project_label, stores

    rows = _git_filter(list_everywhere(stores(args)), args)
    if args.limit is not None:
        rows = rows[: args.limit]
    groups = by_project(rows)
    if args.json:
        print_json(groups)
        return EXIT_OK
    if not rows:
        print("no sessions recorded or imported yet (agent-strace import --all)")
        return EXIT_OK
    out = sys.stdout
    for g in groups:
        cost = sum(r["cost_usd"] for r in g["sessions"])
        out.write(f"\n{project_label(g['project'])}  ({len(g['sessions'])} session(s), {_money(cost)})\n")
        out.write(_HEADER)
        for r in g["sessions"]:
            out.write(_row_line(r))
    return EXIT_OK


def _git_cell(git: dict | None) -> str:
    """``branch@a1b2c3d`` (``*`` when dirty), cut to the column."""
    if not git:
        return "-"
    from agent_trace.analysis.git_link import short

    cell = f"{git.get('branch') or '(detached)'}@{short(git.get('end'))}{'*' if git.get('dirty') else ''}"
    return cell if len(cell) <= 24 else "..." + cell[-21:]


@guarded
def _inspect(args) -> int:
    store = open_store(args)
    path = store.resolve(args.session)
    entry = summarize_cached(store, path)
    s = session_row(entry, path)
    live = _live(store, s["session"])
    if live:
        s["live"] = live
    if args.json:
        print_json(s)
        return EXIT_OK
    w = sys.stdout.write
    w(f"session   {s['session']}\n")
    w(f"file      {path} ({entry['size']} bytes)\n")
    if s.get("title"):
        w(f"title     {s['title']}\n")
    w(f"agent     {s.get('agent') or '-'}   sources: {', '.join(s['sources']) or '-'}\n")
    if s.get("cwd"):
        w(f"cwd       {s['cwd']}\n")
    w(f"time      {s.get('started') or '-'} .. {s.get('last') or '-'} "
      f"({human_duration(s.get('duration_s'))}){'' if s['ended'] else ', still open'}\n")
    w(f"events    {s['events']}  " + "  ".join(f"{k}={v}" for k, v in sorted(s["by_type"].items())) + "\n")
    w(f"tools     {count(s['tool_calls'], 'call')}, {count(s['tool_errors'], 'error')}\n")
    for name, (calls, errors, total_ms, timed) in sorted(s["tools"].items(), key=lambda kv: -kv[1][0]):
        avg = f", avg {total_ms / timed:.0f}ms" if timed else ""
        w(f"          {name:<24} {count(calls, 'call'):>9} {count(errors, 'error'):>9}{avg}\n")
    t = s["tokens"]
    w(f"llm       {count(s['llm_calls'], 'call')}; tokens in {t['input']} out {t['output']} "
      f"cache read {t['cache_read']} cache write {t['cache_write']}; cost {_money(s['cost_usd'])}"
      + (f" (unpriced: {', '.join(s['unpriced'])})" if s["unpriced"] else "") + "\n")
    if s["subagents"]:
        w(f"subagents {', '.join(s['subagents'])}\n")
    if s["decisions"]:
        w("rules     " + ", ".join(f"{k}={v}" for k, v in s["decisions"].items()) + "\n")
    _inspect_git(w, s)
    if s.get("last_error"):
        w(f"last err  {s['last_error'].splitlines()[0][:160]}\n")
    if live:
        d = live.get("decision") or {}
        w(f"live      daemon: {live['hooks']} hook events, last {live.get('last_hook') or '-'}"
          + (f"; last rule {d.get('action')} ({d.get('rule')}): {d.get('reason')}" if d else "")
          + (f"; {live['recovered']} recovered from the transcript" if live.get("recovered") else "") + "\n")
    if any(s["skipped"].values()):
        w("skipped   " + ", ".join(f"{k}={v}" for k, v in s["skipped"].items() if v) + "\n")
    return EXIT_OK


def _live(store, session: str) -> dict | None:
    """What the running daemon holds for the session beyond the file: hook
    counts, rule state, the last decision, budget (None without a daemon)."""
    from agent_trace.daemon.client import live_session

    got = live_session(session, store.root)
    if not got:
        return None
    keep = ("hooks", "last_hook", "last_hook_at", "decision", "fail_run", "rules_file", "budget", "recovered")
    return {k: got[k] for k in keep if k in got}


def _inspect_git(w, s: dict) -> None:
    from agent_trace.analysis.git_link import files_against_diff, git_line

    git = s.get("git")
    if git:
        where = git.get("project") or git.get("root") or ""
        w(f"git       {git_line(git)}  {where}\n")
        if git.get("commits"):
            w(f"commits   {', '.join(c[:7] for c in git['commits'][:10])}"
              f"{' ...' if len(git['commits']) > 10 else ''}\n")
    vs = files_against_diff(s)
    if vs is not None:
        w(f"files     {len(s['files_changed'])} changed by the agent's edit tools; diff since start: "
          f"{vs['diff_total']} file(s), {len(vs['in_diff'])} of them from the edit tools"
          + (f"; not in the diff: {', '.join(vs['not_in_diff'][:5])}" if vs["not_in_diff"] else "") + "\n")
    elif s.get("files_changed"):
        w(f"files     {len(s['files_changed'])} changed by the agent's edit tools\n")


@guarded
def _store(args) -> int:
    store = open_store(args)
    if args.what == "path":
        print(store.root)
        return EXIT_OK
    files = store.session_files()
    total = sum(e.stat().st_size for e in files)
    info = {"root": store.root, "exists": os.path.isdir(store.root),
            "sessions": len(files), "bytes": total}
    if args.json:
        print_json(info)
    else:
        print(f"store     {info['root']}{'' if info['exists'] else ' (not created yet)'}")
        print(f"sessions  {info['sessions']}  ({total / 1e6:.1f} MB)")
    return EXIT_OK
