"""One line per event, the way strace prints a system call.

    12:01:03.120 Edit(src/app.py) = ok 12ms
    12:01:04.002 Bash(cat missing.txt) = ERROR (exit 1: No such file or directory) 14ms
    12:01:05.300   [agent a1b2] Read(notes.txt) = ok 3ms

Tool calls and their results are paired by ``tool_use_id``: the call prints
nothing by itself, the result prints the whole line (a call still running at
the end is printed as ``= ?``).  Long values are cut with ``...``; colour only
when asked (the CLI asks on a TTY).
"""

from __future__ import annotations

from ..event.timefmt import event_duration

from .. import event as ev

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_ARG = 60

# The one argument worth showing per well-known tool input.
ARG_KEYS = ("file_path", "path", "command", "pattern", "url", "query", "prompt", "description",
            "notebook_path", "text", "name", "uri")

RED, GREEN, DIM, YELLOW, RESET = "\033[31m", "\033[32m", "\033[2m", "\033[33m", "\033[0m"


def cut(text: str, limit: int = MAX_ARG) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def tool_arg(event: dict, cwd: str | None = None) -> str:
    data = event.get("data")
    inp = data.get("tool_input") if isinstance(data, dict) else None
    if inp is None and isinstance(data, dict):
        inp = data.get("arguments") or (data.get("params") or {}).get("arguments")
    if isinstance(inp, dict):
        for k in ARG_KEYS:
            v = inp.get(k)
            if isinstance(v, str) and v:
                if cwd and k.endswith("path") and v.startswith(cwd.rstrip("/") + "/"):
                    v = v[len(cwd.rstrip("/")) + 1:]
                return cut(v)
        if inp:
            k, v = next(iter(inp.items()))
            if not isinstance(v, str):  # as JSON, like the VS Code extension and the dashboard
                import json

                v = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
            return cut(f"{k}={v}")
    return ""


def error_text(event: dict) -> str:
    err = event.get("error") or {}
    msg = err.get("message", "") if isinstance(err, dict) else str(err)
    lines = [x for x in str(msg).splitlines() if x.strip()]
    if lines and lines[0].startswith("Exit code "):
        code = lines[0][len("Exit code "):].strip()
        detail = lines[-1] if len(lines) > 1 else ""
        if ": " in detail:
            detail = detail.rsplit(": ", 1)[-1]
        return f"exit {code}: {cut(detail, 80)}" if detail else f"exit {code}"
    return cut(lines[0] if lines else "error", 100)


def _ms(event: dict) -> str:
    return event_duration(event.get("duration_ms"))


def _framework_note(event: dict) -> str:
    """A framework integration's handoff, guardrail or graph node, strace-style."""
    d, name = event["data"], event.get("name") or "?"
    if name == "handoff":
        return f"handoff({d.get('from_agent') or '?'} -> {d.get('to_agent') or '?'})"
    if name == "guardrail":
        return f"guardrail({d.get('guardrail') or '?'}) = {'TRIPPED' if d.get('triggered') else 'passed'}"
    if name == "node":
        return f"node({d.get('node') or '?'}) = {event.get('status') or 'ok'}"
    return f"{name}()"


