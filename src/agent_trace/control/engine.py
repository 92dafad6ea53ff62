"""The decision for one tool call, from the policy and the session so far.

Rule state is kept incrementally per session in ``state/rules/<session>.json``
(a rebuildable cache: the log offset read so far, the resumable shared
summary, the failure streak, the loop rule's state), so a hook deep into a
long session reads only the events appended since the previous hook.  The
state file is locked while it is updated (parallel hooks of one session).
A long-running caller (the daemon) keeps the same state in memory instead
(:class:`MemoryState`, :func:`decide_in_memory`).
"""

from __future__ import annotations

import fcntl
import os
import time

from .. import event as ev
from ..analysis import toolfacts
from ..event.fastjson import dumps, loads
from ..store.paths import Store, file_stem
from .globs import match_path, match_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from ..analysis.summary import SessionSummary
    from ..event import EventDict
    from .policy import Policy

    #: One session's rule state (the state file's JSON): offset, summary, fail_run, loop, loop_hits.
    RuleState = dict[str, Any]
    T = TypeVar("T")

STRENGTH = {"warn": 1, "deny": 2, "pause": 3, "stop": 4, "kill": 5}
STATUS = {"warn": ev.WARNED, "deny": ev.DENIED, "pause": ev.PAUSED, "stop": ev.STOPPED, "kill": ev.KILLED}


class Decision:
    __slots__ = ("action", "rule", "reason")

    def __init__(self, action: str, rule: str, reason: str):
        self.action, self.rule, self.reason = action, rule, reason

    def as_dict(self) -> dict[str, str]:
        return {"action": self.action, "rule": self.rule, "reason": self.reason}


def _state_paths(store: Store, session: str) -> tuple[str, str]:
    d = store.subdir(os.path.join("state", "rules"))
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, file_stem(session) + ".json")
    return p, p + ".lock"


_STATE_TYPES = {"offset": int, "fail_run": int, "loop": dict, "loop_hits": dict}


def _load_state(path: str, policy_key: str | None) -> RuleState:
    try:
        with open(path, "rb") as f:
            st = loads(f.read())
        if isinstance(st, dict) and st.get("policy") == policy_key \
                and all(isinstance(st.get(k), t) for k, t in _STATE_TYPES.items()) \
                and (st.get("summary") is None or isinstance(st["summary"], dict)):
            return st
    except (OSError, ValueError, RecursionError):
        pass
    return fresh_state(policy_key)


def fresh_state(policy_key: str | None) -> RuleState:
    return {"policy": policy_key, "offset": 0, "summary": None, "fail_run": 0, "loop": {}, "loop_hits": {}}


def _catch_up(store: Store, session: str, policy: Policy, st: RuleState,
              summary: SessionSummary | None = None) -> SessionSummary:
    """Feed the events appended since the last hook; returns the summary
    (``summary`` when given, else the one saved in ``st``)."""
    from ..store.reader import ReadStats, iter_events
    from ..analysis.summary import SessionSummary

    if summary is None:
        summary = SessionSummary.from_dict(st["summary"]) if st["summary"] else SessionSummary()
    loop_cfg = policy.get("loop")
    if loop_cfg:
        from ..lint.rules import loop as loop_rule
    path = store.path_for(session)
    if os.path.exists(path):
        stats = ReadStats()
        for e in iter_events(path, stats, start=st["offset"]):
            summary.add(e)
            t = e.get("type")
            if t == ev.TOOL_RESULT or t == ev.TOOL_ERROR:
                st["fail_run"] = st["fail_run"] + 1 if (t == ev.TOOL_ERROR or e.get("status") == ev.ERROR) else 0
            if loop_cfg and (t == ev.TOOL_CALL or t == ev.TOOL_RESULT or t == ev.TOOL_ERROR):
                found = loop_rule(e, st["loop"], loop_cfg)
                if found and e.get("tool_use_id"):
                    st["loop_hits"][e["tool_use_id"]] = found[0].message
        st["offset"] = stats.end
    return summary


def _rel(path: str, cwd: str | None, root: str) -> str:
    absolute = os.path.normpath(os.path.join(cwd or root, path))
    rel = os.path.relpath(absolute, root)
    return absolute if rel.startswith("..") else rel


def _shell_targets(command: str) -> list[str]:
    """Files a shell command writes by redirection or ``tee`` (best effort)."""
    out: list[str] = []
    words = command.replace(">>", " > ").replace(">", " > ").replace("|", " | ").replace(";", " ; ").split()
    for i, w in enumerate(words):
        if w == ">" and i + 1 < len(words) and not words[i + 1].startswith("&"):
            out.append(words[i + 1].strip("'\""))
        elif w == "tee":
            for arg in words[i + 1:]:
                if arg in ("|", ";", "&&"):
                    break
                if not arg.startswith("-"):
                    out.append(arg.strip("'\""))
    return [p for p in out if p not in ("/dev/null", "/dev/stderr", "/dev/stdout")]


