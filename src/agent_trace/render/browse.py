"""``browse``: an interactive terminal picker over sessions, their calls, and
one call's full request and response (standard library ``curses``).

The state machine (:class:`Browser`) is plain Python and tested on its own;
:func:`run_curses` only draws it and feeds it keys.

Keys: Up/Down/PgUp/PgDn/Home/End move; Enter opens; Esc goes back (and quits
at the top); typing filters the list; Backspace edits the filter; Ctrl-C quits.
"""

from __future__ import annotations

import json

from .. import event as ev
from .strace import Formatter, tool_arg
from ..analysis.session_index import list_sessions
from ..event.timefmt import human_duration
from ..store.timeline import iter_timeline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_ITEMS = 20000  # calls listed per session; the rest are counted


class View:
    def __init__(self, title: str, items: list[dict], kind: str):
        self.title, self.items, self.kind = title, items, kind
        self.filter = ""
        self.selected = 0
        self.top = 0

    def visible(self) -> list[dict]:
        if not self.filter:
            return self.items
        f = self.filter.lower()
        return [i for i in self.items if f in i["search"]]

    def current(self) -> dict | None:
        vis = self.visible()
        if not vis:
            return None
        self.selected = max(0, min(self.selected, len(vis) - 1))
        return vis[self.selected]


def _session_items(store) -> list[dict]:
    items = []
    for r in list_sessions(store):
        label = (f"{r['session'][:36]:<36} {(r.get('agent') or '-')[:11]:<11} {r['tool_calls']:>5} calls "
                 f"{r['tool_errors']:>3} err  {(r.get('title') or '')[:60]}")
        preview = [f"session  {r['session']}", f"agent    {r.get('agent') or '-'}",
                   f"started  {r.get('started') or '-'}", f"duration {human_duration(r.get('duration_s'))}",
                   f"events   {r['events']}", f"tools    {r['tool_calls']} calls, {r['tool_errors']} errors",
                   f"llm      {r['llm_calls']} calls, ${r['cost_usd']:.4f}",
                   f"title    {r.get('title') or ''}"]
        items.append({"label": label, "preview": preview, "path": r["file"], "session": r["session"],
                      "search": f"{r['session']} {r.get('title') or ''} {r.get('agent') or ''}".lower()})
    return items


def _call_items(path: str) -> tuple[list[dict], int]:
    """Tool calls paired with their results, and LLM responses, in log order."""
    fmt = Formatter()
    items: list[dict[str, Any]] = []
    open_calls: dict[str, dict[str, Any]] = {}
    total = 0
    for e in iter_timeline(path):
        t = e.get("type")
        if t == ev.TOOL_CALL and e.get("tool_use_id"):
            fmt.line(e)
            item: dict[str, Any] = {"call": e, "result": None}
            open_calls[e["tool_use_id"]] = item
            total += 1
            if len(items) < MAX_ITEMS:
                items.append(item)
            continue
        if t in (ev.TOOL_RESULT, ev.TOOL_ERROR) and e.get("tool_use_id") in open_calls:
            item = open_calls.pop(e["tool_use_id"])
            item["result"] = e
            item["line"] = fmt.line(e)
            continue
        if t in (ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR, ev.LLM_RESPONSE, ev.RULE_DECISION, ev.MCP_MESSAGE):
            total += 1
            if len(items) < MAX_ITEMS:
                items.append({"call": e, "result": None, "line": fmt.line(e)})
    for item in items:
        c = item["call"]
        line = item.get("line")
        if not line:  # a call with no result (yet)
            line = f"{c.get('ts', '')[11:23]} {c.get('tool') or '?'}({tool_arg(c)}) = ?"
        item["label"] = line
        item["search"] = line.lower()
        item["preview"] = _pretty(item)[:60]
    return items, total


def _pretty(item: dict) -> list[str]:
    lines = []
    for title, e in (("REQUEST", item["call"]), ("RESPONSE", item["result"])):
        if e is None:
            continue
        lines.append(f"── {title} ({e['type']}) " + "─" * 20)
        body = {k: v for k, v in e.items() if k not in ("v",)}
        lines += json.dumps(body, indent=2, ensure_ascii=False).splitlines()
    return lines