class Formatter:
    """Stateful: remembers open tool calls to pair them with their results."""

    def __init__(self, color: bool = False, cwd: str | None = None):
        self.color = color
        self.cwd = cwd
        self.open: dict[str, dict] = {}

    def _c(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self.color else text

    def _prefix(self, event: dict) -> str:
        ts = event.get("ts", "")
        clock = ts[11:23] if len(ts) >= 23 else ts
        agent = event.get("agent_id")
        indent = f"  [agent {agent[:8]}] " if agent else ""
        return f"{self._c(DIM, clock)} {indent}"

    def line(self, event: dict) -> str | None:
        t = event.get("type")
        if t == ev.SESSION_START and self.cwd is None:
            data: Any = event.get("data")  # any JSON value (checked where used)
            if isinstance(data, dict) and isinstance(data.get("cwd"), str):
                self.cwd = data["cwd"]
        p = self._prefix(event)
        if t == ev.TOOL_CALL:
            tid = event.get("tool_use_id")
            if tid:
                self.open[tid] = event
                return None
            return f"{p}{event.get('tool') or '?'}({tool_arg(event, self.cwd)}) = ?"
        if t in (ev.TOOL_RESULT, ev.TOOL_ERROR):
            # type-checker: an event without the id just misses
            call = self.open.pop(event.get("tool_use_id"), None) or event  # type: ignore[arg-type]
            tool = event.get("tool") or call.get("tool") or "?"
            head = f"{tool}({tool_arg(call, self.cwd) or tool_arg(event, self.cwd)})"
            if t == ev.TOOL_ERROR or event.get("status") == ev.ERROR:
                return f"{p}{head} = {self._c(RED, 'ERROR (' + error_text(event) + ')')}{_ms(event)}"
            return f"{p}{head} = {self._c(GREEN, 'ok')}{_ms(event)}"
        if t == ev.USER_PROMPT:
            prompt = (event.get("data") or {}).get("prompt", "") if isinstance(event.get("data"), dict) else ""
            return f"{p}{self._c(YELLOW, 'prompt')}(\"{cut(prompt)}\")"
        if t == ev.LLM_RESPONSE:
            u = event.get("usage") or {}
            stop = (event.get("data") or {}).get("stop_reason") if isinstance(event.get("data"), dict) else None
            toks = f"in={u.get('input', 0)} out={u.get('output', 0)} cache_r={u.get('cache_read', 0)}"
            return f"{p}llm({event.get('model') or '?'}) = {stop or event.get('status') or 'ok'} [{toks}]"
        if t == ev.RULE_DECISION:
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            reason = f" ({cut(data['reason'], 80)})" if data.get("reason") else ""
            status = str(event.get("status") or "?").upper()
            # type-checker: an event without the id just misses
            call = self.open.pop(event.get("tool_use_id"), None) if status != "WARNED" else None  # type: ignore[arg-type, assignment]
            if call is not None:
                head = f"{call.get('tool') or '?'}({tool_arg(call, self.cwd)})"
                return f"{p}{head} = {self._c(RED, status)} by {event.get('name')}{reason}"
            return f"{p}{self._c(RED, 'rule')}({event.get('name')}) = {status}{reason}"
        if t == ev.POSTMORTEM:
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            return f"{p}{self._c(RED, 'postmortem')}({event.get('name')}) = {data.get('action', '?')}"
        if t == ev.ANNOTATION and event.get("name") == "grade":
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            result = self._c(GREEN, "PASS") if data.get("passed") else self._c(
                RED, "FAIL (timed out)" if data.get("timed_out") else f"FAIL (exit {data.get('exit_code')})")
            return f"{p}grade(\"{cut(str(data.get('command') or ''))}\") = {result}{_ms(event)}"
        if t in (ev.SUBAGENT_START, ev.SUBAGENT_STOP):
            verb = "start" if t == ev.SUBAGENT_START else "stop"
            return f"{p}subagent_{verb}({event.get('agent_type') or ''}) = {event.get('agent_id', '?')}"
        if t == ev.SESSION_START:
            return f"{p}session_start({event.get('session')})"
        if t == ev.SESSION_END:
            # type-checker: guarded by the isinstance() check on the same .get()
            reason = (event.get("data") or {}).get("reason") if isinstance(event.get("data"), dict) else None  # type: ignore[assignment]
            return f"{p}session_end({reason or ''})"
        if t == ev.TURN_END:
            return f"{p}turn_end() = {event.get('status') or 'ok'}"
        if t == ev.MCP_MESSAGE:
            return f"{p}mcp {event.get('direction', '')} {event.get('method') or ''} id={event.get('rpc_id')}"
        if t == ev.GENERIC and isinstance(event.get("data"), dict) and event["data"].get("framework"):
            return f"{p}{_framework_note(event)}"
        return f"{p}{t}({event.get('name') or ''})"

    def pending(self) -> list[str]:
        """Lines for calls that never got a result."""
        out = [f"{self._prefix(e)}{e.get('tool') or '?'}({tool_arg(e, self.cwd)}) = ?" for e in self.open.values()]
        self.open.clear()
        return out
