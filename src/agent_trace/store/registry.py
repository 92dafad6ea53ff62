"""Every store on this machine: the history store and the registry of project stores.

Contract (``adr/0009-history-and-known-stores.md``):

* The **history store** is an ordinary store under the user's data folder
  (``$AGENT_TRACE_HISTORY``, else ``$XDG_DATA_HOME/agent-strace/history``,
  else ``~/.local/share/agent-strace/history``).  Sessions imported from the
  agents' own logs live there unless a project store already holds them.
* The **registry** (``stores.txt`` beside it) lists the root of every project
  store, one per line.  A store registers itself when it is created (one
  append; the hook path pays it once per project) and readers of "all
  projects" register the store they open, so stores created before the
  registry existed join on first use.  Lines are only appended; roots that
  no longer hold a store are skipped when read.  It may be deleted at any
  time: stores re-register as they are used.

Cheap to import (the hook path registers a new store): no json or re.
"""

from __future__ import annotations

import os

ENV_HISTORY = "AGENT_TRACE_HISTORY"
REGISTRY = "stores.txt"


def data_home() -> str:
    """agent-strace's folder under the user's data home (XDG)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "agent-strace")


def history_root() -> str:
    explicit = os.environ.get(ENV_HISTORY)
    return os.path.abspath(explicit) if explicit else os.path.join(data_home(), "history")


def registry_path() -> str:
    return os.path.join(data_home(), REGISTRY)


def _listed() -> list[str]:
    try:
        with open(registry_path(), "rb") as f:
            raw = f.read()
    except OSError:
        return []
    return [line.decode("utf-8", "surrogateescape") for line in raw.split(b"\n") if line.strip()]


def register(root: str) -> bool:
    """Add a store root to the registry (once); returns False on any failure:
    registering is a convenience and never stops a write."""
    root = os.path.abspath(root)
    if root == history_root() or "\n" in root:
        return True
    try:
        if root in _listed():
            return True
        os.makedirs(data_home(), exist_ok=True)
        fd = os.open(registry_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, root.encode("utf-8", "surrogateescape") + b"\n")  # one short append: atomic
        finally:
            os.close(fd)
        return True
    except OSError:
        return False


def known_roots(*extra: str | None) -> list[str]:
    """Roots of every store that exists: the history store first, then the
    registered project stores, then ``extra`` ones (the current store)."""
    out: list[str] = []
    seen: set[str] = set()
    for root in [history_root(), *_listed(), *(e for e in extra if e)]:
        root = os.path.abspath(root)
        if root in seen:
            continue
        seen.add(root)
        if os.path.isdir(os.path.join(root, "sessions")):
            out.append(root)
    return out


def project_of(root: str) -> str | None:
    """The project folder a store belongs to (the folder holding
    ``.agent-traces``), or None for the history store and custom roots."""
    root = os.path.abspath(root)
    if root == history_root() or os.path.basename(root) != ".agent-traces":
        return None
    return os.path.dirname(root)
