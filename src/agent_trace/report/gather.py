"""Everything a PR report says about a session, in one pass over its events.

The numbers are the shared summary's (fed once, through the phases, as
``explain`` does); lint findings come from the same :class:`Linter` as
``lint``; files changed are the summary's, listed against the git diff by
:mod:`agent_trace.analysis.git_link`; the verdict is ``compare``'s.  Lists
are capped with their totals kept, so a huge session gives a small report.
"""

from __future__ import annotations

import os

from .. import event as ev
from ..analysis.git_link import files_against_diff
from ..analysis.phases import iter_phases
from ..analysis.summary import SessionSummary
from ..render.story import phase_dict
from ..store.reader import ReadStats
from ..store.timeline import iter_timeline

MAX_FINDINGS = 50
MAX_DECISIONS = 50


def gather(path: str, *, lint_config: dict | None = None, baseline: dict | None = None,
           tolerance: float = 20.0) -> dict:
    """The report's data for the session file at ``path``.  ``baseline``: a
    profile from :func:`baseline_profile` to compare against."""
    from ..lint.runner import Linter

    linter = Linter(lint_config)
    stats = ReadStats()
    total = SessionSummary()
    findings: list[dict] = []
    n_findings = 0
    decisions: list[dict] = []
    from ..analysis.compare import Profiler

    profiler = Profiler(total)  # as compare profiles a session, so the verdicts agree

    def feed():
        nonlocal n_findings
        for e in iter_timeline(path, stats, sizes=True):  # in time order, as explain, lint and compare read it
            found = linter.feed(e)
            if found:
                n_findings += len(found)
                findings.extend(f.as_dict() for f in found[: max(0, MAX_FINDINGS - len(findings))])
            t = e.get("type")
            if t == ev.RULE_DECISION and len(decisions) < MAX_DECISIONS:
                data = e.get("data") if isinstance(e.get("data"), dict) else {}
                decisions.append({"ts": e.get("ts"), "status": e.get("status"), "rule": e.get("name"),
                                  "tool": e.get("tool"), "reason": data.get("reason")})
            profiler.add(e)
            yield e

    phases = [phase_dict(p) for p in iter_phases(feed(), total)]
    s = total.to_dict()
    if s["session"] is None:
        s["session"] = os.path.basename(path).rsplit(".", 1)[0]
    out = {
        "session": s["session"], "file": path, "summary": s, "phases": phases,
        "failures": sum(p["failures_total"] for p in phases), "recovered": sum(p["recovered"] for p in phases),
        "findings": findings, "findings_total": n_findings, "lint_rules": len(linter.rules),
        "decisions": decisions, "decisions_total": sum(total.decisions.values()),
        "files": files_against_diff(s), "skipped": stats.as_dict(), "compare": None,
    }
    if baseline is not None:
        from ..analysis.compare import compare_profiles

        c = compare_profiles(baseline, profiler.result(), tolerance)
        c["baseline"] = baseline.get("label")
        out["compare"] = c
    return out


def baseline_profile(ref: str, store) -> dict:
    """A baseline from a session reference (id, prefix, ``latest``) or a
    cassette file (``*.json``)."""
    from ..analysis.compare import profile, profile_events

    if ref.endswith(".json") and os.path.isfile(ref):
        from ..cassette.as_events import events

        p = profile_events(events(ref))
        p["label"] = f"cassette {os.path.basename(ref)}"
        return p
    p = profile(store.resolve(ref))
    p["label"] = f"session {p['summary'].session}"
    return p
