"""What "every project" means for the readers (``usage``, ``search``, ``list --all``).

Every store on the machine: the history store, every registered project
store and the current one (``adr/0009-history-and-known-stores.md``).
Before reading, the agents' own logs are imported incrementally (a run with
nothing new only looks at file sizes), so the reports need no setup; and
the current store registers itself, so stores made before the registry
existed join the view the first time they are used.
"""

from __future__ import annotations

import os
import sys

from agent_trace.store import Store, registry


def add_scope_args(p) -> None:
    p.add_argument("--no-import", action="store_true",
                   help="do not import new agent logs first (read only what the stores hold)")


def refresh(args) -> None:
    """Import what the agents' logs gained since the last look, quietly."""
    from agent_trace.analysis.indexes import IndexSet
    from agent_trace.capture import discover
    from agent_trace.capture.history import HistoryImport
    from agent_trace.capture.history_split import default_jobs

    from .import_cmd import target_store

    def warn(msg: str) -> None:
        sys.stderr.write(f"agent-strace: import: {msg}\n")

    indexes = IndexSet()
    logs = discover.discover(on_error=lambda path, e: warn(f"{path}: {e.strerror or e}: skipped"))
    try:
        HistoryImport(indexes.writer_for, target=target_store(args), warn=warn).run(
            logs, jobs=default_jobs(), indexes=indexes)
    finally:
        indexes.close()


def stores(args, *, import_first: bool = True) -> list[Store]:
    """Every store to read, after importing what is new (unless --no-import)."""
    if import_first and not getattr(args, "no_import", False):
        refresh(args)
    current = Store.open(getattr(args, "trace_dir", None))
    if os.path.isdir(current.sessions_dir):
        registry.register(current.root)
    return [Store(root) for root in registry.known_roots(current.root)]


def project_label(path: str | None) -> str:
    """A project path as people read it: ``~/src/app``."""
    if not path:
        return "(unknown project)"
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if path == home or path.startswith(home + "/") else path
