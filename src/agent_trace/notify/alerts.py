"""Alerts: one record per happening and target, before it becomes a message.

An alert says what happened (a headline), in which session and project,
under which rule and why, a few facts (cost, tokens, tool calls, branch) and
the command that shows it.  Its id is derived from the session, the trigger,
what fired it and the target, so every process that sees the same happening
(the hook, ``watch``, the collector) makes the same id and it is sent once.

Every string passes through the store's redaction before the alert is
queued or sent: a secret in a denied command's reason never reaches a chat.

Imported on the hook path when notifications are configured: cheap modules only.
"""

from __future__ import annotations

from .. import event as ev

MAX_TEXT = 500  # characters of a reason or error kept in a message


def _cut(text, n: int = MAX_TEXT):
    if not isinstance(text, str):
        return text
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def replay_command(session: str, trace_dir: str | None = None) -> str:
    """The command that shows what happened (quoted for a POSIX shell when needed)."""
    def q(s: str) -> str:
        return s if s and all(c.isalnum() or c in "-_./:@=+" for c in s) else "'" + s.replace("'", "'\\''") + "'"

    pre = f"agent-strace --trace-dir {q(trace_dir)} " if trace_dir else "agent-strace "
    return f"{pre}replay {q(session)} --failed"


def summary_facts(s) -> list[list[str]]:
    """Facts from a :class:`SessionSummary` (or its ``to_dict()``)."""
    get = s.get if isinstance(s, dict) else (lambda k, d=None: getattr(s, k, d))
    tokens = get("tokens") or {}
    out = []
    if get("llm_calls"):
        out.append(["Cost", f"${get('cost_usd') or 0:.4f}"])
        out.append(["Tokens", f"{sum(tokens.values()):,}"])
    out.append(["Tool calls", f"{get('tool_calls') or 0} ({get('tool_errors') or 0} failed)"])
    git = get("git")
    if isinstance(git, dict) and (git.get("branch") or git.get("end")):
        out.append(["Branch", f"{git.get('branch') or '(detached)'}@{(git.get('end') or '-')[:7]}"])
    return out


def project_of(s, fallback: str | None = None) -> str:
    get = s.get if isinstance(s, dict) else (lambda k, d=None: getattr(s, k, d))
    git = get("git") if s is not None else None
    if isinstance(git, dict) and git.get("project"):
        return git["project"]
    cwd = get("cwd") if s is not None else None
    if isinstance(cwd, str) and cwd.strip("/"):
        return cwd.rstrip("/").rsplit("/", 1)[-1]
    return fallback or "-"


def make(kind: str, target: dict, session: str, key: str, title: str, *, project: str = "-",
         agent: str | None = None, rule: str | None = None, reason: str | None = None, tool: str | None = None,
         facts: list | None = None, trace_dir: str | None = None, ts: str | None = None,
         command: str | None = None) -> dict:
    alert = {
        "id": ev.derived_id(session, "notify", f"{kind}\0{key}\0{target['key']}"),
        "target": target["key"], "kind": kind, "ts": ts or ev.now_iso(), "session": session,
        "project": project, "agent": agent, "title": _cut(title, 300), "rule": rule, "reason": _cut(reason),
        "tool": tool, "facts": facts or [],
        "command": command if command is not None else replay_command(session, trace_dir),
    }
    from ..event.redact import redact_value

    return redact_value(alert, [0])


def alert_id(kind: str, target: dict, session: str, key: str) -> str:
    """The id :func:`make` would give (to skip building alerts already queued)."""
    return ev.derived_id(session, "notify", f"{kind}\0{key}\0{target['key']}")


# -- the happenings --------------------------------------------------------------

DECISION_WORDS = {"denied": "Tool call denied", "stopped": "Session stopped", "killed": "Agent killed",
                  "paused": "Session paused"}


def decision(target: dict, event: dict, *, project: str = "-", summary=None, trace_dir: str | None = None) -> dict:
    """A ``rule.decision`` event (denied, stopped, killed, paused)."""
    status = event.get("status") or "?"
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    # type-checker: narrowed by isinstance() on the same .get()
    rule = event.get("name") or data.get("rule") or "?"  # type: ignore[union-attr]
    tool = event.get("tool")
    title = f"{DECISION_WORDS.get(status, status)} in {project}" + (f": {tool}" if tool else "") + f" (rule {rule})"
    facts = [["Session", event.get("session")], ["Project", project], ["Rule", rule]]
    if tool:
        facts.append(["Tool", tool])
    if summary is not None:
        facts += summary_facts(summary)
    return make(status, target, event["session"], event.get("id") or "", title, project=project,
                # type-checker: narrowed by isinstance() on the same .get()
                agent=data.get("agent") or event.get("source"), rule=rule, reason=data.get("reason"), tool=tool,  # type: ignore[union-attr]
                facts=facts, trace_dir=trace_dir, ts=event.get("ts"))


