"""Full-text search over a store: prompts, tool inputs, results, errors, answers.

The index is a flat text file, ``index/search.txt``, one record per
searchable event::

    <file>\\x1f<line start>\\x1f<ts>\\x1f<type>\\x1f<tool>\\x1f<status>\\x1f<agent>\\x1f<text>\\n

the tool name and the text lower-cased, line breaks turned into spaces, the
text cut at :data:`MAX_TEXT` characters per event.  A query is a plain
substring search over the memory-mapped file (C speed, no tokenizer: ``rm
-rf`` finds ``rm -rf``); a result's record starts with its call's text, so a
failed command is found by the command.  Each hit's header names the session
file and the byte offset of the event, which is read back for display.
Filters (tool, failed, time, project) are checked on the hits' headers; a
query with no text looks for the most telling header field instead
(``error`` for failed calls, else the tool).  Kept up to date incrementally
like every index (:mod:`agent_trace.store.file_index`); deleting it costs one
rebuild.

Why not SQLite FTS5: building it costs several times the import itself, its
tokenizer splits ``rm -rf`` and paths, and a substring scan of the record
file answers in well under a second on a year of history (see
``docs/usage.md`` for the figures).
"""

from __future__ import annotations

import mmap
import os

from .. import event as ev
from ..store.file_index import FileIndex

MAX_TEXT = 65536
CALL_TEXT = 300  # of a call's text, put before its result's
SEP = "\x1f"
_CLEAN = str.maketrans({"\n": " ", "\r": " ", SEP: " ", "\x00": " "})


def _clean(text: str) -> str:
    """Line breaks, separators and NULs as spaces (four C passes: faster
    than ``translate`` on long text)."""
    return text.replace("\n", " ").replace("\r", " ").replace(SEP, " ").replace("\x00", " ")


def _flatten(value, out: list, budget: list) -> None:
    if budget[0] <= 0:
        return
    if isinstance(value, str):
        out.append(value)
        budget[0] -= len(value)
    elif isinstance(value, dict):
        for v in value.values():
            _flatten(v, out, budget)
    elif isinstance(value, list):
        for v in value:
            _flatten(v, out, budget)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out.append(str(value))


def event_text(e: dict) -> str | None:
    """The searchable text of an event, or None when it has none."""
    t = e.get("type")
    data = e.get("data")
    data = data if isinstance(data, dict) else {}
    out: list[str] = []
    budget = [MAX_TEXT]
    if t == ev.USER_PROMPT:
        _flatten(data.get("prompt"), out, budget)
    elif t == ev.TOOL_CALL:
        tool = e.get("tool")
        out.append(tool if isinstance(tool, str) else "")
        _flatten(data.get("tool_input", data.get("arguments")), out, budget)
    elif t in (ev.TOOL_RESULT, ev.TOOL_ERROR):
        err = e.get("error")
        if isinstance(err, dict):
            _flatten(err.get("message"), out, budget)
        _flatten(data.get("tool_response"), out, budget)
    elif t == ev.LLM_RESPONSE:
        content = data.get("content")
        if isinstance(content, list):
            for b in content:
                if isinstance(b, dict) and b.get("type") == "text":
                    _flatten(b.get("text"), out, budget)
    elif t == ev.ASSISTANT_MESSAGE:
        _flatten(data.get("text", data.get("message")), out, budget)
    else:
        return None
    text = " ".join(x for x in out if x)
    return text[:MAX_TEXT] if text.strip() else None


def _header(name: str, start: int, e: dict) -> str:
    """The record's header fields, joined (each cleaned only when the join shows it must be)."""
    fields = (name, str(start), e.get("ts") or "", e.get("type") or "", str(e.get("tool") or "").lower(),
              e.get("status") or "", e.get("agent_id") or "")
    try:
        head = SEP.join(fields)
    except TypeError:  # a field that is not text (a hand-edited store): cleaned below
        head = None
    if head is None or head.count(SEP) != HEAD_FIELDS - 1 or "\n" in head or "\r" in head or "\x00" in head:
        head = SEP.join([_clean(str(h)) for h in fields])
    return head


