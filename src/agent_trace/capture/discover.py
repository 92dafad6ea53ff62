"""Finding the logs agents already write, without any setup.

=============  ==============================================================
agent          where (first match of each root; all roots are searched)
=============  ==============================================================
Claude Code    ``$CLAUDE_CONFIG_DIR`` (comma-separated list allowed), else
               ``~/.config/claude`` and ``~/.claude``: ``projects/<project>/
               <session>.jsonl``, its subagents in ``<session>/subagents/
               agent-<id>.jsonl``, older subagents as ``agent-<id>.jsonl``
               beside the sessions
Codex CLI      ``$CODEX_HOME`` (else ``~/.codex``): ``sessions/**/rollout-*.jsonl``
               and ``archived_sessions/rollout-*.jsonl``
Gemini CLI     ``~/.gemini/tmp/<project>/chats/session-*.json[l]``
=============  ==============================================================

``~`` is ``$HOME``.  Folders that cannot be read and symlink loops are
reported through ``on_error`` (one line each) and skipped; only regular
files are logs (a FIFO named like one would hang the reader); nothing here
opens a log file.
"""

from __future__ import annotations

import errno
import os

CLAUDE, CODEX, GEMINI = "claude", "codex", "gemini"
KINDS = (CLAUDE, CODEX, GEMINI)


class LogFile:
    """One agent log: its kind, path, the session it belongs to (when the
    layout says) and, for a subagent's own transcript, the agent id."""

    __slots__ = ("kind", "path", "session", "agent_id", "size", "mtime_ns")

    def __init__(self, kind: str, path: str, session: str | None = None, agent_id: str | None = None,
                 size: int = 0, mtime_ns: int = 0):
        self.kind, self.path, self.session, self.agent_id = kind, path, session, agent_id
        self.size, self.mtime_ns = size, mtime_ns

    def __repr__(self) -> str:
        return f"LogFile({self.kind!r}, {self.path!r}, session={self.session!r}, agent_id={self.agent_id!r})"


def _home() -> str:
    return os.path.expanduser("~")


def claude_roots() -> list[str]:
    env = os.environ.get("CLAUDE_CONFIG_DIR")
    if env:
        roots = [os.path.expanduser(p.strip()) for p in env.split(",") if p.strip()]
    else:
        roots = [os.path.join(_home(), ".config", "claude"), os.path.join(_home(), ".claude")]
    out = []
    for r in roots:
        real = os.path.realpath(r)
        if real not in out:
            out.append(real)
    return out


def codex_root() -> str:
    return os.path.expanduser(os.environ.get("CODEX_HOME") or os.path.join(_home(), ".codex"))


def gemini_root() -> str:
    return os.path.join(_home(), ".gemini")


def _entries(path: str, on_error):
    try:
        with os.scandir(path) as it:
            return list(it)
    except FileNotFoundError:
        return []
    except OSError as e:
        on_error(path, e)
        return []


def _is_file(entry, on_error) -> bool:
    """A regular file (through a symlink too): a FIFO, a device or a folder
    named like a log is passed over; a symlink loop costs one line."""
    try:
        return entry.is_file()
    except OSError as e:
        on_error(entry.path, e)
        return False


def _is_dir(entry, on_error, follow: bool = True) -> bool:
    try:
        return entry.is_dir(follow_symlinks=follow)
    except OSError as e:
        on_error(entry.path, e)
        return False


def _stat(entry, kind, session=None, agent_id=None, on_error=None):
    try:
        st = entry.stat()
    except OSError as e:
        if on_error:
            on_error(entry.path, e)
        return None
    return LogFile(kind, entry.path, session, agent_id, st.st_size, st.st_mtime_ns)


def claude_project(folder: str, on_error):
    """The logs of one ``projects/<project>`` folder."""
    for e in _entries(folder, on_error):
        name = e.name
        if name.endswith(".jsonl") and _is_file(e, on_error):
            if name.startswith("agent-"):  # older layout: a subagent beside the sessions
                log = _stat(e, CLAUDE, None, name[len("agent-"):-len(".jsonl")], on_error)
            else:
                log = _stat(e, CLAUDE, name[: -len(".jsonl")], None, on_error)
            if log:
                yield log
        elif e.is_dir(follow_symlinks=False):  # no symlink followed: cannot raise
            sub = os.path.join(e.path, "subagents")
            for s in _entries(sub, on_error):
                if s.name.startswith("agent-") and s.name.endswith(".jsonl") and _is_file(s, on_error):
                    log = _stat(s, CLAUDE, e.name, s.name[len("agent-"):-len(".jsonl")], on_error)
                    if log:
                        yield log


