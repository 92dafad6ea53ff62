"""Where a session worked: its workspace root and the agent's home.

In order of trust: ``data.cwd`` / ``data.home`` of a ``session.start``
(hooks) or an ``llm.request`` (stamped by ``run`` and the fork server), then
what the agent itself says in its LLM requests (Claude Code's environment
block, Codex's ``<cwd>``: :mod:`agent_trace.capture.agent_env`).  Fed event
by event, so a reader that already streams the session pays nothing more.
"""

from __future__ import annotations

from .. import event as ev
from ..capture.agent_env import places_in_request
from ..store.reader import iter_events


class WorkspaceFinder:
    def __init__(self):
        self.root: str | None = None
        self.home: str | None = None
        self._said: tuple[str | None, str | None] = (None, None)
        self._asked = 0

    def add(self, e: dict) -> None:
        t = e.get("type")
        if t != ev.SESSION_START and t != ev.LLM_REQUEST:
            return
        data = e.get("data")
        if not isinstance(data, dict):
            return
        if self.root is None and isinstance(data.get("cwd"), str):
            self.root = data["cwd"]
        if self.home is None and isinstance(data.get("home"), str):
            self.home = data["home"]
        said_root, said_home = self._said
        if t == ev.LLM_REQUEST and (said_root is None or said_home is None) and self._asked < 20:
            self._asked += 1  # the agent says it in its first requests, or never
            root, home = places_in_request(data.get("body"))
            self._said = (said_root or root, said_home or home)

    def places(self) -> tuple[str | None, str | None]:
        return self.root or self._said[0], self.home or self._said[1]


def session_places(path: str) -> tuple[str | None, str | None]:
    """(workspace root, home) of the session file at ``path``."""
    f = WorkspaceFinder()
    for e in iter_events(path):
        f.add(e)
        if f.root and f.home:
            break
    return f.places()

