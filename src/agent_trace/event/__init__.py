"""The one event every capture source produces and every reader consumes.

Contract
--------
* An event is a flat JSON object, one per line in a session file.
* ``v`` is the schema version of the line. Readers upgrade older lines step by
  step (see :mod:`agent_trace.event.upgrade`) and skip lines from a newer version.
* First-class fields are the ones every reader needs (ids, time, type, source,
  correlation ids, duration, status, error, model, usage).  Everything the
  foreign side sent is kept, unchanged, as JSON under ``data``.
* Fields whose value is ``None`` are not written.

The package holds the event model (here) and what is done to every event
before it is stored: :mod:`.redact` -> :mod:`.truncate` -> :mod:`.encode`
(with :mod:`.fastjson`), :mod:`.upgrade` for old lines on the way back, and
:mod:`.timefmt` for the timestamps.

This module is imported on the hook hot path: standard library only, and only
cheap modules (no dataclasses, uuid, datetime or argparse).
"""

from __future__ import annotations

import os
import time
TYPE_CHECKING = False  # typing costs ~20 ms to import: names for the checker only
if TYPE_CHECKING:
    from typing import Any, TypeAlias, TypeGuard

    #: An event as stored and read: a flat JSON object (see the contract above).
    EventDict: TypeAlias = dict[str, Any]

SCHEMA_VERSION = 1

# --- event types -----------------------------------------------------------
SESSION_START = "session.start"
SESSION_END = "session.end"
USER_PROMPT = "user.prompt"
ASSISTANT_MESSAGE = "assistant.message"
TURN_END = "turn.end"  # the agent finished answering (Claude Code "Stop")
LLM_REQUEST = "llm.request"
LLM_RESPONSE = "llm.response"
TOOL_CALL = "tool.call"
TOOL_RESULT = "tool.result"
TOOL_ERROR = "tool.error"
MCP_MESSAGE = "mcp.message"
SUBAGENT_START = "subagent.start"
SUBAGENT_STOP = "subagent.stop"
RULE_DECISION = "rule.decision"
NOTIFICATION = "notification"
COMPACT = "context.compact"
ANNOTATION = "annotation"
POSTMORTEM = "postmortem"
GENERIC = "generic"  # anything a source does not map (unknown hook events ...)

TYPES = frozenset(
    {
        SESSION_START, SESSION_END, USER_PROMPT, ASSISTANT_MESSAGE, TURN_END,
        LLM_REQUEST, LLM_RESPONSE, TOOL_CALL, TOOL_RESULT, TOOL_ERROR,
        MCP_MESSAGE, SUBAGENT_START, SUBAGENT_STOP, RULE_DECISION,
        NOTIFICATION, COMPACT, ANNOTATION, POSTMORTEM, GENERIC,
    }
)

# Types whose ids may be derived from the agent's own ids (``derived_id``,
# ``llm_event_id``): more than one source can write the same event, and
# readers keep each id once.
SHARED_ID_TYPES = frozenset(
    {
        LLM_RESPONSE, TOOL_CALL, TOOL_RESULT, TOOL_ERROR, USER_PROMPT, TURN_END,
        SUBAGENT_START, SUBAGENT_STOP, COMPACT, SESSION_START,
    }
)

# --- status values -----------------------------------------------------------
OK = "ok"
ERROR = "error"
# rule decisions
ALLOWED = "allowed"
WARNED = "warned"
DENIED = "denied"
STOPPED = "stopped"
KILLED = "killed"
PAUSED = "paused"

# Order in which first-class fields are written; makes lines easy to eyeball.
FIELDS = (
    "v", "id", "ts", "session", "type", "source", "sender", "name", "agent_id",
    "agent_type", "parent", "tool", "tool_use_id", "rpc_id", "method",
    "direction", "model", "usage", "duration_ms", "status", "error", "data",
    "truncated", "redacted",
)


def new_id() -> str:
    """A 128-bit random id as 32 hex characters (cheaper to import than uuid)."""
    return os.urandom(16).hex()


