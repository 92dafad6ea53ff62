"""``agent-strace grade``: run a verify command (tests, a linter) in a
session's workspace and record how it went, as an event of that session.

The event is an ``annotation`` named ``grade`` (a note a tool adds to a
session: no new event type, so every reader, exporter and collector already
carries it): ``status`` ``ok`` when the command exited 0, else ``error``;
``duration_ms``; ``data``: ``command``, ``cwd``, ``exit_code``, ``passed``,
``timed_out``, and the last lines of its output (redacted like every event).
"""

from __future__ import annotations

import os
import subprocess
import time

from .. import event as ev

NAME = "grade"
TAIL_CHARS = 4000


def _tail(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return text if len(text) <= TAIL_CHARS else "..." + text[-TAIL_CHARS:]


def run_verify(command: str, cwd: str, timeout: float | None = None) -> dict:
    """Run ``command`` through the shell in ``cwd``; its outcome as event data."""
    t0 = time.perf_counter()
    timed_out = False
    try:
        p = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        code, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        timed_out, code = True, None
        out, err = e.stdout or b"", (e.stderr or b"") + f"\n[timed out after {timeout:g} s]".encode()
    return {"command": command, "cwd": os.path.abspath(cwd), "exit_code": code, "passed": code == 0,
            "timed_out": timed_out, "duration_ms": round((time.perf_counter() - t0) * 1000, 3),
            "stdout_tail": _tail(out), "stderr_tail": _tail(err)}


def grade_event(session: str, result: dict, label: str | None = None) -> dict:
    data = {k: v for k, v in result.items() if k != "duration_ms"}
    if label:
        data["label"] = label
    error = None
    if not result["passed"]:
        why = "timed out" if result["timed_out"] else f"exit {result['exit_code']}"
        error = {"message": f"verify failed ({why}): {result['command']}"}
    return ev.make_event(ev.ANNOTATION, session, "agent-strace", name=NAME, status=ev.OK if result["passed"]
                         else ev.ERROR, duration_ms=result["duration_ms"], error=error, data=data)
