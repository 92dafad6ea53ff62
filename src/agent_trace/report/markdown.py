"""The report as Markdown for a pull request comment (``markdown``) or a
GitHub Actions job summary (``github``).

Everything taken from a session (prompts, file names, reasons, errors) is
escaped: it cannot open HTML, close a ``<details>``, make a link or mention
anyone.  The output fits ``max_chars``: the details (phases, findings,
decisions, files) are collapsed and shortened step by step until it does;
the headline table is always kept.
"""

from __future__ import annotations

from ..analysis.git_link import git_line, short
from ..event.timefmt import human_duration

MARKER = "<!-- agent-strace-report -->"
COMMENT_MAX = 60_000  # GitHub refuses comments over 65,536 characters
SUMMARY_MAX = 1_000_000  # a job summary step may add up to 1 MiB

_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|~"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;",
                                                                     "@": "@\u200b", "\n": " ", "\r": " "})


def esc(text, limit: int = 300) -> str:
    """Plain text, safe anywhere in Markdown (also inside table cells)."""
    s = " ".join(str(text).split())
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return s.translate(_SPECIAL)


def code(text, limit: int = 200) -> str:
    """Inline code: nothing inside renders (mentions, links, HTML)."""
    s = " ".join(str(text).split())
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    s = s.replace("`", "'").replace("|", "\\|")
    return f"`{s}`" if s else "``"


def _money(x) -> str:
    return f"${x or 0:.4f}" if (x or 0) < 1 else f"${x:.2f}"


def _tokens(s: dict) -> int:
    return sum((s.get("tokens") or {}).values())


def _rel(path: str, s: dict) -> str:
    from ..analysis.toolfacts import relative

    return relative(path, (s.get("git") or {}).get("root") or s.get("cwd"))


def headline(reports: list[dict]) -> str:
    n = len(reports)
    cost = sum(r["summary"]["cost_usd"] for r in reports)
    calls = sum(r["summary"]["tool_calls"] for r in reports)
    errors = sum(r["summary"]["tool_errors"] for r in reports)
    findings = sum(r["findings_total"] for r in reports)
    llm = sum(r["summary"]["llm_calls"] for r in reports)
    parts = [f"{n} session{'s' if n != 1 else ''}", _money(cost) if llm else "no LLM usage recorded",
             f"{calls} tool calls ({errors} failed)",
             f"lint: {findings} finding{'s' if findings != 1 else ''}"]
    denied = sum(r["decisions_total"] for r in reports)
    if denied:
        parts.append(f"rules: {denied} decision{'s' if denied != 1 else ''}")
    verdicts = [r["compare"]["verdict"] for r in reports if r.get("compare")]
    if verdicts:
        worst = next((v for v in ("regressed", "changed", "improved", "same") if v in verdicts), verdicts[0])
        parts.append(f"verdict: **{worst.upper()}**")
    return "### agent-strace: " + " · ".join(parts)


