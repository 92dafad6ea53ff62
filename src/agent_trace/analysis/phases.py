"""A session split into phases at user prompts, streaming.

One :class:`SessionSummary` is fed every event; a phase's numbers (tool
calls, errors, LLM calls, tokens, cost, subagents, rule decisions) are the
summary's growth over the phase, so they use the same counting rules as every
other report and cost one summary update per event.  Phases add what
``explain`` and ``timeline`` tell: files read and changed, commands run,
failures and whether the agent recovered.  Lists are capped, with counts
kept, so memory stays flat on huge sessions.
"""

from __future__ import annotations

from .. import event as ev
from . import toolfacts
from .summary import SessionSummary

CAP = 30  # items kept per list; counts are exact
_COUNTERS = ("events", "tool_calls", "tool_errors", "llm_calls", "cost_usd")


def _snapshot(s: SessionSummary) -> dict:
    snap = {k: getattr(s, k) for k in _COUNTERS}
    snap["tokens"] = dict(s.tokens)
    snap["subagents"] = len(s.subagents)
    snap["decisions"] = dict(s.decisions)
    return snap


class Phase:
    def __init__(self, index: int, prompt: str | None, start: str | None, total: SessionSummary):
        self.index = index
        self.prompt = prompt
        self.start = start
        self.end = start
        self.read: dict[str, int] = {}
        self.changed: dict[str, int] = {}
        self.commands: list[str] = []
        self.commands_total = 0
        self.failures: list[dict] = []  # {tool, arg, error, recovered}
        self.failures_total = 0
        self._open_failures: dict[tuple, dict] = {}  # (tool, arg) -> failure, until it succeeds
        self._touching: dict[str, tuple[dict, list[str]]] = {}  # tool_use_id -> (read/changed, paths)
        self._total = total
        self._begin = _snapshot(total)
        self.counts: dict = {}

    def close(self) -> "Phase":
        """Fix the phase's numbers as the summary's growth since it began."""
        now, b, s = _snapshot(self._total), self._begin, self._total
        self.end = s.last or self.start
        self.counts = {k: now[k] - b[k] for k in _COUNTERS}
        self.counts["tokens"] = {k: now["tokens"][k] - b["tokens"].get(k, 0) for k in now["tokens"]}
        self.counts["subagents"] = s.subagents[b["subagents"]:]
        self.counts["decisions"] = {k: v - b["decisions"].get(k, 0) for k, v in now["decisions"].items()
                                    if v - b["decisions"].get(k, 0)}
        return self

    def add_call(self, e: dict) -> None:
        k = toolfacts.kind(e.get("tool"))
        if k is None:
            return
        if k == "shell":
            cmd = toolfacts.command(e)
            if cmd:
                self.commands_total += 1
                if len(self.commands) < CAP:
                    self.commands.append(cmd)
            return
        target = self.read if k == "read" else self.changed
        counted = []
        for p in toolfacts.paths(e):
            if p in target or len(target) < CAP:
                target[p] = target.get(p, 0) + 1
                counted.append(p)
        tid = e.get("tool_use_id")
        if tid and counted:
            self._touching[tid] = (target, counted)

    def settle(self, e: dict, failed: bool) -> None:
        """A call ended: a failed read or write did not read or change its files."""
        # type-checker: an event without the id just misses
        touched = self._touching.pop(e.get("tool_use_id"), None)  # type: ignore[arg-type]
        if touched is None or not failed:
            return
        target, counted = touched
        for p in counted:
            n = target.get(p, 0) - 1
            if n > 0:
                target[p] = n
            else:
                target.pop(p, None)

    def add_end(self, e: dict, failed: bool, calls: dict) -> None:
        call = calls.get(e.get("tool_use_id")) or e
        key = (e.get("tool") or call.get("tool"), _arg(call))
        if failed:
            self.failures_total += 1
            err = e.get("error") or {}
            msg = err.get("message", "") if isinstance(err, dict) else str(err)
            f = {"tool": key[0], "arg": key[1], "error": _first_line(msg), "recovered": False}
            if len(self.failures) < CAP:
                self.failures.append(f)
            self._open_failures[key] = f
            return
        f = self._open_failures.pop(key, None)  # type: ignore[arg-type]  # an event without the id just misses
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


INTERNAL_PROMPTS = ("<task-notification>",)


def _internal_prompt(e: dict) -> bool:
    """A prompt the agent wrote to itself (a background task reporting back)."""
    data = e.get("data")
    prompt = data.get("prompt") if isinstance(data, dict) else None
    return isinstance(prompt, str) and prompt.lstrip().startswith(INTERNAL_PROMPTS)


def _first_line(msg: str) -> str:
    lines = [x for x in str(msg).splitlines() if x.strip()]
    if not lines:
        return "error"
    if lines[0].startswith("Exit code") and len(lines) > 1:
        return f"{lines[0]}: {lines[-1][:160]}"
    return lines[0][:200]


def iter_phases(events, total: SessionSummary | None = None):
    """Yield closed :class:`Phase` objects; a phase ends where the next prompt
    begins.  ``total`` (fed every event here) is the whole session's summary.

    Prompts from subagents do not start phases, nor do the prompts Claude
    Code writes itself when a background task reports back
    (``<task-notification>``): the user asked nothing, so the turn they start
    belongs to the phase the task was started in.  Setup events before the
    first prompt join the first phase."""
    total = total if total is not None else SessionSummary()
    calls: dict[str, dict] = {}  # open tool calls by tool_use_id (removed on result)
    phase = Phase(0, None, None, total)
    add = total.add
    TOOL_CALL, TOOL_RESULT, TOOL_ERROR, ERROR = ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR, ev.ERROR
    for e in events:
        t = e.get("type")
        if t == ev.USER_PROMPT and not e.get("agent_id") and not _internal_prompt(e):
            data = e.get("data")
            prompt = data.get("prompt") if isinstance(data, dict) else None
            prompt = prompt if isinstance(prompt, str) else None
            if phase.index == 0 and not (total.tool_calls or total.llm_calls or total.prompts):
                phase.index, phase.prompt = 1, prompt  # only session setup so far: it joins phase 1
            else:
                if total.events > phase._begin["events"]:
                    yield phase.close()
                phase = Phase(phase.index + 1, prompt, e.get("ts"), total)
        add(e)
        if phase.start is None:
            phase.start = e.get("ts")
        if t == TOOL_CALL:
            tid = e.get("tool_use_id")
            if tid:
                calls[tid] = e
            phase.add_call(e)
        elif t == TOOL_RESULT or t == TOOL_ERROR:
            failed = t == TOOL_ERROR or e.get("status") == ERROR
            phase.settle(e, failed)
            if failed or phase._open_failures:
                phase.add_end(e, failed, calls)
            calls.pop(e.get("tool_use_id"), None)
    if total.events > phase._begin["events"]:
        yield phase.close()
