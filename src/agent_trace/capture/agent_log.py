"""What the parsers of agents' own session logs share (Codex rollouts,
Gemini CLI chat logs): the result type and the line reader.

Contract of every ``parse_log(path, start=0, *, final=False) -> ParsedLog``:

* ``events``: event dicts in file order, with ids derived from the agent's
  own ids (:func:`agent_trace.event.derived_id`, docs/event-schema.md "Ids"),
  so a hook, a later import and a re-parse of the same bytes give the same
  ids and a reader keeps each once;
* ``end``: the byte offset up to which the input was consumed: complete lines
  (a last line without ``\\n`` is still being written and is left for the
  next call) whose events are final.  Calling again with ``start=end`` gives
  only what was appended since, or what a read limit (``limit``, about
  :data:`.transcript.CHUNK_BYTES` a call: memory stays flat) left for later;
* ``skipped``: lines that were not JSON objects or had an unknown shape,
  counted, never fatal;
* ``session`` and ``cwd``: the session id and project folder, when the log
  says (``None`` otherwise);
* ``final=True`` (the session is over) also emits what is held back waiting
  for a later line.

Imported on the hook path (Stop, SessionEnd, and PreToolUse with a budget
rule): standard library and cheap modules only.
"""

from __future__ import annotations

from ..event.fastjson import loads
from ..store.regular import open_regular
from .transcript import MAX_LINE, TS_END, TS_MIN, rest_of_line


class ParsedLog:
    __slots__ = ("events", "end", "skipped", "session", "cwd", "agent_id")

    def __init__(self, start: int = 0):
        self.events: list[dict] = []
        self.end = start
        self.skipped = 0
        self.session: str | None = None
        self.cwd: str | None = None
        self.agent_id: str | None = None  # set when the log is a subagent's own

    def __repr__(self) -> str:
        return (f"ParsedLog(events={len(self.events)}, end={self.end}, skipped={self.skipped}, "
                f"session={self.session!r})")


def records(path: str, start: int, out: ParsedLog):
    """Yield ``(offset, record)`` for each complete line from ``start`` that
    is a JSON object; count the rest in ``out.skipped``; leave ``out.end``
    after the last complete line.  A line over :data:`.transcript.MAX_LINE`
    is skipped without ever being held whole (memory stays flat)."""
    with open_regular(path) as f:  # never a FIFO or a device
        f.seek(start)
        offset = start
        readline = f.readline
        while True:
            raw = readline(MAX_LINE)
            if raw[-1:] != b"\n":
                rest, ended = rest_of_line(f) if len(raw) == MAX_LINE else (0, False)
                if not ended:
                    break  # still being written
                offset += len(raw) + rest
                out.end = offset
                out.skipped += 1
                continue
            line_at = offset
            offset += len(raw)
            out.end = offset
            if not raw.strip():
                continue
            try:
                rec = loads(raw.decode("utf-8", "surrogateescape"))
            except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
                out.skipped += 1
                continue
            if not isinstance(rec, dict):
                out.skipped += 1
                continue
            yield line_at, rec


def text_of(content) -> str:
    """The text of a message's content: a string, or a list of parts with
    ``text`` (Codex ``input_text``/``output_text``, Gemini parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def num(d, key):
    """An int (a count, an exit code), or ``None``: not an int, or beyond
    2**53 either way (a hostile ``10**400`` would overflow every float made
    of it downstream)."""
    v = d.get(key) if isinstance(d, dict) else None
    return v if type(v) is int and -(1 << 53) <= v <= 1 << 53 else None


def iso(ts) -> str | None:
    """An agent's timestamp in the store's format (``None`` if unusable:
    not a time, or outside the years :func:`.transcript.norm_ts` keeps)."""
    if not isinstance(ts, str):
        return None
    from ..event import now_iso
    from ..event.timefmt import parse_iso

    try:
        ts = now_iso(parse_iso(ts))
    except (ValueError, OverflowError, OSError):
        return None
    return ts if TS_MIN <= ts < TS_END else None
