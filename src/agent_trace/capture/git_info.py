"""The git state of the folder an agent works in: repository, branch, HEAD
commit, dirty flag, and (at session end) what changed since the session began.

:func:`git_info` is a plain function of a folder, called by the SessionStart
and SessionEnd hooks (and by anything else that starts or ends sessions, such
as the hook daemon).  It is cheap and fails open:

* the repository, branch and HEAD are read from the files under ``.git``
  (worktrees, packed refs and detached heads included): no process is started;
* the dirty flag needs ``git status`` (one process, ``--no-optional-locks``,
  with a timeout); without git, or past the timeout, it is ``None``;
* with ``base`` (the commit the session started on), the commits made since
  and the files that differ from it (committed, staged, unstaged or new) are
  listed, capped;
* anything that goes wrong gives ``None`` for that field, never an exception.

Credentials in a remote URL (``https://user:token@host/...``) are dropped.
"""

from __future__ import annotations

import os

TIMEOUT_S = 2.0
MAX_FILES = 1000
MAX_COMMITS = 50


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def find_repo(cwd: str) -> tuple[str, str, str] | None:
    """(work tree root, git dir, common git dir) of the repository holding
    ``cwd``, or None."""
    d = os.path.abspath(cwd)
    for _ in range(64):
        dot = os.path.join(d, ".git")
        if os.path.isdir(dot):
            gitdir = dot
        elif os.path.isfile(dot):
            text = (_read(dot) or "").strip()
            if not text.startswith("gitdir:"):
                return None
            gitdir = os.path.normpath(os.path.join(d, text[7:].strip()))
        else:
            parent = os.path.dirname(d)
            if parent == d:
                return None
            d = parent
            continue
        common = gitdir
        rel = (_read(os.path.join(gitdir, "commondir")) or "").strip()
        if rel:
            common = os.path.normpath(os.path.join(gitdir, rel))
        return d, gitdir, common
    return None


def _resolve_ref(common: str, gitdir: str, ref: str, depth: int = 0) -> str | None:
    if depth > 5 or ".." in ref.split("/"):
        return None  # a symbolic-ref loop, or a ref pointing outside the repository
    for base in (gitdir, common):
        text = _read(os.path.join(base, ref))
        if text and text.strip():
            value = text.strip()
            if value.startswith("ref:"):
                return _resolve_ref(common, gitdir, value[4:].strip(), depth + 1)
            return value if _is_sha(value) else None
    packed = _read(os.path.join(common, "packed-refs")) or ""
    for line in packed.splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2 and parts[1].strip() == ref and _is_sha(parts[0]):
            return parts[0]
    return None


def _is_sha(value: str) -> bool:
    return len(value) in (40, 64) and all(c in "0123456789abcdef" for c in value)


def _config_value(text: str, section: str, key: str) -> str | None:
    """``key`` in ``[section]`` of a git config file (simple cases: no includes)."""
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = line[1:line.find("]")].strip() if "]" in line else None
            if current is not None and '"' in current:
                name, _, sub = current.partition(" ")
                current = f'{name.lower()} "{sub.strip().strip(chr(34))}"'
            elif current is not None:
                current = current.lower()
            continue
        if current == section and "=" in line:
            k, _, v = line.partition("=")
            if k.strip().lower() == key:
                v = v.strip()
                if len(v) >= 2 and v[0] == v[-1] == '"':
                    v = v[1:-1]
                return v
    return None


def clean_remote(url: str | None) -> str | None:
    """A remote URL without credentials: ``https://tok@host/x`` -> ``https://host/x``."""
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        host_part, slash, path = rest.partition("/")
        url = f"{scheme}://{host_part.rsplit('@', 1)[1]}{slash}{path}"
    return url


def project_name(repo: str | None, root: str | None) -> str | None:
    """``github.com:org/repo.git`` or ``https://host/org/repo`` -> ``org/repo``;
    else the folder's name."""
    if repo:
        path = repo.split("://", 1)[-1]
        path = path.split(":", 1)[-1] if "://" not in repo and ":" in path else path.split("/", 1)[-1]
        path = path.rstrip("/")
        if path.endswith(".git"):
            path = path[:-4]
        parts = [p for p in path.split("/") if p]
        if parts:
            return "/".join(parts[-2:])
    return os.path.basename(root.rstrip("/")) if root else None


