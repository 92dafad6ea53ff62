"""Claude Code's status line: one line after every message.

    Opus 4.5 | session $1.23 42 tools | today $12.40 | block $8.10 2h13m left | ctx 63% | rule denied rm-rf

Runs on Claude Code's hot path (after every assistant message), so it is
built like the hook path (ADR 5): no json, re, argparse or datetime; every
number comes from a small cache or a few appended bytes.

* this session: the transcript (and its subagents' transcripts) read
  incrementally from the offsets kept in ``statusline/<session>.json`` under
  the user data folder, each API message's usage counted once and priced;
* today and the current 5-hour block: ``statusline.json`` beside it, which
  ``agent-strace statusline --refresh`` (started in the background when the
  figures are over a minute old) or the hook daemon writes::

      {"computed_at": epoch, "day": "YYYY-MM-DD", "today_usd": x,
       "block": {"start": epoch, "end": epoch, "usd": x} | null}

* context fill: Claude Code's own ``context_window`` figures when it sends
  them, else the last message's input over the model's window;
* the last rule decision: the tail of the session's file in the project store.
"""

from __future__ import annotations

import os
import time

from ..event.fastjson import dumps, loads
from ..store import registry

STALE_S = 60.0  # today's figures older than this are refreshed in the background
RESPAWN_S = 30.0  # at most one background refresh started per this many seconds
TAIL = 1 << 16


def _data_dir() -> str:
    return registry.data_home()


def _safe_name(session: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in session)[:80].strip("._") or "session"
    return keep


def _read_json(path: str):
    try:
        with open(path, "rb") as f:
            return loads(f.read())
    except (OSError, ValueError):
        return None


def _write_json(path: str, obj) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(dumps(obj))
        os.replace(tmp, path)
    except OSError:
        pass  # the line is still printed; the next run reads a little more


def _write_1h(u: dict) -> int:
    cc = u.get("cache_creation")
    n = cc.get("ephemeral_1h_input_tokens") if isinstance(cc, dict) else None
    return n if type(n) is int and n > 0 else 0


def _total(u: dict) -> int:
    return sum(v for k, v in u.items() if type(v) is int and k.endswith("_tokens"))


class SessionFigures:
    """Cost, tool calls and last usage of one Claude Code session, kept up to
    date from its transcripts."""

    def __init__(self, session: str, transcript: str):
        self.session = session
        self.transcript = transcript
        self.path = os.path.join(_data_dir(), "statusline", _safe_name(session) + ".json")
        st = _read_json(self.path)
        ok = isinstance(st, dict) and st.get("v") == 1 and st.get("transcript") == transcript
        self.st: dict = st if ok else {"v": 1, "transcript": transcript, "files": {}, "usd": 0.0, "tools": 0,
                                 "unpriced": [], "last": None}
        self._prices = None

    def prices(self):
        if self._prices is None:
            from ..usage.pricing import PriceTable

            self._prices = PriceTable.load()
        return self._prices

    def files(self) -> list[str]:
        out = [self.transcript]
        sub = os.path.join(os.path.dirname(self.transcript), self.session, "subagents")
        try:
            names = os.listdir(sub)
        except OSError:
            return out
        return out + [os.path.join(sub, n) for n in sorted(names) if n.startswith("agent-") and n.endswith(".jsonl")]

    def update(self) -> None:
        changed = False
        for path in self.files():
            try:
                size = os.path.getsize(path)
            except OSError:
                continue
            f = self.st["files"].get(path)
            if f is None or f[0] > size:
                f = self.st["files"][path] = [0, None, None]  # offset, message id, its counted usage
            if f[0] == size:
                continue
            self._read(path, f, main=path == self.transcript)
            changed = True
        if changed:
            _write_json(self.path, self.st)

    def _read(self, path: str, f: list, main: bool) -> None:
        with open(path, "rb") as fh:
            fh.seek(f[0])
            data = fh.read()
        end = data.rfind(b"\n") + 1
        for line in data[:end].split(b"\n"):
            if b'"type":"assistant"' not in line:
                continue
            try:
                e = loads(line)
            except ValueError:
                continue
            msg = e.get("message") if isinstance(e, dict) else None
            if not isinstance(msg, dict) or e.get("type") != "assistant":
                continue
            content = msg.get("content")
            if isinstance(content, list):
                self.st["tools"] += sum(1 for b in content if isinstance(b, dict) and b.get("type") == "tool_use")
            u = msg.get("usage")
            model = msg.get("model")
            if not isinstance(u, dict) or model == "<synthetic>":
                continue
            if msg.get("id") != f[1]:
                f[1], f[2] = msg.get("id"), None
            counted = f[2]
            if counted is not None and _total(u) <= _total(counted):
                continue  # the same message again (one entry per content block)
            usage = {"input": u.get("input_tokens") or 0, "output": u.get("output_tokens") or 0,
                     "cache_read": u.get("cache_read_input_tokens") or 0,
                     "cache_write": u.get("cache_creation_input_tokens") or 0}
            table = self.prices()
            cost = table.cost(model, usage, _write_1h(u))
            if counted is not None:
                before = {"input": counted.get("input_tokens") or 0, "output": counted.get("output_tokens") or 0,
                          "cache_read": counted.get("cache_read_input_tokens") or 0,
                          "cache_write": counted.get("cache_creation_input_tokens") or 0}
                cost = None if cost is None else cost - (table.cost(model, before, _write_1h(counted)) or 0.0)
            if cost is None:
                if model not in self.st["unpriced"]:
                    self.st["unpriced"].append(str(model))
            else:
                self.st["usd"] += cost
            f[2] = u
            if main:
                self.st["last"] = [usage["input"] + usage["cache_read"] + usage["cache_write"], model]
        f[0] += end


