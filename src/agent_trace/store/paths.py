"""Where the store lives and how session ids map to files.

Root resolution, first match wins: an explicit ``--trace-dir``, the
``AGENT_TRACE_DIR`` environment variable, ``.agent-traces`` under the
directory a capture source reports (a hook payload's ``cwd``), and finally
``.agent-traces`` under the current directory.
"""

from __future__ import annotations

import os

ENV_VAR = "AGENT_TRACE_DIR"
DEFAULT_DIRNAME = ".agent-traces"
SESSIONS = "sessions"
SUFFIX = ".jsonl"

_SAFE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


class StoreError(Exception):
    """The store cannot be used (unreadable, not a directory ...)."""


class SessionNotFound(StoreError):
    """No session matches, or a prefix matches several."""


def resolve_root(explicit: str | None = None, cwd: str | None = None) -> str:
    if explicit:
        return os.path.abspath(explicit)
    env = os.environ.get(ENV_VAR)
    if env:
        return os.path.abspath(env)
    return os.path.join(os.path.abspath(cwd or os.getcwd()), DEFAULT_DIRNAME)


_UUID_CHARS = frozenset("0123456789abcdefABCDEF-")


def stored_id(session_id: str) -> str:
    """A session id as its events store it: with every secret the scanner
    finds in it replaced, as the encoder redacts an event's ``session`` like
    any other text.  Everything that names a session on disk (its file, the
    import's cursors and scan table, claims) goes through this, so no secret
    reaches a file name or a state file, and a hook's events (filed under
    the stored id) and an import's meet in one file.  A UUID (what Claude
    Code, Codex and Gemini CLI use) holds no secret: not scanned."""
    if len(session_id) == 36 and _UUID_CHARS.issuperset(session_id):
        return session_id
    from ..event.redact import sub_secrets  # only for unusual ids: keep the hook path lean

    return sub_secrets(session_id)[0]


def file_stem(session_id: str) -> str:
    """File name stem for a session id: the id itself when it is filename-safe
    (Claude Code's UUIDs are), else a readable prefix plus a hash; an id
    holding a secret is named after its stored form (:func:`stored_id`)."""
    session_id = stored_id(session_id)
    if (
        0 < len(session_id) <= 128
        and session_id[0] not in "._-"
        and _SAFE_CHARS.issuperset(session_id)
    ):
        return session_id
    import hashlib  # only for unusual ids: keep the hook path lean

    cleaned = "".join(c if c in _SAFE_CHARS else "_" for c in session_id)[:40].strip("._-") or "session"
    digest = hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{cleaned}-{digest}"


class Store:
    """A store root.  Cheap to construct; touches the disk only when used."""

    def __init__(self, root: str):
        self.root = root
        self.sessions_dir = os.path.join(root, SESSIONS)

    @classmethod
    def open(cls, explicit: str | None = None, cwd: str | None = None) -> "Store":
        return cls(resolve_root(explicit, cwd))

    # -- layout -----------------------------------------------------------
    def path_for(self, session_id: str) -> str:
        return os.path.join(self.sessions_dir, file_stem(session_id) + SUFFIX)

    def subdir(self, name: str) -> str:
        return os.path.join(self.root, name)

    def ensure(self) -> None:
        """Create the root (ignored by git) and the sessions folder."""
        try:
            os.makedirs(self.sessions_dir, exist_ok=True)
        except FileExistsError:
            raise StoreError(f"store path exists but is not a directory: {self.root}") from None
        ignore = os.path.join(self.root, ".gitignore")
        if not os.path.exists(ignore):
            try:
                fd = os.open(ignore, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return
            with os.fdopen(fd, "w") as f:
                f.write("# agent-strace trace store: never commit it\n*\n")
            from .registry import register  # a new store joins the cross-project view

            register(self.root)

    # -- discovery --------------------------------------------------------
    def session_files(self) -> list[os.DirEntry[str]]:
        """``os.DirEntry`` for every session file (unordered)."""
        try:
            it = os.scandir(self.sessions_dir)
        except FileNotFoundError:
            return []
        except (NotADirectoryError, PermissionError) as e:
            raise StoreError(f"cannot read store {self.root}: {e.strerror}") from None
        with it:
            return [e for e in it if e.name.endswith(SUFFIX) and e.is_file()]

    def resolve(self, ref: str) -> str:
        """Map a session reference (full id, unique prefix, ``latest``) to
        its file path; raises :class:`SessionNotFound` with a clear message."""
        files = self.session_files()
        if not files:
            raise SessionNotFound(f"no sessions in {self.root}")
        if ref == "latest":
            return max(files, key=lambda e: (e.stat().st_mtime_ns, e.name)).path
        exact = self.path_for(ref)
        if os.path.isfile(exact):
            return exact
        stems = [e for e in files if e.name.startswith(file_stem(ref) if ref else "\0")]
        if len(stems) == 1:
            return stems[0].path
        if not stems:
            raise SessionNotFound(f"no session matches {ref!r} in {self.root}")
        names = ", ".join(sorted(e.name[: -len(SUFFIX)] for e in stems)[:5])
        raise SessionNotFound(f"{ref!r} matches {len(stems)} sessions ({names}...): give more characters")
