"""Claude Code transcripts -> one ``llm.response`` event per API response.

Claude Code writes each content block of a model response as its own
transcript entry and repeats the response's ``usage`` on every one of them,
so entries are grouped by ``message.id`` and each response is counted once.

Import is incremental and idempotent:

* a cursor per transcript (``state/transcripts/<hash>.json``, rebuildable)
  remembers the byte offset up to which responses were emitted; the last
  response group is held back until a later entry shows it is complete (or
  the import is final, at SessionEnd / ``agent-strace import``);
* event ids are derived from (session, message id), and when the cursor is
  missing the session file is scanned for ids already present, so importing
  twice never duplicates.
"""

from __future__ import annotations

import fcntl
import os

from .. import event as ev
from ..event.fastjson import dumps, loads
from ..store.paths import Store

# Imported by the PreToolUse hook when a budget rule is active: no json, re,
# glob or datetime at import time.

SOURCE = "claude-code"


def llm_event_id(session: str, message_id: str) -> str:
    import hashlib

    return hashlib.sha256(f"{session}\0{message_id}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _norm_ts(ts) -> str | None:
    if not isinstance(ts, str):
        return None
    from ..event.timefmt import parse_iso

    try:
        return ev.now_iso(parse_iso(ts))
    except ValueError:
        return None


def _usage(u) -> dict | None:
    if not isinstance(u, dict):
        return None

    def num(k):
        v = u.get(k)
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    return ev.usage(
        input=num("input_tokens"),
        output=num("output_tokens"),
        cache_read=num("cache_read_input_tokens"),
        cache_write=num("cache_creation_input_tokens"),
    )


def _group_to_event(group: list[dict], session: str, agent_id, transcript: str) -> dict:
    first = group[0]
    msg = first["message"]
    content = []
    for entry in group:
        blocks = entry["message"].get("content")
        if isinstance(blocks, list):
            content.extend(blocks)
        elif blocks is not None:
            content.append(blocks)
    last_msg = group[-1]["message"]
    data = {
        "message_id": msg.get("id"),
        "role": msg.get("role"),
        "stop_reason": last_msg.get("stop_reason"),
        "stop_sequence": last_msg.get("stop_sequence"),
        "content": content,
        "usage": last_msg.get("usage"),
        "request_ref": first.get("requestRef") or first.get("requestId"),
        "requested_model": first.get("requestedModel"),
        "entry_uuids": [e.get("uuid") for e in group],
        "is_sidechain": first.get("isSidechain"),
        "transcript": transcript,
    }
    return ev.make_event(
        ev.LLM_RESPONSE,
        session,
        SOURCE,
        id=llm_event_id(session, str(msg.get("id"))),
        ts=_norm_ts(first.get("timestamp")),
        name="transcript",
        agent_id=agent_id or (first.get("agentId") if first.get("isSidechain") else None),
        model=msg.get("model"),
        usage=_usage(last_msg.get("usage")),
        status=ev.OK,
        data={k: v for k, v in data.items() if v is not None},
    )


def read_responses(path: str, session: str, agent_id=None, start: int = 0, final: bool = False):
    """Return (events, offset): complete responses from byte ``start`` on, and
    the offset to resume from (the start of a response still being written)."""
    events: list[dict] = []
    group: list[dict] = []
    group_start = start
    offset = start
    with open(path, "rb") as f:
        f.seek(start)
        for raw in f:
            line_start = offset
            offset += len(raw)
            if not raw.endswith(b"\n"):  # still being written
                offset = line_start
                break
            if b'"assistant"' not in raw:
                continue
            try:
                entry = loads(raw)
            except ValueError:
                continue
            msg = entry.get("message") if isinstance(entry, dict) else None
            if entry.get("type") != "assistant" or not isinstance(msg, dict) or not msg.get("id"):
                continue
            if group and group[0]["message"]["id"] != msg["id"]:
                events.append(_group_to_event(group, session, agent_id, path))
                group = []
            if not group:
                group_start = line_start
            group.append(entry)
    if group:
        if final:
            events.append(_group_to_event(group, session, agent_id, path))
        else:
            offset = group_start
    return events, offset


def subagent_transcripts(main_transcript: str, session: str) -> list[tuple[str, str]]:
    """(agent id, path) of the subagent transcripts beside a main transcript."""
    base = os.path.join(os.path.dirname(main_transcript), session, "subagents")
    try:
        names = sorted(n for n in os.listdir(base) if n.startswith("agent-") and n.endswith(".jsonl"))
    except OSError:
        return []
    return [(n[len("agent-"):-len(".jsonl")], os.path.join(base, n)) for n in names]


def _existing_llm_ids(store: Store, session: str) -> set[str]:
    ids: set[str] = set()
    path = store.path_for(session)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return ids
    with f:
        for line in f:
            if b'"llm.response"' in line:
                try:
                    ids.add(loads(line).get("id"))
                except (ValueError, AttributeError):
                    pass
    return ids


def import_transcript(store: Store, sink, path: str, session: str, agent_id=None,
                      final: bool = False) -> int:
    """Emit the not-yet-imported responses of one transcript; returns a count."""
    state_dir = store.subdir(os.path.join("state", "transcripts"))
    os.makedirs(state_dir, exist_ok=True)
    import zlib  # a C module: cheap to import on the hook path, unlike hashlib

    from ..store.paths import file_stem

    ident = f"{session}\0{os.path.abspath(path)}".encode("utf-8", "surrogatepass")
    key = f"{file_stem(session)[:60]}-{zlib.crc32(ident):08x}-{zlib.adler32(ident):08x}"
    cursor_path = os.path.join(state_dir, key + ".json")
    lock_fd = os.open(cursor_path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        cursor = None
        try:
            with open(cursor_path, "rb") as f:
                cursor = loads(f.read())
        except (OSError, ValueError):
            pass
        start = 0
        if isinstance(cursor, dict) and isinstance(cursor.get("offset"), int):
            size = os.path.getsize(path)
            start = cursor["offset"] if cursor["offset"] <= size else 0
        events, offset = read_responses(path, session, agent_id, start, final)
        if cursor is None or start == 0:
            seen = _existing_llm_ids(store, session)
            events = [e for e in events if e["id"] not in seen]
        if events:
            sink.emit_many(events)
        tmp = cursor_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(dumps({"path": path, "session": session, "offset": offset}))
        os.replace(tmp, cursor_path)
        return len(events)
    finally:
        os.close(lock_fd)


def import_session(store: Store, sink, transcript: str, session: str, final: bool = False) -> int:
    """Main transcript plus every subagent transcript beside it."""
    n = 0
    if os.path.isfile(transcript):
        n += import_transcript(store, sink, transcript, session, None, final)
    for agent_id, path in subagent_transcripts(transcript, session):
        n += import_transcript(store, sink, path, session, agent_id, final)
    return n