def derived_id(session: str, kind: str, key: str) -> str:
    """A deterministic id for the event of ``kind`` that ``key`` names in
    ``session`` (128 bits of BLAKE2b as 32 hex characters).

    Every source that can see the same happening derives the same id, so a
    reader, an importer or a collector that already holds it never counts it
    twice: a hook's PreToolUse and the transcript's ``tool_use`` block are one
    ``tool.call``.  Keys in use (``docs/event-schema.md``, "Ids"):

    ========================  ===========================================
    kind                      key
    ========================  ===========================================
    ``tool.call``             the agent's tool_use_id / call id
    ``tool.result``           the same id (a result or an error: one of)
    ``user.prompt``           the agent's prompt id (Claude ``prompt_id``)
    ``turn.end``              the prompt id of the turn that ended
    ``subagent.start/stop``   the subagent's agent id
    ========================  ===========================================

    ``_blake2`` is a built-in C module: cheap enough for the hook hot path,
    where ``hashlib`` (which loads OpenSSL) is not.
    """
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - every CPython build has it
        from hashlib import blake2b
    raw = f"{session}\0{kind}\0{key}".encode("utf-8", "surrogatepass")
    return blake2b(raw, digest_size=16).hexdigest()


def now_iso(t: float | None = None) -> str:
    """UTC timestamp with microseconds, e.g. ``2026-11-21T19:32:47.123456Z``."""
    if t is None:
        t = time.time()
    whole = int(t)
    micros = int(round((t - whole) * 1_000_000))
    if micros == 1_000_000:
        whole, micros = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + ".%06dZ" % micros


def iso_to_epoch(ts: str) -> float:
    """Epoch seconds of a ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` stamp (the store's
    own format), without importing ``datetime``; other forms go to
    :func:`agent_trace.event.timefmt.parse_iso`."""
    if len(ts) >= 20 and ts[-1] == "Z" and ts[4] == "-" and ts[10] == "T":
        try:
            y, m, d = int(ts[0:4]), int(ts[5:7]), int(ts[8:10])
            hh, mm, ss = int(ts[11:13]), int(ts[14:16]), int(ts[17:19])
            frac = float("0" + ts[19:-1]) if ts[19] == "." else 0.0
        except ValueError:
            pass
        else:
            # days from the civil date (Howard Hinnant's algorithm)
            y -= m <= 2
            era = y // 400
            yoe = y - era * 400
            doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
            doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
            days = era * 146097 + doe - 719468
            return days * 86400 + hh * 3600 + mm * 60 + ss + frac
    from .timefmt import parse_iso

    return parse_iso(ts)


def make_event(type: str, session: str, source: str, **fields: Any) -> EventDict:
    """Build a new event dict with id, timestamp and version stamped.

    ``fields`` may hold any first-class field (see :data:`FIELDS`); ``None``
    values are dropped.  Unknown keyword names are refused so that a typo
    cannot silently create a field no reader knows.
    """
    event: EventDict = {
        "v": SCHEMA_VERSION,
        "id": fields.pop("id", None) or new_id(),
        "ts": fields.pop("ts", None) or now_iso(),
        "session": session,
        "type": type,
        "source": source,
    }
    for key, value in fields.items():
        if key not in _FIELD_SET:
            raise TypeError(f"unknown event field {key!r}")
        if value is not None:
            event[key] = value
    return event


_FIELD_SET = frozenset(FIELDS)

MAX_TOKENS = 1 << 53  # no response holds more: a larger count is not a count (and would not fit a float)


def is_token_count(v: object) -> TypeGuard[int]:
    """An int in ``0..MAX_TOKENS`` (not a bool): what every reader and
    parser counts as tokens.  Anything else (a hostile ``10**400``, a
    store edited by hand) counts as nothing."""
    return type(v) is int and 0 <= v <= MAX_TOKENS


def usage(
    input: int | None = None,
    output: int | None = None,
    cache_read: int | None = None,
    cache_write: int | None = None,
) -> dict[str, int] | None:
    """Normalised token usage; ``None`` when nothing is known.  A count
    outside 0..2**53 is no real one (a hostile ``10**400`` would overflow
    every float a report makes of it): it is left out, as if not known."""
    u: dict[str, int] = {}
    for k, v in (("input", input), ("output", output), ("cache_read", cache_read), ("cache_write", cache_write)):
        if v is not None:
            v = int(v)
            if is_token_count(v):
                u[k] = v
    return u or None
