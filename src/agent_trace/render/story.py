"""``explain`` and ``timeline``: the session told as phases, without an LLM.

Both read :func:`agent_trace.analysis.phases.iter_phases`, so their numbers are the
shared summary's numbers.
"""

from __future__ import annotations

from .words import count

from ..analysis import toolfacts
from ..analysis.phases import Phase
from ..event.timefmt import human_duration, parse_iso
from .strace import cut


def _dur(p: Phase) -> float | None:
    if p.start and p.end:
        try:
            return max(0.0, parse_iso(p.end) - parse_iso(p.start))
        except ValueError:
            return None
    return None


def phase_dict(p: Phase) -> dict:
    c = p.counts
    return {
        "index": p.index, "prompt": p.prompt, "start": p.start, "end": p.end, "duration_s": _dur(p),
        "events": c["events"], "tool_calls": c["tool_calls"], "tool_errors": c["tool_errors"],
        "llm_calls": c["llm_calls"], "tokens": c["tokens"], "cost_usd": round(c["cost_usd"], 6),
        "files_read": sorted(p.read), "files_changed": sorted(p.changed),
        "commands": p.commands, "commands_total": p.commands_total,
        "failures": p.failures, "failures_total": p.failures_total,
        "recovered": sum(1 for f in p.failures if f["recovered"]),
        "subagents": c["subagents"], "decisions": c["decisions"],
    }


def _list(items, cwd, limit=8) -> str:
    shown = [toolfacts.relative(x, cwd) for x in list(items)[:limit]]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def explain_header(t: dict, n_phases: int) -> str:
    cost = f", ${t['cost_usd']:.4f}" if t["llm_calls"] else ""
    return (f"Session {t['session']} ({t.get('agent') or 'agent'}): {human_duration(t.get('duration_s'))}, "
            f"{count(n_phases, 'phase')}, {count(t['tool_calls'], 'tool call')} ({t['tool_errors']} failed), "
            f"{count(t['llm_calls'], 'LLM call')}{cost}.")


def explain_phase(p: dict, cwd: str | None) -> list[str]:
    out = []
    head = f'"{cut(p["prompt"], 70)}"' if p["prompt"] else "(before the first prompt)"
    pc = f", ${p['cost_usd']:.4f}" if p["llm_calls"] else ""
    out.append(f"Phase {p['index']}: {head}  [{human_duration(p['duration_s'])}, "
               f"{count(p['tool_calls'], 'tool call')}{pc}]")
    if p["files_read"]:
        out.append(f"  Read {count(len(p['files_read']), 'file')}: {_list(p['files_read'], cwd)}")
    if p["files_changed"]:
        out.append(f"  Changed {count(len(p['files_changed']), 'file')}: {_list(p['files_changed'], cwd)}")
    if p["commands_total"]:
        cmds = "; ".join(cut(c, 50) for c in p["commands"][:5])
        more = p["commands_total"] - min(5, len(p["commands"]))
        out.append(f"  Ran {count(p['commands_total'], 'command')}: {cmds}" + (f" (+{more} more)" if more else ""))
    for f in p["failures"][:6]:
        fate = "recovered later" if f["recovered"] else "not recovered"
        arg = f" {cut(toolfacts.relative(f['arg'], cwd), 40)}" if f["arg"] else ""
        out.append(f"  Failed: {f['tool']}{arg}: {cut(f['error'], 90)} ({fate})")
    if p["failures_total"] > 6:
        out.append(f"  ... and {count(p['failures_total'] - 6, 'more failure')}")
    for a in p["subagents"]:
        out.append(f"  Subagent {a} worked in this phase.")
    for k, v in p["decisions"].items():
        out.append(f"  Rules: {count(v, 'call')} {k}.")
    if not (p["files_read"] or p["files_changed"] or p["commands_total"] or p["failures"]):
        out.append(f"  {count(p['llm_calls'], 'LLM call')}, no file or shell activity.")
    return out


def explain_outcome(t: dict, failed: int, recovered: int) -> str:
    end = "ended" if t.get("ended") else "still open (or ended without a SessionEnd)"
    reason = f" ({t['end_reason']})" if t.get("end_reason") else ""
    return f"Outcome: session {end}{reason}; {count(failed, 'failure')}, {recovered} recovered."


def explain_lines(phases: list[dict], total: dict, cwd: str | None) -> list[str]:
    """The whole explanation at once (for the MCP server and small sessions)."""
    out = [explain_header(total, len(phases))]
    for p in phases:
        out += [""] + explain_phase(p, cwd)
    out += ["", explain_outcome(total, sum(p["failures_total"] for p in phases),
                                sum(p["recovered"] for p in phases))]
    return out


TIMELINE_HEAD = f"{'#':>3}  {'START':<12} {'DURATION':>9} {'TOOLS':>6} {'ERR':>4} {'LLM':>4} {'COST':>9}  PROMPT"


def timeline_lines(phases: list[dict], cwd: str | None) -> list[str]:
    out = [TIMELINE_HEAD]
    for p in phases:
        start = (p["start"] or "")[11:23]
        cost = f"${p['cost_usd']:.4f}" if p["llm_calls"] else "-"
        bar = "#" * min(40, max(1, int((p["duration_s"] or 0) ** 0.5 * 4))) if p["duration_s"] else ""
        out.append(f"{p['index']:>3}  {start:<12} {human_duration(p['duration_s']):>9} {p['tool_calls']:>6} "
                   f"{p['tool_errors']:>4} {p['llm_calls']:>4} {cost:>9}  {cut(p['prompt'] or '-', 50)}")
        if bar:
            out.append(f"{'':>17}{bar}")
    return out
