"""Grades in a session: ``annotation`` events named ``grade`` (written by
``agent-strace grade``), the latest per verify command."""

from __future__ import annotations

from .. import event as ev


def grade_of(e: dict) -> dict | None:
    """The grade an event records, or None."""
    if e.get("type") != ev.ANNOTATION or e.get("name") != "grade":
        return None
    # type-checker: narrowed by isinstance() on the same .get()
    data: dict = e.get("data") if isinstance(e.get("data"), dict) else {}  # type: ignore[assignment]
    command = data.get("command")
    if not isinstance(command, str):
        return None
    return {"command": command, "label": data.get("label"), "passed": data.get("passed") is True,
            "exit_code": data.get("exit_code"), "timed_out": bool(data.get("timed_out")),
            "ts": e.get("ts"), "duration_ms": e.get("duration_ms")}


class Grades:
    """Fed event by event; :meth:`latest` is one grade per command (the last)."""

    def __init__(self):
        self.by_command: dict[str, dict] = {}

    def add(self, e: dict) -> None:
        if e.get("type") == ev.ANNOTATION:
            g = grade_of(e)
            if g is not None:
                self.by_command.pop(g["command"], None)  # keep the order of the latest grades
                self.by_command[g["command"]] = g

    def latest(self) -> list[dict]:
        return list(self.by_command.values())


def word(g: dict | None) -> str:
    if g is None:
        return "not graded"
    if g["passed"]:
        return "PASS"
    return "FAIL (timed out)" if g["timed_out"] else f"FAIL (exit {g['exit_code']})"