class Browser:
    def __init__(self, store):
        self.store = store
        self.stack = [View("sessions", _session_items(store), "sessions")]
        self.done = False

    @property
    def view(self) -> View:
        return self.stack[-1]

    def key(self, k: str) -> None:
        v = self.view
        n = len(v.visible())
        if k == "UP":
            v.selected = max(0, v.selected - 1)
        elif k == "DOWN":
            v.selected = min(max(0, n - 1), v.selected + 1)
        elif k == "PGUP":
            v.selected = max(0, v.selected - 20)
        elif k == "PGDN":
            v.selected = min(max(0, n - 1), v.selected + 20)
        elif k == "HOME":
            v.selected = 0
        elif k == "END":
            v.selected = max(0, n - 1)
        elif k == "ENTER":
            self.open()
        elif k == "ESC":
            if v.filter:
                v.filter = ""
            elif len(self.stack) > 1:
                self.stack.pop()
            else:
                self.done = True
        elif k == "BACKSPACE":
            v.filter = v.filter[:-1]
        elif len(k) == 1 and k.isprintable() and v.kind != "detail":
            v.filter += k
            v.selected = 0

    def open(self) -> None:
        cur = self.view.current()
        if cur is None:
            return
        if self.view.kind == "sessions":
            items, total = _call_items(cur["path"])
            more = f" (first {len(items)} of {total})" if total > len(items) else ""
            self.stack.append(View(f"{cur['session']}{more}", items, "calls"))
        elif self.view.kind == "calls":
            lines = _pretty(cur)
            self.stack.append(View(cur["label"], [{"label": x, "search": x.lower(), "preview": []}
                                                  for x in lines], "detail"))



def run_curses(store) -> int:
    import curses

    b = Browser(store)

    def draw(scr):
        curses.curs_set(0)
        scr.keypad(True)
        curses.set_escdelay(25)
        keys = {curses.KEY_UP: "UP", curses.KEY_DOWN: "DOWN", curses.KEY_PPAGE: "PGUP",
                curses.KEY_NPAGE: "PGDN", curses.KEY_HOME: "HOME", curses.KEY_END: "END",
                curses.KEY_ENTER: "ENTER", 10: "ENTER", 13: "ENTER", 27: "ESC",
                curses.KEY_BACKSPACE: "BACKSPACE", 127: "BACKSPACE", 8: "BACKSPACE"}
        while not b.done:
            scr.erase()
            h, w = scr.getmaxyx()
            v = b.view
            vis = v.visible()
            cur = v.current()
            crumbs = " > ".join(s.title[:40] for s in b.stack)
            scr.addnstr(0, 0, f" agent-strace browse: {crumbs}", w - 1, curses.A_REVERSE)
            list_w = w if v.kind == "detail" else max(20, w * 3 // 5)
            rows = h - 3
            if v.selected < v.top:
                v.top = v.selected
            elif v.selected >= v.top + rows:
                v.top = v.selected - rows + 1
            for i, item in enumerate(vis[v.top:v.top + rows]):
                attr = curses.A_REVERSE if v.top + i == v.selected and v.kind != "detail" else 0
                scr.addnstr(1 + i, 0, item["label"], list_w - 1, attr)
            if v.kind != "detail" and cur is not None:
                for i, line in enumerate(cur["preview"][:rows]):
                    scr.addnstr(1 + i, list_w + 1, line, w - list_w - 2)
            status = f" filter: {v.filter}" if v.filter else " type to filter, Enter open, Esc back"
            scr.addnstr(h - 1, 0, f"{status}   [{len(vis)} items]", w - 1, curses.A_DIM)
            scr.refresh()
            ch = scr.get_wch()
            if isinstance(ch, str):
                k = {"\n": "ENTER", "\r": "ENTER", "\x1b": "ESC", "\x7f": "BACKSPACE", "\x08": "BACKSPACE"}.get(ch, ch)
            else:
                k = keys.get(ch, "")
            b.key(k)

    try:
        curses.wrapper(draw)
    except KeyboardInterrupt:
        pass
    return 0

