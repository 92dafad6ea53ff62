"""Portable cassettes: recorded paths follow the replaying agent.

A cassette notes the folder its agent worked in (``root``) and its ``home``.
Replayed in another folder:

* **matching** puts ``<workspace>``, ``<home>`` and ``<workspace-slug>``
  (Claude Code's per-project folder name, the root with every other
  character than letters and digits as ``-``) in place of each side's own
  folders, so a request naming ``/ci/42/app.py`` matches one recorded with
  ``/home/ana/proj/app.py``;
* **playing** puts the replaying agent's folders in place of the recorded
  ones in the response, so a recorded ``Write`` lands in the new folder.
  In a stream, a block's text or tool input arrives as deltas that may cut a
  path in two: the deltas of one block are joined, mapped, and put back (the
  mapped whole in the block's first delta, empty strings in the rest); other
  events are mapped field by field.  Thinking blocks are never touched (a
  signature covers them).

A folder is replaced only as a whole path prefix: not after a name character
(``/x/tmp/a`` holds no ``/tmp/a``), not before one (``/tmp/ab`` is not under
``/tmp/a``).  ``/`` and relative paths are never mapped.
"""

from __future__ import annotations

import functools
import json
import re

from . import format as fmt

WORKSPACE, HOME, SLUG = "<workspace>", "<home>", "<workspace-slug>"
_ABS = re.compile(r"^(?:/|[A-Za-z]:[\\/])")


def clean(path) -> str | None:
    """An absolute folder without its trailing separator, or None."""
    if not isinstance(path, str) or not _ABS.match(path) or "\n" in path:
        return None
    path = path.rstrip("/\\")
    return path if len(path) >= 2 and not re.fullmatch(r"[A-Za-z]:", path) else None


def slug(root: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "-", root)


class Places:
    """A workspace root and a home folder, as one agent names them."""

    def __init__(self, root=None, home=None):
        self.root, self.home = clean(root), clean(home)
        if self.home and self.root == self.home:
            self.home = None  # an agent working in its home: the root says it all

    def __bool__(self) -> bool:
        return bool(self.root or self.home)

    def __eq__(self, other) -> bool:
        return isinstance(other, Places) and (self.root, self.home) == (other.root, other.home)

    def as_dict(self) -> dict:
        return {k: v for k, v in (("root", self.root), ("home", self.home)) if v}

    def names(self) -> dict[str, str]:
        """placeholder -> this side's text."""
        out = {}
        if self.root:
            out[WORKSPACE] = self.root
            if slug(self.root) != self.root:
                out[SLUG] = slug(self.root)
        if self.home:
            out[HOME] = self.home
        return out


class PathMap:
    """Replaces ``src``'s folders in strings: by ``dst``'s, or by the
    placeholders when ``dst`` is None."""

    def __init__(self, src: Places, dst: Places | None = None):
        names = src.names()
        target = dst.names() if dst is not None else {}
        self.table = {}
        for ph, text in names.items():
            to = target.get(ph, text) if dst is not None else ph
            if to != text:
                self.table[text] = to
        self.rx = None
        self.shortest = min((len(t) for t in self.table), default=0)
        if self.table:
            alts = "|".join(re.escape(t) for t in sorted(self.table, key=len, reverse=True))
            self.rx = re.compile(r"(?<![\w.\-])(?:" + alts + r")(?![\w\-]|\.\w)")

    def __bool__(self) -> bool:
        return self.rx is not None

    def text(self, s: str) -> str:
        if self.rx is None or len(s) < self.shortest or not any(t in s for t in self.table):  # cheap tests first
            return s
        return self.rx.sub(lambda m: self.table[m.group(0)], s)

    def json(self, value):
        """A JSON value with strings mapped (thinking blocks kept).  Parts
        with nothing to map are shared with ``value``, not copied: do not
        mutate the result."""
        if self.rx is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            out = None
            for i, v in enumerate(value):
                m = self.json(v)
                if m is not v:
                    if out is None:
                        out = list(value)
                    out[i] = m
            return value if out is None else out
        if isinstance(value, dict):
            if value.get("type") in ("thinking", "redacted_thinking"):
                return value
            out = None
            for k, v in value.items():
                m = self.json(v)
                if m is not v:
                    if out is None:
                        out = dict(value)
                    out[k] = m
            return value if out is None else out
        return value

    def json_text(self, raw: str) -> str:
        """Map inside a JSON document given as text (a tool input), keeping
        the text as it was when nothing changes."""
        try:
            value = json.loads(raw)
        except ValueError:
            return self.text(raw)
        mapped = self.json(value)
        return raw if mapped == value else json.dumps(mapped, ensure_ascii=False)

    # -- responses ------------------------------------------------------------
    def response(self, resp: dict) -> dict:
        if self.rx is None:
            return resp
        out = dict(resp)
        if "body" in resp and isinstance(resp["body"], dict):
            body = resp["body"]
            if "json" in body:
                out["body"] = {"json": self.json(body["json"])}
            elif "text" in body:
                out["body"] = {"text": self.text(body["text"])}
        if isinstance(resp.get("stream"), list):
            out["stream"] = self.stream(resp["stream"])
        return out

    def stream(self, chunks: list) -> list:
        if any(not isinstance(c, str) for c in chunks):
            try:
                text = b"".join(fmt.decode_chunk(c) for c in chunks).decode("utf-8")
            except UnicodeDecodeError:
                return chunks
        else:
            text = "".join(chunks)
        events = [_SseEvent(raw) for raw in _split_events(text)]
        groups: dict[tuple, list] = {}
        for i, e in enumerate(events):
            for key, holder, field in _deltas(e.obj):
                groups.setdefault(key, []).append((i, holder, field))
        grouped = set()
        for key, parts in groups.items():
            joined = "".join(h[f] for _, h, f in parts)
            mapped = self.json_text(joined) if key[-1] == "json" else self.text(joined)
            for n, (i, holder, field) in enumerate(parts):
                grouped.add((i, id(holder), field))
                if mapped != joined:
                    holder[field] = mapped if n == 0 else ""
                    events[i].changed = True
        for i, e in enumerate(events):
            if e.obj is None:
                new = self.text(e.raw)
                e.changed, e.raw = e.changed or new != e.raw, new
                continue
            if _map_fields(self, e.obj, functools.partial(_in_group, grouped, i)):
                e.changed = True
        if not any(e.changed for e in events):
            return chunks
        return [e.text() for e in events]


