"""A session split into phases at user prompts, streaming.

Each phase carries its own :class:`SessionSummary` (so per-phase counts,
tokens and cost use the same rules as every other report) plus what
``explain`` and ``timeline`` tell: files read and changed, commands run,
failures and whether the agent recovered from them.  Lists are capped, with
counts kept, so memory stays flat on huge sessions.
"""

from __future__ import annotations

from . import event as ev
from . import toolfacts
from .summary import SessionSummary

CAP = 30  # items kept per list; counts are exact


class Phase:
    def __init__(self, index: int, prompt: str | None, start: str | None):
        self.index = index
        self.prompt = prompt
        self.start = start
        self.end = start
        self.summary = SessionSummary()
        self.read: dict[str, int] = {}
        self.changed: dict[str, int] = {}
        self.commands: list[str] = []
        self.commands_total = 0
        self.failures: list[dict] = []  # {tool, arg, error, recovered}
        self.failures_total = 0
        self._open_failures: dict[tuple, dict] = {}  # (tool, arg) -> failure, until it succeeds

    def _count(self, d: dict, key: str) -> None:
        if key in d or len(d) < CAP:
            d[key] = d.get(key, 0) + 1

    def add(self, e: dict, calls: dict) -> None:
        self.summary.add(e)
        if e.get("ts"):
            self.end = e["ts"]
        t = e.get("type")
        if t == ev.TOOL_CALL:
            for p in toolfacts.files_read(e):
                self._count(self.read, p)
            for p in toolfacts.files_written(e):
                self._count(self.changed, p)
            cmd = toolfacts.command(e)
            if cmd:
                self.commands_total += 1
                if len(self.commands) < CAP:
                    self.commands.append(cmd)
        elif t in (ev.TOOL_RESULT, ev.TOOL_ERROR):
            call = calls.get(e.get("tool_use_id")) or e
            key = (e.get("tool") or call.get("tool"), _arg(call))
            if t == ev.TOOL_ERROR or e.get("status") == ev.ERROR:
                self.failures_total += 1
                err = e.get("error") or {}
                msg = err.get("message", "") if isinstance(err, dict) else str(err)
                f = {"tool": key[0], "arg": key[1], "error": _first_line(msg), "recovered": False}
                if len(self.failures) < CAP:
                    self.failures.append(f)
                self._open_failures[key] = f
            else:
                f = self._open_failures.pop(key, None) or self._open_failures.pop((key[0], None), None)
                if f is None:
                    # a different call of the same tool succeeding also counts as recovery
                    for k in list(self._open_failures):
                        if k[0] == key[0]:
                            f = self._open_failures.pop(k)
                            break
                if f is not None:
                    f["recovered"] = True


def _arg(call: dict):
    inp = toolfacts.tool_input(call)
    for k in ("command", "file_path", "path", "pattern", "url"):
        if isinstance(inp.get(k), str):
            return inp[k][:200]
    return None


def _first_line(msg: str) -> str:
    lines = [x for x in str(msg).splitlines() if x.strip()]
    if not lines:
        return "error"
    if lines[0].startswith("Exit code") and len(lines) > 1:
        return f"{lines[0]}: {lines[-1][:160]}"
    return lines[0][:200]


def iter_phases(events):
    """Yield :class:`Phase` objects; a phase ends where the next prompt begins.

    Prompts from subagents do not start phases; the prompt Claude Code sends
    when a background subagent reports back does (it is a new turn)."""
    calls: dict[str, dict] = {}  # open tool calls by tool_use_id (removed on result)
    phase = Phase(0, None, None)
    for e in events:
        t = e.get("type")
        if t == ev.USER_PROMPT and not e.get("agent_id"):
            data = e.get("data")
            prompt = data.get("prompt") if isinstance(data, dict) else None
            prompt = prompt if isinstance(prompt, str) else None
            s = phase.summary
            if phase.index == 0 and not (s.tool_calls or s.llm_calls or s.prompts):
                phase.index, phase.prompt = 1, prompt  # only session setup so far: it joins phase 1
            else:
                if s.events:
                    yield phase
                phase = Phase(phase.index + 1, prompt, e.get("ts"))
        if phase.start is None:
            phase.start = e.get("ts")
        if t == ev.TOOL_CALL and e.get("tool_use_id"):
            calls[e["tool_use_id"]] = e
        phase.add(e, calls)
        if t in (ev.TOOL_RESULT, ev.TOOL_ERROR):
            calls.pop(e.get("tool_use_id"), None)
    if phase.summary.events:
        yield phase
