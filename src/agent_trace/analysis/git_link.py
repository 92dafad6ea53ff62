"""A session against git: the files its edit tools changed, listed against
the diff since the commit it started on (both from the shared summary).

* ``in_diff``: changed by the agent's tools and still different from the
  start commit (the work that will land);
* ``not_in_diff``: written by the agent's tools but not in the diff (reverted,
  identical content, ignored by git, or outside the repository);
* ``diff_only``: in the diff but never written by an edit tool (shell
  commands, generators, another process or a person).
"""

from __future__ import annotations

import os


def short(commit: str | None) -> str:
    return commit[:7] if isinstance(commit, str) else "-"


def _rel(path: str, root: str | None, cwd: str | None) -> str:
    if not os.path.isabs(path) and cwd:
        path = os.path.join(cwd, path)
    path = os.path.normpath(path)
    if root:
        root = os.path.normpath(root)
        if path == root or path.startswith(root + os.sep):
            return os.path.relpath(path, root)
    return path


def files_against_diff(summary: dict) -> dict | None:
    """None when the session has no end-of-session diff recorded."""
    git = summary.get("git") or {}
    changed = summary.get("files_changed") or []
    diff = git.get("diff")
    if diff is None:
        return None
    root = git.get("root")
    mine = [_rel(p, root, summary.get("cwd")) for p in changed]
    in_diff = set(diff)
    total = git.get("diff_total") if isinstance(git.get("diff_total"), int) else len(diff)
    return {
        "in_diff": [p for p in mine if p in in_diff],
        "not_in_diff": [p for p in mine if p not in in_diff],
        "diff_only": [p for p in diff if p not in set(mine)],
        "diff_total": total,
        "diff_listed": len(diff),
    }


def git_line(git: dict | None) -> str | None:
    """``main a1b2c3d..e4f5a6b (2 commits, dirty)`` or None."""
    if not git:
        return None
    start, end = git.get("start"), git.get("end")
    span = short(end) if not start or start == end else f"{short(start)}..{short(end)}"
    notes = []
    if git.get("commits"):
        notes.append(f"{len(git['commits'])} commit(s)")
    if git.get("dirty"):
        notes.append("dirty")
    branch = git.get("branch") or "(detached)"
    return f"{branch} {span}" + (f" ({', '.join(notes)})" if notes else "")


def matches(row: dict, branch: str | None = None, commit: str | None = None) -> bool:
    """For ``list --branch/--commit``: the branch (glob), a commit prefix of
    the start, end or any commit made in the session."""
    git = row.get("git") or {}
    if branch is not None:
        from fnmatch import fnmatchcase

        if not git.get("branch") or not fnmatchcase(git["branch"], branch):
            return False
    if commit is not None:
        c = commit.lower()
        commits = [git.get("start"), git.get("end"), *(git.get("commits") or ())]
        if len(c) < 4 or not any(isinstance(x, str) and x.startswith(c) for x in commits):
            return False
    return True