def _git(root: str, *args: str, timeout: float = TIMEOUT_S) -> str | None:
    import subprocess

    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    try:
        r = subprocess.run(["git", "-C", root, "--no-optional-locks", *args], capture_output=True,
                           timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    return r.stdout.decode("utf-8", "surrogateescape")


def _status(root: str, untracked: str = "normal") -> list[str] | None:
    """Paths ``git status`` lists (``untracked="all"`` lists the files inside
    new folders instead of the folder)."""
    out = _git(root, "status", "--porcelain=v1", "-z", f"--untracked-files={untracked}")
    if out is None:
        return None
    files, entries = [], out.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        files.append(entry[3:])
        if entry[0] in "RC":  # a rename carries the old path in the next entry
            i += 1
    return files


def git_info(cwd: str | None, base: str | None = None) -> dict | None:
    """The git state of the work tree holding ``cwd`` (None outside one).

    Keys: ``root``, ``repo`` (the origin remote without credentials),
    ``project``, ``branch`` (None when detached), ``head`` (None before the
    first commit), ``dirty`` and ``changes`` (entries in ``git status``;
    None when git could not tell), ``user`` (``user.email``).  With ``base``:
    ``base``, ``commits`` (made since, newest first, capped), ``diff`` (files
    that differ from ``base``, committed or not, capped) and ``diff_total``.
    """
    try:
        return _info(cwd, base)
    except Exception:  # fail open: a broken repository never breaks capture
        return None


def _info(cwd: str | None, base: str | None) -> dict | None:
    if not cwd or not os.path.isdir(cwd):
        return None
    found = find_repo(cwd)
    if found is None:
        return None
    root, gitdir, common = found
    head_text = (_read(os.path.join(gitdir, "HEAD")) or "").strip()
    branch = head = None
    if head_text.startswith("ref:"):
        ref = head_text[4:].strip()
        branch = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ref
        head = _resolve_ref(common, gitdir, ref)
    elif _is_sha(head_text):
        head = head_text
    config = _read(os.path.join(common, "config")) or ""
    repo = clean_remote(_config_value(config, 'remote "origin"', "url"))
    user = _config_value(config, "user", "email")
    if user is None:
        for p in (os.path.join(os.path.expanduser("~"), ".gitconfig"),
                  os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "git", "config")):
            user = _config_value(_read(p) or "", "user", "email")
            if user:
                break
    info: dict[str, object] = {"root": root, "repo": repo, "project": project_name(repo, root), "branch": branch,
                               "head": head, "dirty": None, "changes": None, "user": user}
    changed = _status(root, "all" if base else "normal")
    if changed is not None:
        info["dirty"] = bool(changed)
        info["changes"] = len(changed)
    if base and _is_sha(base):  # never an option-shaped argument to git
        info["base"] = base
        _since(root, base, head, changed, info)
    return info


def _since(root: str, base: str, head: str | None, status_files: list[str] | None, info: dict) -> None:
    commits = None
    if head and head != base:
        out = _git(root, "rev-list", f"--max-count={MAX_COMMITS}", f"{base}..{head}")
        commits = out.split() if out is not None else None
    elif head:
        commits = []
    info["commits"] = commits
    out = _git(root, "diff", "--name-only", "-z", base)
    if out is None:
        info["diff"] = None
        info["diff_total"] = None
        return
    files = {f for f in out.split("\0") if f}
    files.update(status_files or ())  # new files are not in the diff
    ordered = sorted(files)
    info["diff_total"] = len(ordered)
    info["diff"] = ordered[:MAX_FILES]


# -- as events ------------------------------------------------------------------

SCAN_EVENTS = 200  # the session's first git note is near its start


def first_head(path: str) -> str | None:
    """The HEAD recorded by the session's first git note (its start commit)."""
    from ..store.reader import iter_events

    try:
        for n, e in enumerate(iter_events(path)):
            if e.get("type") == "annotation" and e.get("name") == "git" and isinstance(e.get("data"), dict):
                return e["data"].get("base") or e["data"].get("head")
            if n >= SCAN_EVENTS:
                break
    except OSError:
        pass
    return None


def git_events(store, session: str, cwd: str | None, phase: str, source: str = "agent-strace") -> list[dict]:
    """The ``annotation`` event named ``git`` for a session's ``start`` or
    ``end`` (empty outside a repository).  At the end, the diff is taken
    against the commit the session started on."""
    from .. import event as ev

    try:
        base = first_head(store.path_for(session)) if phase == "end" else None
        info = git_info(cwd, base)
        if info is None:
            return []
        info["phase"] = phase
        return [ev.make_event(ev.ANNOTATION, session, source, name="git", data=info)]
    except Exception:  # fail open: the hook's own event is recorded regardless
        return []