def budget_crossings(target: dict, spent: dict, limits: dict) -> list[tuple[str, float, float, float]]:
    """(metric, threshold %, value, limit) for every threshold of ``target``
    that ``spent`` has reached; metrics ``usd`` and ``tokens``."""
    out = []
    for metric in ("usd", "tokens"):
        limit = limits.get(metric)
        if not limit:
            continue
        value = spent.get(metric) or 0
        for pct in target["budget"]:
            if value >= limit * pct / 100:
                out.append((metric, pct, value, limit))
    return out


def _amount(metric: str, v: float) -> str:
    return f"${v:,.2f}" if metric == "usd" else f"{int(v):,} tokens"


def budget(target: dict, session: str, metric: str, pct: float, value: float, limit: float, *,
           project: str = "-", summary=None, trace_dir: str | None = None, agent: str | None = None) -> dict:
    title = (f"Session {session[:8]} in {project} passed {pct:g}% of its budget: "
             f"{_amount(metric, value)} of {_amount(metric, limit)}")
    facts = [["Session", session], ["Project", project], ["Budget", f"{pct:g}% of {_amount(metric, limit)}"]]
    if summary is not None:
        facts += summary_facts(summary)
    return make("budget", target, session, f"{metric}:{pct:g}", title, project=project, agent=agent,
                rule=f"budget.{metric}", reason=f"{_amount(metric, value)} spent of {_amount(metric, limit)}",
                facts=facts, trace_dir=trace_dir)


def daily_budget(target: dict, scope: str, name: str, day: str, metric: str, pct: float, value: float,
                 limit: float, *, last_session: str, trace_dir: str | None = None) -> dict:
    """Team-wide: a user's or project's spend on one UTC day (the collector)."""
    title = f"{scope.capitalize()} {name} passed {pct:g}% of the daily budget on {day}: " \
            f"{_amount(metric, value)} of {_amount(metric, limit)}"
    facts = [[scope.capitalize(), name], ["Day (UTC)", day], ["Budget", f"{pct:g}% of {_amount(metric, limit)}"],
             ["Latest session", last_session]]
    return make("budget", target, f"daily\0{scope}\0{name}\0{day}", f"{metric}:{pct:g}", title,
                project=name if scope == "project" else "-", rule=f"daily_budget.{metric}",
                reason=f"{_amount(metric, value)} spent by {scope} {name} on {day}", facts=facts,
                command=replay_command(last_session, trace_dir))


def session_failed(target: dict, session: str, why: str, *, project: str = "-", summary=None,
                   trace_dir: str | None = None, agent: str | None = None) -> dict:
    title = f"Session {session[:8]} in {project} failed: {_cut(why, 160)}"
    facts = [["Session", session], ["Project", project]]
    if summary is not None:
        facts += summary_facts(summary)
    return make("session_failed", target, session, "", title, project=project, agent=agent, reason=why,
                facts=facts, trace_dir=trace_dir)


def session_ended(target: dict, session: str, *, reason: str | None = None, project: str = "-", summary=None,
                  trace_dir: str | None = None, agent: str | None = None) -> dict:
    title = f"Session {session[:8]} in {project} ended" + (f" ({_cut(reason, 60)})" if reason else "")
    facts = [["Session", session], ["Project", project]]
    if summary is not None:
        facts += summary_facts(summary)
    return make("session_ended", target, session, "", title, project=project, agent=agent, reason=reason,
                facts=facts, trace_dir=trace_dir)


def sample(target: dict) -> dict:
    """What ``agent-strace notify test`` sends."""
    return make("test", target, "test-session-0000", ev.new_id(),
                "Test alert from agent-strace: notifications reach this channel", project="example/project",
                agent="claude-code", rule="deny.paths", reason="secrets/** matches denied path 'secrets/**'",
                tool="Write", facts=[["Session", "test-session-0000"], ["Project", "example/project"],
                                     ["Rule", "deny.paths"], ["Tool", "Write"]])
