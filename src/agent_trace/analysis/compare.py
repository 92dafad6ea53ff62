"""Structural comparison of two sessions, with a verdict for CI.

Compares the shared summaries (tool calls, errors, tokens, cost, duration),
the tool-call sequences (a unified diff of tool names), the files touched
(relative to each session's workspace, so the same task in two checkouts
names the same files) and the grades (``agent-strace grade``).  A session
captured on the wire alone has no ``tool.call`` events: its tool calls are
the ones its model responses asked for.

The verdict is ``same``, ``improved``, ``regressed`` or ``changed``.  Grades
decide first: a verify command that passed in A and fails in B is a
regression, the other way round an improvement.  Otherwise B regressed when
it has more tool errors, or costs/takes/uses more than ``tolerance``
(default 20%) beyond A.
"""

from __future__ import annotations

import difflib

from .. import event as ev
from ..store.timeline import iter_timeline
from . import toolfacts
from .grades import Grades, word
from .summary import SessionSummary
from .workspace import WorkspaceFinder

MAX_SEQ = 5000  # tool names kept per side for the sequence diff


def profile(path: str) -> dict:
    return profile_events(iter_timeline(path))


def profile_events(events) -> dict:
    """The profile of any stream of events (a stored session, a cassette read
    back as events)."""
    p = Profiler()
    for e in events:
        p.add(e)
    return p.result()


class Profiler:
    """A profile built one event at a time, for readers that already walk a
    session (``report``): pass the ``summary`` they feed themselves, and
    only the rest is fed here."""

    def __init__(self, summary: SessionSummary | None = None):
        self._own = summary is None
        self.summary = SessionSummary() if summary is None else summary
        self.where, self.grades = WorkspaceFinder(), Grades()
        self.hooks: dict = {"seq": [], "read": set(), "changed": set()}
        self.wire: dict = {"seq": [], "read": set(), "changed": set()}
        self.fork: dict | None = None

    def add(self, e: dict) -> None:
        if self._own:
            self.summary.add(e)
        self.where.add(e)
        t = e.get("type")
        if t == ev.TOOL_CALL:
            _note_call(self.hooks, e)
        elif t == ev.LLM_RESPONSE and not self.hooks["seq"]:
            for call in toolfacts.wire_calls(e):
                _note_call(self.wire, call)
        elif t == ev.ANNOTATION:
            self.grades.add(e)
            if e.get("name") == "fork" and isinstance(e.get("data"), dict) and self.fork is None:
                self.fork = {k: e["data"].get(k) for k in ("cassette", "fork_at", "model_calls_played", "upstream")}

    def result(self) -> dict:
        s = self.summary
        calls = self.hooks if self.hooks["seq"] else self.wire
        root = self.where.places()[0]
        return {"summary": s, "sequence": calls["seq"], "tool_calls": s.tool_calls or len(calls["seq"]),
                "read": {toolfacts.relative(p, root) for p in calls["read"]},
                "changed": {toolfacts.relative(p, root) for p in calls["changed"]},
                "workspace": root, "grades": self.grades.latest(), "fork": self.fork}


def _note_call(acc: dict, e: dict) -> None:
    if len(acc["seq"]) < MAX_SEQ:
        acc["seq"].append(str(e.get("tool") or "?"))
    acc["read"].update(toolfacts.files_read(e))
    acc["changed"].update(toolfacts.files_written(e))


def _grade_reasons(ga: list[dict], gb: list[dict]) -> tuple[list[str], list[str]]:
    """(worse, better): verify commands graded in both runs whose outcome differs."""
    a = {g["command"]: g for g in ga}
    bad: list[str] = []
    good: list[str] = []
    for g in gb:
        was = a.get(g["command"])
        if was is None or was["passed"] == g["passed"]:
            continue
        (good if g["passed"] else bad).append(f"`{g['command']}`: {word(was)} -> {word(g)}")
    return bad, good


def _pct(a: float, b: float):
    if not a:
        return None if not b else float("inf")
    return (b - a) / a * 100


def compare(path_a: str, path_b: str, tolerance: float = 20.0) -> dict:
    return compare_profiles(profile(path_a), profile(path_b), tolerance)


def compare_profiles(a: dict, b: dict, tolerance: float = 20.0) -> dict:
    sa, sb = a["summary"], b["summary"]
    metrics = {}
    for name, va, vb in (
        ("tool_calls", a["tool_calls"], b["tool_calls"]),
        ("tool_errors", sa.tool_errors, sb.tool_errors),
        ("llm_calls", sa.llm_calls, sb.llm_calls),
        ("tokens", sum(sa.tokens.values()), sum(sb.tokens.values())),
        ("cost_usd", round(sa.cost_usd, 6), round(sb.cost_usd, 6)),
        ("duration_s", sa.duration_s() or 0.0, sb.duration_s() or 0.0),
    ):
        metrics[name] = {"a": va, "b": vb, "delta": (vb - va) if isinstance(va, (int, float)) else None,
                         "pct": _pct(va, vb)}
    diff = list(difflib.unified_diff(a["sequence"], b["sequence"], "A", "B", lineterm="", n=1))
    reasons_bad, reasons_good = [], []
    if sb.tool_errors > sa.tool_errors:
        reasons_bad.append(f"more tool errors ({sa.tool_errors} -> {sb.tool_errors})")
    elif sb.tool_errors < sa.tool_errors:
        reasons_good.append(f"fewer tool errors ({sa.tool_errors} -> {sb.tool_errors})")
    for name in ("cost_usd", "tokens", "tool_calls", "duration_s"):
        pct = metrics[name]["pct"]
        if pct is None:
            continue
        if pct > tolerance:
            reasons_bad.append(f"{name} +{pct:.0f}%" if pct != float("inf") else f"{name} up from 0")
        elif pct < -tolerance:
            reasons_good.append(f"{name} {pct:.0f}%")
    same_seq = a["sequence"] == b["sequence"]
    grades_bad, grades_good = _grade_reasons(a["grades"], b["grades"])
    if grades_bad or grades_good:  # whether the work is right outweighs what it cost
        if grades_bad:
            reasons_bad = grades_bad + reasons_bad
        else:
            reasons_bad, reasons_good = [], grades_good + reasons_good + [f"but {r}" for r in reasons_bad]
    if reasons_bad:
        verdict = "regressed"
    elif reasons_good:
        verdict = "improved"
    elif same_seq and a["changed"] == b["changed"]:
        verdict = "same"
    else:
        verdict = "changed"
    return {
        "a": sa.session, "b": sb.session, "metrics": metrics, "verdict": verdict,
        "reasons": reasons_bad or reasons_good, "same_tool_sequence": same_seq,
        "sequence_diff": diff, "sequences": {"a": a["sequence"][:200], "b": b["sequence"][:200]},
        "grades": {"a": a["grades"], "b": b["grades"]},
        "workspaces": {"a": a["workspace"], "b": b["workspace"]},
        "forks": {"a": a["fork"], "b": b["fork"]},
        "files": {"read_only_a": sorted(a["read"] - b["read"]), "read_only_b": sorted(b["read"] - a["read"]),
                  "changed_only_a": sorted(a["changed"] - b["changed"]),
                  "changed_only_b": sorted(b["changed"] - a["changed"])},
    }