class SearchIndex(FileIndex):
    FILE = "search.json"
    VERSION = 2

    def __init__(self, store):
        super().__init__(store)
        self.corpus = os.path.join(self.dir, "search.txt")
        self._buf: list[str] = []
        self._buf_size = 0

    def reset(self) -> None:
        self._buf, self._buf_size = [], 0
        try:
            os.unlink(self.corpus)
        except OSError:
            pass

    def load(self) -> "SearchIndex":
        super().load()
        try:
            size = os.path.getsize(self.corpus)
        except OSError:
            size = 0
        if self.files and size < sum(f.get("bytes", 0) for f in self.files.values()):
            self._rebuild()  # the record file lost what the table says it holds
        return self

    def new_entry(self, name: str) -> dict:
        return {"bytes": 0, "project": None}

    def feed(self, name: str, entry: dict, items) -> None:
        buf = self._buf
        n = 0
        calls: dict[str, str] = {}  # tool_use_id -> the call's text: a result is found by its command too
        for start, _end, e in items:
            if entry["project"] is None:
                data = e.get("data")
                cwd = data.get("cwd") if isinstance(data, dict) else None
                if isinstance(cwd, str) and cwd:
                    entry["project"] = cwd
            text = event_text(e)
            if text is None:
                continue
            t, tid = e.get("type"), e.get("tool_use_id")
            if tid and t == ev.TOOL_CALL:
                if len(calls) > 5000:
                    calls.clear()
                calls[tid] = text[:CALL_TEXT]
            elif tid and t in (ev.TOOL_RESULT, ev.TOOL_ERROR):
                call = calls.pop(tid, None)
                if call:
                    text = call + " => " + text
            rec = _header(name, start, e) + SEP + _clean(text).lower() + "\n"
            buf.append(rec)
            n += len(rec)
        if n:
            self._buf_size += n
            entry["bytes"] = entry.get("bytes", 0) + n  # characters: a lower bound of the bytes
            if self._buf_size > (8 << 20):
                self.flush()

    def flush(self) -> None:
        if not self._buf:
            return
        os.makedirs(self.dir, exist_ok=True)
        data = "".join(self._buf).encode("utf-8", "surrogatepass")
        self._buf, self._buf_size = [], 0
        from ..store.writer import append_lines

        append_lines(self.corpus, data)  # whole records, locked: the workers of a split import share the file

    def save(self) -> None:
        self.flush()
        super().save()


class Record:
    __slots__ = ("file", "offset", "ts", "type", "tool", "status", "agent_id")

    def __init__(self, fields: list[str]):
        self.file, off, self.ts, self.type, self.tool, self.status, self.agent_id = fields
        self.offset = int(off)


HEAD_FIELDS = 7
HEAD_MAX = 1024  # a header is far shorter: file name, offset, time, type, tool, status, agent id
_SEP_B = SEP.encode()


def search_corpus(path: str, needle: str, accept, limit: int | None = None, *, header: str | None = None):
    """Yield the :class:`Record` of every record of ``path`` whose text holds
    ``needle`` (any case) and that ``accept(record)`` takes, in the order
    they were indexed.

    With an empty ``needle``, ``header`` (a field value such as ``error``)
    says what to look for in the records' headers instead: every record is
    then a candidate only if that field value occurs in its header.

    ``needle`` is cleaned as the records' text is (a separator or a line
    break is a space); one that is then only blanks matches nothing rather
    than every record with a space."""
    text_want = needle.lower().translate(_CLEAN).encode("utf-8", "surrogatepass")
    if needle and not text_want.strip():
        return
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    with f:
        try:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file
            return
        with mm:
            want = text_want or (_SEP_B + header.translate(_CLEAN).encode("utf-8", "surrogatepass") + _SEP_B
                                 if header else b"\n")
            size = len(mm)
            pos, found = 0, 0
            while True:
                hit = mm.find(want, pos)
                if hit < 0:
                    return
                start = mm.rfind(b"\n", 0, hit) + 1 if want != b"\n" else pos
                end = mm.find(b"\n", hit if want != b"\n" else pos)
                end = size if end < 0 else end
                pos = end + 1
                parts = mm[start:min(end, start + HEAD_MAX)].split(_SEP_B, HEAD_FIELDS)
                if len(parts) <= HEAD_FIELDS:
                    continue  # not a record (a torn write): skip the line
                head_end = start + sum(len(x) for x in parts[:HEAD_FIELDS]) + HEAD_FIELDS
                if text_want and hit < head_end and mm.find(text_want, head_end, end) < 0:
                    continue  # matched the record's header, not its text
                if not text_want and header and hit >= head_end:
                    continue  # the field value was in the text, not the header
                fields = [x.decode("utf-8", "surrogatepass") for x in parts[:HEAD_FIELDS]]
                try:
                    rec = Record(fields)
                except ValueError:
                    continue
                if not accept(rec):
                    continue
                yield rec
                found += 1
                if limit is not None and found >= limit:
                    return
                if pos >= size:
                    return
