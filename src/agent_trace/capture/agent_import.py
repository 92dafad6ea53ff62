"""Events from an agent's own session log, at the hooks' synchronous points
(Stop, SubagentStop, SessionEnd, and PreToolUse when a budget rule needs
usage up to now): Codex rollouts and Gemini CLI chat logs.

Only what the hooks cannot see is taken (``TAKE``): LLM turns with their
usage (Gemini's hooks drop cached tokens; Codex's PostModelRequest hook may
be missing or still running when a PreToolUse needs the total) and Gemini's
compactions.  Incremental: a cursor per log (``state/agent-logs/``,
rebuildable) remembers the byte offset parsed so far; ids already in the
session (from a hook, the LLM proxy, an earlier import) are not written
again.  Hook path: standard library, cheap modules.
"""

from __future__ import annotations

import fcntl
import os
import zlib

from .. import event as ev
from ..event.fastjson import dumps, loads
from ..store.paths import Store, file_stem

TAKE = {"codex": (ev.LLM_RESPONSE,), "gemini": (ev.LLM_RESPONSE, ev.COMPACT)}


def _parser(agent: str):
    if agent == "codex":
        from .codex_rollout import parse_log
    else:
        from .gemini_chat import parse_log
    return parse_log


def _ids_in_session(store: Store, session: str, types) -> set[str]:
    needles = [f'"{t}"'.encode() for t in types]
    ids: set[str] = set()
    try:
        f = open(store.path_for(session), "rb")
    except OSError:
        return ids
    with f:
        for line in f:
            if any(n in line for n in needles):
                try:
                    ids.add(loads(line.decode("utf-8", "surrogateescape")).get("id"))
                except (ValueError, AttributeError):
                    pass
    return ids


def import_log(store: Store, sink, agent: str, path: str, session: str, final: bool = False) -> int:
    """Write the not-yet-recorded events of ``TAKE[agent]`` from one log;
    returns how many."""
    if not os.path.isfile(path):
        return 0
    state_dir = store.subdir(os.path.join("state", "agent-logs"))
    os.makedirs(state_dir, exist_ok=True)
    ident = f"{session}\0{os.path.abspath(path)}".encode("utf-8", "surrogatepass")
    cursor_path = os.path.join(state_dir, f"{file_stem(session)[:60]}-{zlib.crc32(ident):08x}.json")
    fd = os.open(cursor_path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        start = 0
        try:
            with open(cursor_path, "rb") as f:
                cur = loads(f.read())
            if isinstance(cur, dict) and isinstance(cur.get("offset"), int) and cur["offset"] <= os.path.getsize(path):
                start = cur["offset"]
        except (OSError, ValueError):
            pass
        log = _parser(agent)(path, start, final=final)
        take = TAKE[agent]
        events = [e for e in log.events if e["type"] in take]
        if events:
            known = _ids_in_session(store, session, take)
            events = [e for e in events if e["id"] not in known]
            for e in events:
                e["session"] = session
        if events:
            sink.emit_many(events)
        tmp = f"{cursor_path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(dumps({"path": path, "session": session, "offset": log.end}))
        os.replace(tmp, cursor_path)
        return len(events)
    finally:
        os.close(fd)


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