def _subcommands(command: str) -> list[str]:
    parts = [command]
    for sep in ("&&", "||", ";", "|", "\n"):
        parts = [q for p in parts for q in p.split(sep)]
    return [" ".join(p.split()) for p in parts if p.strip()]


def _check_call(policy: Policy, call: EventDict, cwd: str | None) -> list[Decision]:
    out: list[Decision] = []
    root = policy["root"]
    tool = call.get("tool") or ""
    kind = toolfacts.kind(tool)
    cmd = toolfacts.command(call)
    written = [_rel(p, cwd, root) for p in toolfacts.files_written(call)]
    if cmd:
        written += [_rel(p, cwd, root) for p in _shell_targets(cmd)]
    read = [_rel(p, cwd, root) for p in toolfacts.files_read(call)]
    for rule in policy["deny"]:
        reason = rule.get("reason")
        scope_paths = written if rule["scope"] == "write" else read if rule["scope"] == "read" else written + read
        for pat in rule["paths"]:
            hit = next((p for p in scope_paths if match_path(pat, p)), None)
            if hit:
                out.append(Decision(rule["action"], "deny.paths", reason or f"{hit} matches denied path {pat!r}"))
                break
        if cmd:
            whole = " ".join(cmd.split())
            for pat in rule["commands"]:
                if match_text(pat, whole) or any(match_text(pat, c) for c in _subcommands(cmd)):
                    out.append(Decision(rule["action"], "deny.commands",
                                        reason or f"command matches denied pattern {pat!r}"))
                    break
        for pat in rule["tools"]:
            if match_text(pat, tool):
                out.append(Decision(rule["action"], "deny.tools", reason or f"tool {tool} is denied ({pat!r})"))
                break
    for rule in policy["allow"]:
        if rule["paths"]:
            scope_paths = written if rule["scope"] == "write" else read if rule["scope"] == "read" else written + read
            outside = [p for p in scope_paths if not any(match_path(pat, p) for pat in rule["paths"])]
            if outside:
                out.append(Decision(rule["action"], "allow.paths",
                                    rule.get("reason") or f"{outside[0]} is outside the allowed paths "
                                                          f"{', '.join(rule['paths'])}"))
        if rule["tools"] and kind != "shell" and not any(match_text(p, tool) for p in rule["tools"]) \
                and (tool.startswith("mcp__") or not all(p.startswith("mcp__") for p in rule["tools"])):
            out.append(Decision(rule["action"], "allow.tools", rule.get("reason") or f"tool {tool} is not allowed"))
    return out


def _check_totals(policy: Policy, summary: SessionSummary, st: RuleState, call: EventDict) -> list[Decision]:
    out: list[Decision] = []
    b = policy.get("budget")
    if b:
        if b["usd"] is not None and summary.cost_usd >= b["usd"]:
            out.append(Decision(b["action"], "budget.usd",
                                f"budget of ${b['usd']:.2f} reached: ${summary.cost_usd:.4f} of real usage"))
        tokens = sum(summary.tokens.values())
        if b["tokens"] is not None and tokens >= b["tokens"]:
            out.append(Decision(b["action"], "budget.tokens", f"token budget of {b['tokens']:,} reached: {tokens:,}"))
    lim = policy.get("limits")
    if lim:
        if lim["tool_calls"] is not None and summary.tool_calls > lim["tool_calls"]:
            out.append(Decision(lim["action"], "limits.tool_calls",
                                f"tool-call limit of {lim['tool_calls']} reached"))
        if lim["duration_s"] is not None and summary.started:
            elapsed = time.time() - ev.iso_to_epoch(summary.started)
            if elapsed > lim["duration_s"]:
                out.append(Decision(lim["action"], "limits.duration",
                                    f"time limit of {lim['duration_s']:.0f}s reached ({elapsed:.0f}s)"))
        if lim["consecutive_failures"] is not None and st["fail_run"] >= lim["consecutive_failures"]:
            out.append(Decision(lim["action"], "limits.consecutive_failures",
                                f"{st['fail_run']} tool calls failed in a row"))
    lp = policy.get("loop")
    if lp and call.get("tool_use_id") in st["loop_hits"]:
        out.append(Decision(lp["action"], "loop", st["loop_hits"].pop(call["tool_use_id"])))
    return out