# -- server-sent events ------------------------------------------------------------
_EVENT_END = re.compile(r"\r?\n\r?\n")


def _split_events(text: str) -> list[str]:
    out, pos = [], 0
    for m in _EVENT_END.finditer(text):
        out.append(text[pos:m.end()])
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


class _SseEvent:
    __slots__ = ("raw", "obj", "changed", "_data_at")

    def __init__(self, raw: str):
        self.raw, self.obj, self.changed, self._data_at = raw, None, False, None
        lines = raw.splitlines(keepends=True)
        data = [i for i, ln in enumerate(lines) if ln.startswith("data:")]
        if len(data) == 1:
            payload = lines[data[0]][5:].strip()
            if payload.startswith("{"):
                try:
                    self.obj = json.loads(payload)
                    self._data_at = data[0]
                except ValueError:
                    pass

    def text(self) -> str:
        if self.obj is None or not self.changed:
            return self.raw
        lines = self.raw.splitlines(keepends=True)
        # type-checker: _data_at is set together with obj
        line = lines[self._data_at]  # type: ignore[index]
        end = line[len(line.rstrip("\r\n")):]
        lines[self._data_at] = "data: " + json.dumps(self.obj, ensure_ascii=False, separators=(",", ":")) + end  # type: ignore[index]
        return "".join(lines)


def _deltas(obj):
    """(group key, holder dict, field) of each text or tool-input fragment."""
    if not isinstance(obj, dict):
        return
    t = obj.get("type")
    if t == "content_block_delta" and isinstance(obj.get("delta"), dict):  # Anthropic
        d = obj["delta"]
        if d.get("type") == "input_json_delta" and isinstance(d.get("partial_json"), str):
            yield ("a", obj.get("index"), "json"), d, "partial_json"
        elif d.get("type") == "text_delta" and isinstance(d.get("text"), str):
            yield ("a", obj.get("index"), "text"), d, "text"
    elif t in ("response.output_text.delta", "response.function_call_arguments.delta") \
            and isinstance(obj.get("delta"), str):  # OpenAI Responses
        kind = "json" if t.startswith("response.function_call") else "text"
        yield ("r", obj.get("item_id") or obj.get("output_index"), obj.get("content_index"), kind), obj, "delta"
    elif isinstance(obj.get("choices"), list):  # OpenAI chat completions
        for c in obj["choices"]:
            d = c.get("delta") if isinstance(c, dict) else None
            if not isinstance(d, dict):
                continue
            if isinstance(d.get("content"), str):
                yield ("o", c.get("index"), "text"), d, "content"
            for tc in d["tool_calls"] if isinstance(d.get("tool_calls"), list) else ():
                fn = tc.get("function") if isinstance(tc, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    yield ("o", c.get("index"), tc.get("index"), "json"), fn, "arguments"


def _in_group(grouped: set, i: int, holder: dict, field: str) -> bool:
    return (i, id(holder), field) in grouped


def _map_fields(pm: PathMap, value, skip) -> bool:
    """Map strings in place (not thinking blocks, not grouped fragments)."""
    changed = False
    if isinstance(value, dict):
        if value.get("type") in ("thinking", "redacted_thinking", "thinking_delta", "signature_delta"):
            return False
        for k, v in value.items():
            if isinstance(v, str):
                if skip(value, k):
                    continue
                new = pm.text(v)
                if new != v:
                    value[k], changed = new, True
            elif isinstance(v, (dict, list)):
                changed = _map_fields(pm, v, skip) or changed
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, str):
                new = pm.text(v)
                if new != v:
                    value[i], changed = new, True
            elif isinstance(v, (dict, list)):
                changed = _map_fields(pm, v, skip) or changed
    return changed
