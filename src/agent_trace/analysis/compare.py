"""Structural comparison of two sessions, with a verdict for CI.

Compares the shared summaries (tool calls, errors, tokens, cost, duration),
the tool-call sequences (a unified diff of tool names) and the files touched.
The verdict is ``same``, ``improved``, ``regressed`` or ``changed``: B regressed
when it has more tool errors, or costs/takes/uses more than ``tolerance``
(default 20%) beyond A.
"""

from __future__ import annotations

import difflib

from .. import event as ev
from . import toolfacts
from .summary import SessionSummary
from ..store.timeline import iter_timeline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_SEQ = 5000  # tool names kept per side for the sequence diff


def profile(path: str) -> dict:
    return profile_events(iter_timeline(path))


def profile_events(events) -> dict:
    """The profile of any stream of events (a stored session, a cassette read
    back as events)."""
    s = SessionSummary()
    seq: list[Any] = []
    read: set[str] = set()
    changed: set[str] = set()
    for e in events:
        s.add(e)
        if e.get("type") == ev.TOOL_CALL:
            if len(seq) < MAX_SEQ:
                seq.append(str(e.get("tool") or "?"))
            read.update(toolfacts.files_read(e))
            changed.update(toolfacts.files_written(e))
    return {"summary": s, "sequence": seq, "read": read, "changed": changed}


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
        ("tool_calls", sa.tool_calls, sb.tool_calls),
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
        "sequence_diff": diff,
        "files": {"read_only_a": sorted(a["read"] - b["read"]), "read_only_b": sorted(b["read"] - a["read"]),
                  "changed_only_a": sorted(a["changed"] - b["changed"]),
                  "changed_only_b": sorted(b["changed"] - a["changed"])},
    }
