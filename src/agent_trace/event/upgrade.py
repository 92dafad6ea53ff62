"""Upgrading stored lines from older schema versions, one step per version.

``STEPS[n]`` turns a version-``n`` line into a version-``n+1`` line.  Readers
call :func:`upgrade` for any line whose ``v`` is older than
:data:`agent_trace.event.SCHEMA_VERSION`; no step ever guesses.

Version 0 is the implicit version of a line with no ``v``: hand-written or
produced by a pre-release writer.  It had the same field names; the step only
stamps the version and fills an id when one is missing.
"""

from __future__ import annotations

from . import SCHEMA_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import EventDict


def _v0_to_v1(obj: EventDict) -> EventDict:
    import hashlib
    import json

    obj = dict(obj)
    if not obj.get("id"):
        # Deterministic, so re-reading the same line gives the same id.
        raw = json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8", "backslashreplace")
        obj["id"] = hashlib.sha256(raw).hexdigest()[:32]
    obj.setdefault("source", "unknown")
    obj.setdefault("session", "unknown")
    obj["v"] = 1
    return obj


STEPS = {0: _v0_to_v1}


def upgrade(obj: EventDict) -> EventDict:
    v = obj.get("v", 0)
    if not isinstance(v, int) or v < 0:
        raise ValueError(f"bad schema version {v!r}")
    while v < SCHEMA_VERSION:
        step = STEPS.get(v)
        if step is None:
            raise ValueError(f"no upgrade step from schema version {v}")
        obj = step(obj)
        v = obj["v"]
    return obj
