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

from ..event import is_token_count
from ..event.fastjson import loads
from ..store import registry

STALE_S = 60.0  # today's figures older than this are refreshed in the background
RESPAWN_S = 30.0  # at most one background refresh started per this many seconds
TAIL = 1 << 16
CHUNK = 8 << 20  # a transcript is read this much at a time; a longer line is skipped
BUDGET = 64 << 20  # read of one transcript per run at most: a huge one is caught up over a few runs


def _data_dir() -> str:
    return registry.data_home()


def _key(value) -> str | None:
    """A short fingerprint of a string we must recognise again but not keep
    (a path, a message id: either may hold a secret); zlib, not hashlib,
    which costs more to import than the whole line takes."""
    if value is None:
        return None
    import zlib

    raw = str(value).encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}"


_UUID_CHARS = frozenset("0123456789abcdef-")


def _safe_name(session: str) -> str:
    """The cache file's name: Claude Code's session UUID, else a fingerprint
    (an id may be anything, a secret included)."""
    return session if len(session) == 36 and _UUID_CHARS.issuperset(session) else f"s-{_key(session)}"


def _read_json(path: str):
    try:
        with open(path, "rb") as f:
            return loads(f.read())
    except (OSError, ValueError, RecursionError):
        return None


def _write_json(path: str, obj) -> None:
    from ..store.writer import write_json

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_json(path, obj)
    except (OSError, ValueError):
        pass  # the line is still printed; the next run reads a little more


def _count(v) -> int:
    """A token count, or 0 for anything that is not one."""
    return v if is_token_count(v) else 0


def _write_1h(u: dict) -> int:
    cc = u.get("cache_creation")
    return _count(cc.get("ephemeral_1h_input_tokens")) if isinstance(cc, dict) else 0


def _counts(u: dict) -> list[int]:
    """What the cache keeps of a message's usage: integers only (the raw
    object may hold anything): [total, input, output, cache read, cache
    write, of which kept an hour]."""
    c = [_count(u.get(k)) for k in ("input_tokens", "output_tokens", "cache_read_input_tokens",
                                      "cache_creation_input_tokens")]
    total = sum(_count(v) for k, v in u.items() if isinstance(k, str) and k.endswith("_tokens"))
    return [total, *c, _write_1h(u)]


def _usage(c: list[int]) -> dict:
    return {"input": c[1], "output": c[2], "cache_read": c[3], "cache_write": c[4]}


class SessionFigures:
    """Cost, tool calls and last usage of one Claude Code session, kept up to
    date from its transcripts.

    The cache holds counts and fingerprints only, never a raw value of the
    transcript (paths, message ids, model names: any may hold a secret).  A
    run reads at most :data:`BUDGET` bytes of each file (a huge transcript is
    caught up over a few runs, memory stays flat) and skips a line longer
    than :data:`CHUNK` (not counted)."""

    VERSION = 2

    def __init__(self, session: str, transcript: str):
        self.session = session
        self.transcript = transcript
        self.path = os.path.join(_data_dir(), "statusline", _safe_name(session) + ".json")
        st = _read_json(self.path)
        ok = isinstance(st, dict) and st.get("v") == self.VERSION and st.get("transcript") == _key(transcript) \
            and isinstance(st.get("files"), dict)
        self.st: dict = st if ok else {"v": self.VERSION, "transcript": _key(transcript), "files": {}, "usd": 0.0,
                                       "tools": 0, "unpriced": False, "last": None}
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
        except (OSError, ValueError):
            return out
        return out + [os.path.join(sub, n) for n in sorted(names) if n.startswith("agent-") and n.endswith(".jsonl")]

    def update(self) -> None:
        changed = False
        for path in self.files():
            try:
                size = os.path.getsize(path)
            except (OSError, ValueError):
                continue
            key = _key(path)
            f = self.st["files"].get(key)
            if not (isinstance(f, list) and len(f) == 4 and type(f[0]) is int) or f[0] > size:
                f = self.st["files"][key] = [0, None, None, False]  # offset, message key, its counts, in a long line
            if f[0] == size:
                continue
            self._read(path, f, main=path == self.transcript)
            changed = True
        if changed:
            _write_json(self.path, self.st)

    def _read(self, path: str, f: list, main: bool) -> None:
        """Read what ``path`` gained from ``f[0]``, a chunk at a time, up to
        :data:`BUDGET` bytes: whole lines only; a line longer than a chunk
        is passed over (``f[3]``: inside one)."""
        from ..store.regular import open_regular

        try:
            fh = open_regular(path)  # a FIFO or a device named as the transcript: never read
        except OSError:
            return
        fd = fh.fileno()
        try:
            pos, budget = f[0], BUDGET
            while budget > 0:
                data = os.pread(fd, CHUNK, pos)
                if not data:
                    break
                budget -= len(data)
                start = 0
                if f[3]:  # the rest of a line too long to count
                    start = data.find(b"\n") + 1
                    if not start:
                        pos += len(data)
                        continue
                    f[3] = False
                end = data.rfind(b"\n") + 1
                if end > start:
                    self._lines(data[start:end].split(b"\n"), f, main)
                    pos += end
                elif start:
                    pos += start  # the next line starts in the next read
                elif len(data) == CHUNK:
                    f[3] = True  # one line longer than a chunk: skipped
                    pos += len(data)
                else:
                    break  # a line being written: read it whole next time
            f[0] = pos
        except OSError:
            pass
        finally:
            fh.close()

    def _lines(self, lines: list[bytes], f: list, main: bool) -> None:
        for line in lines:
            if b'"type":"assistant"' not in line:
                continue
            try:
                e = loads(line)
            except (ValueError, RecursionError):
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
            model = model if isinstance(model, str) else None
            mid = _key(msg.get("id"))
            if mid != f[1]:
                f[1], f[2] = mid, None
            counted = f[2] if isinstance(f[2], list) and len(f[2]) == 6 else None
            now = _counts(u)
            if counted is not None and now[0] <= counted[0]:
                continue  # the same message again (one entry per content block)
            table = self.prices()
            cost = table.cost(model, _usage(now), now[5])
            if counted is not None:
                cost = None if cost is None else cost - (table.cost(model, _usage(counted), counted[5]) or 0.0)
            if cost is None:
                self.st["unpriced"] = True
            else:
                self.st["usd"] += cost
            f[2] = now
            if main:
                self.st["last"] = [now[1] + now[3] + now[4], 1_000_000 if model and "[1m]" in model else 200_000]


