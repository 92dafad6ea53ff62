"""Alerts at the end of a session or a failed turn (the hook's SessionEnd and
StopFailure): the rules file says whether anyone wants them; the alert work
itself is :mod:`agent_trace.notify.hook`'s.  Fails open."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..store.paths import Store
    from .policy import Policy


def wants_session_events(policy: Policy) -> bool:
    return any(x in t["on"] for t in policy.get("notify") or () for x in ("session_failed", "session_ended",
                                                                          "budget"))


def on_session_event(store: Store, payload: dict[str, Any], name: str) -> None:
    """SessionEnd / StopFailure from the hook: load the rules (cached), and
    when they ask for it, the session's summary (the rules engine's
    incremental state: only what was appended since the last hook is read)."""
    try:
        from ..notify.hook import HookNotifier
        from .policy import PolicyError, find_rules_file, load

        cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
        path = find_rules_file(cwd)
        if not path:
            return
        try:
            policy = load(path, store.subdir("state"))
        except PolicyError:
            return  # the next PreToolUse denies and says why
        if not wants_session_events(policy):
            return
        session = payload.get("session_id")
        if not isinstance(session, str) or not os.path.exists(store.path_for(session)):
            return
        from .engine import session_summary

        summary = session_summary(store, policy, path, session)  # incremental, like PreToolUse
        n = HookNotifier(store, policy, cwd)
        n.session_event(session, name, payload, summary)
        n.kick()
    except Exception as e:
        sys.stderr.write(f"agent-strace notify: session alert not queued: {type(e).__name__}: {e}\n")