def claude_logs(on_error):
    for root in claude_roots():
        for p in _entries(os.path.join(root, "projects"), on_error):
            if _is_dir(p, on_error):
                yield from claude_project(p.path, on_error)


def codex_logs(on_error):
    root = codex_root()
    for top in ("sessions", "archived_sessions"):
        stack = [os.path.join(root, top)]
        while stack:
            for e in _entries(stack.pop(), on_error):
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.name.startswith("rollout-") and e.name.endswith(".jsonl") and _is_file(e, on_error):
                    log = _stat(e, CODEX, on_error=on_error)
                    if log:
                        yield log


def gemini_logs(on_error):
    for proj in _entries(os.path.join(gemini_root(), "tmp"), on_error):
        if not _is_dir(proj, on_error):
            continue
        for e in _entries(os.path.join(proj.path, "chats"), on_error):
            if e.name.startswith("session-") and e.name.endswith((".jsonl", ".json")) and _is_file(e, on_error):
                log = _stat(e, GEMINI, on_error=on_error)
                if log:
                    yield log


def _ignore(path, exc):
    pass


def discover(kinds=KINDS, on_error=_ignore) -> list[LogFile]:
    """Every log of the given kinds on this machine (unordered within a kind)."""
    out: list[LogFile] = []
    for kind, finder in ((CLAUDE, claude_logs), (CODEX, codex_logs), (GEMINI, gemini_logs)):
        if kind in kinds:
            out.extend(finder(on_error))
    return out


def classify(path: str) -> str | None:
    """The agent that wrote a log file, from its name and place (None: not a
    log we know)."""
    name = os.path.basename(path)
    if name.startswith("rollout-") and name.endswith(".jsonl"):
        return CODEX
    if name.startswith("session-") and name.endswith((".json", ".jsonl")) and \
            os.path.basename(os.path.dirname(path)) == "chats":
        return GEMINI
    if name.endswith(".jsonl"):
        return CLAUDE
    return None


def logs_under(path: str, on_error=_ignore) -> list[LogFile]:
    """The logs a path names: a log file itself, or every log below a folder
    (a Claude ``projects`` folder or one project in it, a Codex or Gemini
    home ...)."""
    if os.path.isfile(path):
        kind = classify(path)
        if kind is None:
            return []
        st = os.stat(path)
        name = os.path.basename(path)
        session, agent_id = None, None
        if kind == CLAUDE:
            if name.startswith("agent-"):
                agent_id = name[len("agent-"):-len(".jsonl")]
                parent = os.path.dirname(os.path.abspath(path))
                if os.path.basename(parent) == "subagents":
                    session = os.path.basename(os.path.dirname(parent))
            else:
                session = name[: -len(".jsonl")]
        return [LogFile(kind, os.path.abspath(path), session, agent_id, st.st_size, st.st_mtime_ns)]
    if not os.path.isdir(path):
        if os.path.exists(path):  # a FIFO, a device, a socket: not read (it could block or never end)
            raise OSError(errno.EINVAL, "not a regular file or a folder", path)
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
    out: list[LogFile] = []
    stack = [os.path.abspath(path)]
    while stack:
        folder = stack.pop()
        entries = _entries(folder, on_error)
        if os.path.basename(folder) == "subagents":
            continue  # found with their session below
        names = {e.name for e in entries}
        looks_claude = any(n.endswith(".jsonl") and classify(os.path.join(folder, n)) == CLAUDE for n in names)
        if looks_claude:
            out.extend(claude_project(folder, on_error))
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            elif _is_file(e, on_error):
                kind = classify(e.path)
                if kind in (CODEX, GEMINI):
                    log = _stat(e, kind, on_error=on_error)
                    if log:
                        out.append(log)
    return out