def table(reports: list[dict]) -> list[str]:
    out = ["| session | agent | branch | duration | tool calls | failed | LLM calls | tokens | cost | rules |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in reports:
        s = r["summary"]
        git = s.get("git") or {}
        branch = code(f"{git.get('branch') or '(detached)'}@{short(git.get('end'))}") if git else "-"
        rules = ", ".join(f"{v} {k}" for k, v in sorted((s.get("decisions") or {}).items())) or "-"
        out.append(f"| {code(r['session'][:12])} | {esc(s.get('agent') or '-', 30)} | {branch} | "
                   f"{human_duration(s.get('duration_s'))} | {s['tool_calls']} | {s['tool_errors']} | "
                   f"{s['llm_calls']} | {_tokens(s):,} | {_money(s['cost_usd'])} | {esc(rules, 80)} |")
    return out


class Budget:
    """How much detail each collapsed section may keep (shrunk until the
    report fits)."""

    def __init__(self, level: int):
        self.level = level
        self.phases = (30, 10, 3, 0)[level]
        self.lines_per_phase = (12, 6, 3, 0)[level]
        self.findings = (50, 20, 5, 0)[level]
        self.decisions = (50, 20, 5, 0)[level]
        self.files = (100, 30, 10, 0)[level]


def _details(summary: str, lines: list[str], open_: bool = False) -> list[str]:
    if not lines:
        return []
    return [f"<details{' open' if open_ else ''}><summary>{summary}</summary>", "", *lines, "", "</details>", ""]


def session_section(r: dict, b: Budget, github: bool) -> list[str]:
    from ..render.story import explain_header, explain_outcome, explain_phase

    s = r["summary"]
    title = f" {esc(s['title'], 100)}" if s.get("title") else ""
    out = [f"#### Session {code(r['session'])}{title}", ""]
    out.append(esc(explain_header(s, len(r["phases"])), 400) + " " + esc(explain_outcome(s, r["failures"],
                                                                                           r["recovered"]), 300))
    out.append("")
    gl = git_line(s.get("git"))
    if gl:
        where = (s.get("git") or {}).get("project")
        out += [f"Git: {code(gl)}" + (f" in {esc(where, 80)}" if where else ""), ""]
    if b.phases and r["phases"]:
        lines = []
        for p in r["phases"][: b.phases]:
            text = explain_phase(p, s.get("cwd"))
            lines.append(f"- {esc(text[0], 200)}")
            lines += [f"  - {esc(x.strip(), 200)}" for x in text[1: 1 + b.lines_per_phase]]
        if len(r["phases"]) > b.phases:
            lines.append(f"- ... {len(r['phases']) - b.phases} more phase(s) (agent-strace explain shows all)")
        out += _details(f"What the agent did: {len(r['phases'])} phase(s)", lines, open_=github)
    out += _files(r, b)
    if r["findings_total"]:
        lines = ["| severity | rule | event | finding |", "|---|---|---:|---|"]
        for f in r["findings"][: b.findings]:
            lines.append(f"| {esc(f['severity'], 10)} | {esc(f['rule'], 30)} | {f['index'] or ''} | "
                         f"{esc(f['message'], 200)} |")
        if r["findings_total"] > min(b.findings, len(r["findings"])):
            lines.append(f"\n... {r['findings_total'] - min(b.findings, len(r['findings']))} more "
                         f"(agent-strace lint {r['session'][:12]})")
        out += _details(f"Lint: {r['findings_total']} finding(s)", lines)
    else:
        out += [f"Lint: no findings ({r['lint_rules']} rules).", ""]
    if r["decisions_total"]:
        counts = ", ".join(f"{v} {k}" for k, v in sorted((s.get("decisions") or {}).items()))
        lines = [f"- {esc(str(d['status']).upper(), 12)} {code(d['tool'] or '-', 40)} by {esc(d['rule'] or '?', 40)}: "
                 f"{esc(d['reason'] or '', 200)}" for d in r["decisions"][: b.decisions]]
        if r["decisions_total"] > len(lines):
            lines.append(f"- ... {r['decisions_total'] - len(lines)} more (agent-strace replay {r['session'][:12]} "
                         "--type rule)")
        out += _details(f"Rule decisions: {esc(counts, 200)}", lines)
    out += _compare(r)
    replay = "agent-strace replay " + r["session"] + " --failed"
    out += [f"<sub>{code(replay, 120)}</sub>", ""]
    return out


def _files(r: dict, b: Budget) -> list[str]:
    s = r["summary"]
    changed = s.get("files_changed") or []
    vs = r.get("files")
    if not changed and not vs:
        return []
    if vs is None:
        lines = [f"- {code(_rel(p, s), 150)}" for p in changed[: b.files]]
        more = len(changed) - len(lines)
        if more > 0:
            lines.append(f"- ... {more} more")
        return _details(f"Files changed by the agent's edit tools: {len(changed)} (no git diff recorded)", lines)
    lines = []
    for label, key in (("in the diff", "in_diff"), ("not in the diff (reverted, unchanged or ignored)", "not_in_diff"),
                       ("in the diff but not written by an edit tool (shell, generators, others)", "diff_only")):
        items = vs[key]
        if items:
            shown = ", ".join(code(p, 150) for p in items[: b.files])
            lines.append(f"- {esc(label, 100)} ({len(items)}): {shown}" + (" ..." if len(items) > b.files else ""))
    summary = (f"Files: {len(changed)} changed by the agent's edit tools, {vs['diff_total']} in the diff since "
               "the start commit")
    return _details(summary, lines) if b.files else [summary, ""]


def _compare(r: dict) -> list[str]:
    c = r.get("compare")
    if not c:
        return []
    why = f" ({esc('; '.join(c['reasons']), 300)})" if c["reasons"] else ""
    lines = ["| metric | baseline | this run | change |", "|---|---:|---:|---:|"]
    for k, m in c["metrics"].items():
        pct = "" if m["pct"] is None else ("new" if m["pct"] == float("inf") else f"{m['pct']:+.0f}%")
        fmt = (lambda v: f"{v:.4f}") if k == "cost_usd" else (lambda v: f"{v:.1f}") if k == "duration_s" \
            else (lambda v: f"{v:,}")
        lines.append(f"| {k} | {fmt(m['a'])} | {fmt(m['b'])} | {pct} |")
    lines.append("")
    lines.append("Tool sequence: " + ("identical" if c["same_tool_sequence"] else "differs"))
    return [f"Compared with {esc(c.get('baseline') or 'the baseline', 120)}: **{c['verdict'].upper()}**{why}", ""] \
        + _details("Metrics", lines)


def render(reports: list[dict], fmt: str = "markdown", max_chars: int | None = None, marker: bool = False) -> str:
    """The report, within ``max_chars`` (default: a PR comment's limit for
    ``markdown``, a job summary's for ``github``)."""
    github = fmt == "github"
    limit = max_chars or (SUMMARY_MAX if github else COMMENT_MAX)
    from .. import __version__

    for level in range(4):
        b = Budget(level)
        lines = [MARKER] if marker else []
        lines += [headline(reports), "", *table(reports), ""]
        for r in reports:
            lines += session_section(r, b, github)
        lines.append(f"<sub>agent-strace {__version__}</sub>")
        text = "\n".join(lines) + "\n"
        if len(text) <= limit:
            return text
    note = "\n\n... (cut to fit; `agent-strace report` prints it all)\n"
    return text[: max(0, limit - len(note))] + note