def _unreadable_log(policy: Policy, e: OSError) -> list[Decision]:
    """The deny owed when the session log cannot be read and the policy has
    rules that need it (budget, limits, loop)."""
    if not _needs_log(policy):
        return []
    return [Decision("deny", "store", f"the session log cannot be read ({e.strerror or e}), "
                                      "so budget and limits cannot be checked")]


def _needs_log(policy: Policy) -> bool:
    return bool(policy.get("budget") or policy.get("limits") or policy.get("loop"))


def _with_state(store: Store, policy: Policy, policy_key: str | None, session: str,
                check: Callable[[SessionSummary, RuleState], T]) -> tuple[T, SessionSummary]:
    """Catch the session's rule state up under its lock, run ``check(summary,
    state)``, save the state; returns (check's result, summary).

    The per-session state is a cache: when it cannot be locked, read or
    written (full disk, read-only store) the summary is made from the log
    alone and the state is not saved.  When the log itself cannot be read
    the ``OSError`` propagates (:func:`decide` turns it into a deny)."""
    fd: int | None = None
    path: str | None = None
    try:
        path, lock = _state_paths(store, session)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        if fd is not None:
            os.close(fd)
        fd = path = None
    try:
        st = _load_state(path, policy_key) if path else fresh_state(policy_key)
        try:
            summary = _catch_up(store, session, policy, st)
        except (TypeError, ValueError, KeyError, AttributeError):
            st = fresh_state(policy_key)  # a saved state this version cannot resume: read the log whole
            summary = _catch_up(store, session, policy, st)
        result = check(summary, st)
        if path:
            st["summary"] = summary.to_dict(resumable=True)
            try:
                tmp = f"{path}.{os.getpid()}.tmp"
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(dumps(st))
                os.replace(tmp, path)
            except (OSError, ValueError):
                pass  # a cache: the next hook reads the log from the last saved offset
    finally:
        if fd is not None:
            os.close(fd)
    return result, summary


def session_summary(store: Store, policy: Policy, policy_key: str | None, session: str) -> SessionSummary:
    """The session's shared summary as the rules engine keeps it (only what
    was appended since the last hook is read)."""
    return _with_state(store, policy, policy_key, session, lambda summary, st: None)[1]


def decide(store: Store, policy: Policy, policy_key: str | None, session: str, call: EventDict,
           cwd: str | None) -> tuple[Decision | None, SessionSummary]:
    """(strongest decision or None, summary).  ``call`` is the tool.call event
    just written for this PreToolUse.  When the session log cannot be read
    and the policy has budget, limits or loop rules, those cannot be checked,
    so the call is denied."""
    decisions = _check_call(policy, call, cwd)
    try:
        totals, summary = _with_state(store, policy, policy_key, session,
                                      lambda summary, st: _check_totals(policy, summary, st, call))
        decisions += totals
    except OSError as e:
        from ..analysis.summary import SessionSummary

        summary = SessionSummary()
        decisions += _unreadable_log(policy, e)
    return _strongest(decisions), summary


class MemoryState:
    """One session's rule state held in memory by a long-running caller: the
    same fields as the state file, the summary kept as an object."""

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self.st: RuleState | None = None
        self.summary: SessionSummary | None = None

    def catch_up(self, store: Store, session: str, policy: Policy | None, policy_key: str | None) -> None:
        """Bring the state up to the end of the session file (call with ``lock`` held)."""
        if self.st is None or self.st["policy"] != policy_key:
            self.st, self.summary = fresh_state(policy_key), None
        self.summary = _catch_up(store, session, policy or {}, self.st, self.summary)


def decide_in_memory(store: Store, policy: Policy, policy_key: str | None, session: str, call: EventDict,
                     cwd: str | None, mem: MemoryState) -> tuple[Decision | None, SessionSummary]:
    """:func:`decide` with the state in ``mem`` instead of the state file."""
    with mem.lock:
        decisions = _check_call(policy, call, cwd)
        try:
            mem.catch_up(store, session, policy, policy_key)
        except OSError as e:
            decisions += _unreadable_log(policy, e)
            from ..analysis.summary import SessionSummary

            return _strongest(decisions), mem.summary or SessionSummary()
        assert mem.st is not None and mem.summary is not None  # catch_up set them
        decisions += _check_totals(policy, mem.summary, mem.st, call)
        return _strongest(decisions), mem.summary


def _strongest(decisions: list[Decision]) -> Decision | None:
    if not decisions:
        return None
    decisions.sort(key=lambda d: -STRENGTH[d.action])
    top = decisions[0]
    if len(decisions) > 1:
        top = Decision(top.action, top.rule, top.reason + "; also: " + "; ".join(d.reason for d in decisions[1:3]))
    return top