def _today(now: float, spawn) -> dict | None:
    """The cached figures for today and the block; starts a refresh when they
    are stale (never more than once per RESPAWN_S)."""
    path = os.path.join(_data_dir(), "statusline.json")
    agg = _read_json(path)
    fresh = isinstance(agg, dict) and isinstance(agg.get("computed_at"), (int, float)) and \
        now - agg["computed_at"] < STALE_S and agg.get("day") == time.strftime("%Y-%m-%d", time.localtime(now))
    if not fresh and spawn is not None:
        marker = os.path.join(_data_dir(), "statusline.spawn")
        try:
            last = os.stat(marker).st_mtime
        except OSError:
            last = 0.0
        if now - last > RESPAWN_S:
            try:
                os.makedirs(_data_dir(), exist_ok=True)
                with open(marker, "w"):
                    pass
                spawn()
            except OSError:
                pass
    return agg if isinstance(agg, dict) else None


def _last_decision(cwd: str | None, session: str) -> str | None:
    from ..store.paths import Store, resolve_root

    path = Store(resolve_root(None, cwd)).path_for(session)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            f.seek(max(0, size - TAIL))
            tail = f.read()
    except OSError:
        return None
    i = tail.rfind(b'"type":"rule.decision"')
    if i < 0:
        return None
    start = tail.rfind(b"\n", 0, i) + 1
    end = tail.find(b"\n", i)
    try:
        e = loads(tail[start:end if end >= 0 else len(tail)])
    except ValueError:
        return None
    return f"{e.get('status') or '?'} {e.get('name') or ''}".strip() if isinstance(e, dict) else None


def _money(x: float) -> str:
    return f"${x:.2f}" if x >= 0.995 or x == 0 else f"${x:.3f}"


def _left(seconds: float) -> str:
    m = max(0, int(seconds // 60))
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m"


def _context(payload: dict, last) -> str | None:
    cw = payload.get("context_window")
    if isinstance(cw, dict):
        pct = cw.get("used_percentage")
        if isinstance(pct, (int, float)) and not isinstance(pct, bool):
            return f"ctx {pct:.0f}%"
        size, cur = cw.get("context_window_size"), cw.get("current_usage")
        if isinstance(size, int) and size > 0 and isinstance(cur, dict):
            used = sum(cur.get(k) or 0 for k in ("input_tokens", "cache_read_input_tokens",
                                                  "cache_creation_input_tokens") if isinstance(cur.get(k), int))
            return f"ctx {100 * used / size:.0f}%"
    if last:
        used, model = last
        size = 1_000_000 if "[1m]" in str(model) else 200_000
        return f"ctx {100 * used / size:.0f}%"
    return None


def render(payload: dict, now: float | None = None, spawn=None) -> str:
    """The status line for one statusLine payload."""
    now = time.time() if now is None else now
    parts = []
    model = payload.get("model")
    if isinstance(model, dict):
        parts.append(str(model.get("display_name") or model.get("id") or "?"))
    session, transcript = payload.get("session_id"), payload.get("transcript_path")
    last = None
    if isinstance(session, str) and session and isinstance(transcript, str) and transcript:
        fig = SessionFigures(session, transcript)
        fig.update()
        st = fig.st
        star = "*" if st["unpriced"] else ""
        parts.append(f"session {_money(st['usd'])}{star} {st['tools']} tools")
        last = st.get("last")
    agg = _today(now, spawn)
    if agg is not None:
        day = time.strftime("%Y-%m-%d", time.localtime(now))
        if agg.get("day") == day and isinstance(agg.get("today_usd"), (int, float)):
            parts.append(f"today {_money(agg['today_usd'])}")
        b = agg.get("block")
        if isinstance(b, dict) and isinstance(b.get("end"), (int, float)) and b["end"] > now:
            parts.append(f"block {_money(b.get('usd') or 0.0)} {_left(b['end'] - now)} left")
    ctx = _context(payload, last)
    if ctx:
        parts.append(ctx)
    cwd = payload.get("cwd")
    ws = payload.get("workspace")
    if isinstance(ws, dict) and isinstance(ws.get("project_dir"), str):
        cwd = ws["project_dir"]
    if isinstance(session, str) and session:
        d = _last_decision(cwd if isinstance(cwd, str) else None, session)
        if d:
            parts.append(f"rule {d}")
    return " | ".join(parts) or "agent-strace"
