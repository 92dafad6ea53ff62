"""What the hooks take from an agent's own session log, at their synchronous
points (Stop, SubagentStop, SessionEnd, and PreToolUse when a budget rule
needs usage up to now): Codex rollouts and Gemini CLI chat logs.

Only what the hooks cannot see is taken (``TAKE``): LLM turns with their
usage (Gemini's hooks drop cached tokens; Codex's PostModelRequest hook may
be missing or still running when a PreToolUse needs the total) and Gemini's
compactions.  The import itself is the one every log import uses
(:func:`agent_trace.capture.log_import.import_log`: a cursor per log and
kind of import, ids already in the session not written again), with the
whole-session parsers of ``import --all``.  Hook path: standard library,
cheap modules.
"""

from __future__ import annotations

import os

from .. import event as ev
from ..store.paths import Store

TAKE = {"codex": (ev.LLM_RESPONSE,), "gemini": (ev.LLM_RESPONSE, ev.COMPACT)}


def import_log(store: Store, sink, agent: str, path: str, session: str, final: bool = False) -> int:
    """Write the not-yet-recorded events of ``TAKE[agent]`` from one log;
    returns how many."""
    if not os.path.isfile(path):
        return 0
    from . import log_import
    from .log_parsers import parser_for

    return log_import.import_log(store, sink, path, session, final=final, take=TAKE[agent],
                                 parse=parser_for(agent)).events


def sync_usage(store: Store, sink, payload: dict, session: str, source: str) -> None:
    """Usage up to this moment from the agent's own log (PreToolUse with a
    budget rule): Claude Code's transcript, Codex's rollout, Gemini's chat log."""
    path = payload.get("transcript_path")
    if not isinstance(path, str):
        return
    if source == "claude-code":
        from . import log_import

        log_import.import_session(store, sink, path, session, final=False, llm_only=True)
    elif source in TAKE:
        import_log(store, sink, source, path, session)
