"""``search``: find text in every session's prompts, tool inputs, results and errors.

    agent-strace search "rm -rf"
    agent-strace search "" --tool Bash --failed --since 7d

A case-insensitive substring search over every store's search index
(:mod:`agent_trace.analysis.search_index`), newest first.  Each hit names
the session, the time and the event, with the command that replays it.
"""

from __future__ import annotations

import os
import sys

from . import EXIT_OK
from .history_scope import add_scope_args, project_label, stores
from .parsing import guarded, parser, print_json

MAX_HITS = 100_000  # matches gathered before sorting; more are counted, not shown


def run(name: str, argv: list[str]) -> int:
    p = parser("search", "Find text in every session's prompts, tool inputs, results, errors and answers, across "
                         "every project (case-insensitive substring; newest first).")
    p.add_argument("text", metavar="TEXT", help="what to look for ('' with --tool/--failed: every such call)")
    p.add_argument("--tool", action="append", metavar="NAME", help="only calls of this tool (repeatable)")
    p.add_argument("--failed", action="store_true", help="only failed tool calls")
    p.add_argument("--since", help="from this date (YYYY-MM-DD, YYYYMMDD, or 7d / 2w / 3m ago)")
    p.add_argument("--until", help="up to this date, inclusive")
    p.add_argument("--project", help="only projects whose path contains this")
    p.add_argument("--session", help="only this session (id or prefix)")
    p.add_argument("-n", "--limit", type=int, default=30, help="show at most N hits (default 30)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_scope_args(p)
    args = p.parse_args(argv)
    from .usage_cmds import parse_date

    try:
        args.since_d, args.until_d = parse_date(args.since, None), parse_date(args.until, None)
    except ValueError as e:
        p.error(str(e))
    if not args.text and not (args.tool or args.failed or args.session):
        p.error("give TEXT, or an empty TEXT with --tool, --failed or --session")
    return guarded(_search)(args)


def _accept(args, index, store_project):
    tools = {t.lower() for t in args.tool or ()}
    since, until = args.since_d, args.until_d
    project = args.project.lower() if args.project else None
    session = args.session

    def accept(rec) -> bool:
        if tools and rec.tool.lower() not in tools:
            return False
        if args.failed and rec.type != "tool.error" and rec.status != "error":
            return False
        day = rec.ts[:10]
        if since and day < since or until and day > until:
            return False
        if session and not rec.file.startswith(session):
            return False
        if project:
            entry = index.files.get(rec.file) or {}
            if project not in (entry.get("project") or store_project or "").lower():
                return False
        return True

    return accept


def _read_event(path: str, offset: int) -> dict | None:
    from agent_trace.event.fastjson import loads

    try:
        with open(path, "rb") as f:
            f.seek(offset)
            e = loads(f.readline())
    except (OSError, ValueError):
        return None
    return e if isinstance(e, dict) else None


def _call_of(path: str, offset: int, tool_use_id: str) -> dict | None:
    """The call a result answers: the last ``tool.call`` with its id in the
    256 KiB before the result (calls come shortly before their results)."""
    from agent_trace.event.fastjson import loads

    start = max(0, offset - (256 << 10))
    try:
        with open(path, "rb") as f:
            f.seek(start)
            window = f.read(offset - start)
    except OSError:
        return None
    key = b'"tool_use_id":"' + tool_use_id.encode("utf-8", "surrogatepass") + b'"'
    end = len(window)
    while True:
        i = window.rfind(key, 0, end)
        if i < 0:
            return None
        ls = window.rfind(b"\n", 0, i) + 1
        le = window.find(b"\n", i)
        line = window[ls:le if le >= 0 else len(window)]
        if b'"type":"tool.call"' in line:
            try:
                return loads(line)
            except ValueError:
                return None
        end = ls


def _headline(e: dict, call: dict | None) -> str:
    from agent_trace.render.strace import cut, error_text, tool_arg

    t = e.get("type")
    if t in ("tool.result", "tool.error"):
        head = f"{e.get('tool') or '?'}({tool_arg(call) if call else ''})"
        return head + (f" = ERROR ({error_text(e)})" if t == "tool.error" or e.get("status") == "error" else " = ok")
    if t == "tool.call":
        return f"{e.get('tool') or '?'}({tool_arg(e)})"
    if t == "user.prompt":
        # type-checker: narrowed by isinstance() on the same .get()
        data: dict = e.get("data") if isinstance(e.get("data"), dict) else {}  # type: ignore[assignment]
        return f'prompt("{cut(data.get("prompt") or "")}")'
    return t or "?"


def _snippet(text: str, needle: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    if not needle:
        return flat[:width] + ("..." if len(flat) > width else "")
    i = flat.lower().find(needle.lower())
    if i < 0:
        return flat[:width] + ("..." if len(flat) > width else "")
    start = max(0, i - (width - len(needle)) // 2)
    out = flat[start:start + width]
    return ("..." if start else "") + out + ("..." if start + width < len(flat) else "")


@guarded
def _search(args) -> int:
    from agent_trace.analysis.search_index import SearchIndex, event_text, search_corpus
    from agent_trace.store import registry

    hits: list[tuple] = []  # (ts, store, index, record)
    more = 0
    for store in stores(args):
        index = SearchIndex(store).load()
        if index.update():
            index.save()
        accept = _accept(args, index, registry.project_of(store.root))
        header = "error" if args.failed else (args.tool[0].lower() if args.tool and len(args.tool) == 1 else None)
        for rec in search_corpus(index.corpus, args.text, accept, header=header):
            if len(hits) < MAX_HITS:
                hits.append((rec.ts, store, index, rec))
            else:
                more += 1
    hits.sort(key=lambda h: h[0], reverse=True)
    total = len(hits) + more
    shown: list[dict] = []
    for _ts, store, index, rec in hits[: max(args.limit, 0)]:
        e = _read_event(os.path.join(store.sessions_dir, rec.file), rec.offset)
        if e is None:
            continue
        text = event_text(e) or ""
        entry = index.files.get(rec.file) or {}
        call = None
        if e.get("type") in ("tool.result", "tool.error") and isinstance(e.get("tool_use_id"), str):
            call = _call_of(os.path.join(store.sessions_dir, rec.file), rec.offset, e["tool_use_id"])
        shown.append({"session": e.get("session"), "ts": e.get("ts"), "type": e.get("type"), "tool": e.get("tool"),
                      "status": e.get("status"), "agent_id": e.get("agent_id"), "event_id": e.get("id"),
                      "project": entry.get("project") or registry.project_of(store.root), "store": store.root,
                      "event": _headline(e, call), "snippet": _snippet(text, args.text)})
    if args.json:
        print_json({"hits": shown, "total": total})
        return EXIT_OK
    w = sys.stdout.write
    if not shown:
        w("no match\n")
        return EXIT_OK
    for h in shown:
        agent = f" [agent {h['agent_id'][:8]}]" if h["agent_id"] else ""
        w(f"{(h['ts'] or '')[:19].replace('T', ' ')}  {h['session'][:8]}  {project_label(h['project'])}"
          f"{agent}\n    {h['event']}\n    {h['snippet']}\n")
    w(f"{len(shown)} of {total} match(es) shown")
    if total > len(shown):
        w(" (--limit N for more)")
    first = shown[0]
    w(f"; replay one: agent-strace --trace-dir {first['store']} replay {first['session']}\n")
    return EXIT_OK
