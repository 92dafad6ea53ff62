"""Making ``stop`` and ``kill`` true for each agent, after the hook answered.

* ``kill``: SIGTERM to the agent process (every agent).
* ``stop`` for Codex CLI: its PreToolUse parser rejects ``continue: false``
  (the hook would be marked failed and the tool would run), so the call is
  denied with a valid answer and the turn is interrupted with SIGINT to the
  Codex process, what Ctrl-C does: Codex fires its Interrupt hook and ends
  the turn ("turn interrupted"; ``codex exec`` exits).  Until that turn is
  over, every further call of it is denied too ("sticky" stop), so even an
  interrupt that came late lets nothing run.
* ``stop`` for Claude Code, Gemini CLI and OpenCode: the answer's
  ``continue: false`` ends the turn (:mod:`.answer`).

Denied Gemini calls are closed in the call pairing (no AfterTool follows).
Hook path: standard library, cheap modules (``signal`` imports ``enum``:
plain numbers instead).
"""

from __future__ import annotations

import os

from ..event.fastjson import dumps, loads
from ..store.paths import Store, file_stem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..event import EventDict
    from .engine import Decision

    AgentPid = int | Callable[[], int | None] | None  # see _pid

SIGINT, SIGTERM = 2, 15


def agent_pid() -> int | None:
    """The agent process above this hook (:mod:`.agent_process`)."""
    from .agent_process import agent_process

    return agent_process()


def _pid(pid: AgentPid) -> int | None:
    """``pid``: a number, a callable giving one (the daemon: the peer's
    agent), or None (a command hook: the agent above this process)."""
    if callable(pid):
        pid = pid()
    return pid or agent_pid()


def _stop_path(store: Store, session: str) -> str:
    folder = store.subdir(os.path.join("state", "stopped"))
    return os.path.join(folder, file_stem(session) + ".json")


def stopped_turn(store: Store, session: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The stop still in force for this call's turn (Codex), if any."""
    turn = payload.get("turn_id")
    if not isinstance(turn, str):
        return None
    try:
        with open(_stop_path(store, session), "rb") as f:
            st = loads(f.read())
    except (OSError, ValueError):
        return None
    return st if isinstance(st, dict) and st.get("turn") == turn else None


def act(store: Store, source: str, decision: Decision, payload: dict[str, Any], call: EventDict,
        pid: AgentPid = None) -> None:
    """Carry out a decision the hook has answered (signals, stop state);
    ``pid``: see :func:`_pid`."""
    if decision.action in ("deny", "stop", "kill", "pause"):
        from ..capture.gemini_calls import close

        close(store, call)
    if decision.action == "stop" and source == "codex":
        turn = payload.get("turn_id")
        if isinstance(turn, str):
            path = _stop_path(store, call["session"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(dumps({"turn": turn, "rule": decision.rule, "reason": decision.reason}))
        target = _pid(pid)
        if target:
            os.kill(target, SIGINT)
    elif decision.action == "kill":
        target = _pid(pid)
        if target:
            os.kill(target, SIGTERM)