def _today(now: float, spawn) -> dict | None:
    """The cached figures for today and the block; starts a refresh when they
    are stale (never more than once per RESPAWN_S)."""
    path = os.path.join(_data_dir(), "statusline.json")
    agg = _read_json(path)
    fresh = isinstance(agg, dict) and _number(agg.get("computed_at")) is not None and \
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
    except (ValueError, RecursionError):
        return None
    return _text(f"{e.get('status') or '?'} {e.get('name') or ''}".strip()) if isinstance(e, dict) else None


def _text(value, limit: int = 60) -> str:
    """Foreign text for the line: printable characters only (no escape
    sequence, newline or bidi control reshapes the agent's screen), cut."""
    text = str(value)
    if not text.isprintable():
        text = "".join(c for c in text if c.isprintable())
    return text[:limit]


def _number(x) -> float | None:
    """A finite number, else None (NaN, infinity, a bool, not a number)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    try:
        x = float(x)
    except OverflowError:  # an integer too big for a float
        return None
    return x if x - x == 0 else None


def _money(x) -> str:
    x = _number(x)
    if x is None:
        return "$?"
    x = min(max(x, -1e9), 1e9)  # a hand-edited cache: never a line of digits
    return f"${x:.2f}" if abs(x) >= 0.995 or x == 0 else f"${x:.3f}"


def _left(seconds: float) -> str:
    m = int(min(max(seconds, 0), 999 * 3600) // 60)
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m"


def _pct(x: float) -> str:
    return f"ctx {min(max(x, 0.0), 999.0):.0f}%"


def _context(payload: dict, last) -> str | None:
    cw = payload.get("context_window")
    if isinstance(cw, dict):
        pct = _number(cw.get("used_percentage"))
        if pct is not None:
            return _pct(pct)
        size, cur = _number(cw.get("context_window_size")), cw.get("current_usage")
        if size is not None and size > 0 and isinstance(cur, dict):
            used = sum(_count(cur.get(k)) for k in ("input_tokens", "cache_read_input_tokens",
                                                     "cache_creation_input_tokens"))
            return _pct(100 * used / size)
    if isinstance(last, list) and len(last) == 2:
        last_used, last_size = _number(last[0]), _number(last[1])
        if last_used is not None and last_size:
            return _pct(100 * last_used / last_size)
    return None


def render(payload: dict, now: float | None = None, spawn=None) -> str:
    """The status line for one statusLine payload."""
    now = time.time() if now is None else now
    parts = []
    model = payload.get("model")
    if isinstance(model, dict):
        parts.append(_text(model.get("display_name") or model.get("id") or "?"))
    session, transcript = payload.get("session_id"), payload.get("transcript_path")
    last = None
    if isinstance(session, str) and session and isinstance(transcript, str) and transcript:
        fig = SessionFigures(session, transcript)
        fig.update()
        st = fig.st
        star = "*" if st["unpriced"] else ""
        parts.append(f"session {_money(st['usd'])}{star} {_count(st['tools'])} tools")
        last = st.get("last")
    agg = _today(now, spawn)
    if agg is not None:
        day = time.strftime("%Y-%m-%d", time.localtime(now))
        if agg.get("day") == day and _number(agg.get("today_usd")) is not None:
            parts.append(f"today {_money(agg['today_usd'])}")
        b = agg.get("block")
        if isinstance(b, dict) and _number(b.get("end")) is not None and b["end"] > now:
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
