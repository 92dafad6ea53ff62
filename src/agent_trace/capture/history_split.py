"""A big history import on every core: the logs split over processes.

``import --all`` on a year of history is CPU-bound Python (parse, redact,
encode, index) and one process uses one core.  Above :data:`MIN_BYTES` of
new logs, :func:`run` forks ``jobs - 1`` workers, each importing its share
while this process imports the first one, and merges what they report.

* **Shares** (:func:`shares`): a project's logs stay together when the sizes
  allow, so a resumed session (which copies earlier messages of the same
  project) is counted by one process; a project bigger than a share is cut
  between sessions, a session and its subagents never.
* **What a worker writes itself:** its sessions' files, cursors and claims
  (different files for each worker) and its search records (appended whole,
  under a lock, to the shared record file).
* **What it reports** (a pickle in a nameless file in the ``state/`` folder
  the run keeps its scan table in, read by the parent once the worker has
  exited): its index
  entries (:meth:`agent_trace.analysis.indexes.StoreIndexes.part`), totals,
  scan-table rows and the unknown entry types it met (the parent says each
  once, as one process would).  The parent merges them and
  saves every index and the scan table once.  A response two processes both
  counted makes the usage index recount at its next read (never a double
  count).
* **Progress:** a shared page holds each worker's files and bytes done, so
  the one progress bar shows the whole run.
* **Failures:** a worker that dies or reports nothing has its share imported
  again here (imports are idempotent: what it wrote is skipped by id).
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import tempfile

from .history import Totals

MIN_BYTES = 32 << 20  # below this, a second process is not worth its start
_SLOT = struct.Struct("<QQ")  # files, bytes done by one worker


def default_jobs() -> int:
    """Processes for an import: the cores this process may use, at most 2
    (indexes are merged in the parent; more workers add little)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(2, n))


def worth_it(todo, jobs: int) -> bool:
    """Split only a big import, and only from a process with one thread (a
    fork copies no other thread, nor releases the locks they hold: the
    dashboard and the MCP server import on their request threads)."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return False
    return jobs > 1 and hasattr(os, "fork") and len(todo) > 1 and sum(x.size for x in todo) >= MIN_BYTES


def _project(log) -> str:
    """The group a log's project keeps it in: the folder under Claude Code's
    ``projects/``, else its session."""
    parts = log.path.split(os.sep)
    if "projects" in parts:
        i = len(parts) - 1 - parts[::-1].index("projects")
        if i + 1 < len(parts) - 1:
            return "p\0" + os.sep.join(parts[: i + 2])
    return "s\0" + (log.session or log.path)


def _session(log) -> str:
    """A session's own log and its subagents' logs: one unit."""
    if log.session:
        return log.session
    base = os.path.basename(log.path)
    return base[:-len(".jsonl")] if base.endswith(".jsonl") else log.path


def shares(todo, n: int) -> list[list]:
    """``todo`` in ``n`` shares of about equal bytes (each in path order)."""
    total = sum(x.size for x in todo)
    groups: dict[str, dict[str, list]] = {}
    for log in todo:
        groups.setdefault(_project(log), {}).setdefault(_session(log), []).append(log)
    units: list[tuple[int, list]] = []
    for sessions in groups.values():
        logs = [x for unit in sessions.values() for x in unit]
        size = sum(x.size for x in logs)
        if size <= total / n or len(sessions) == 1:
            units.append((size, logs))
        else:  # bigger than a share: cut between sessions
            units += [(sum(x.size for x in unit), unit) for unit in sessions.values()]
    units.sort(key=lambda u: -u[0])
    out: list[list] = [[] for _ in range(n)]
    load = [0] * n
    for size, logs in units:  # the biggest first, each to the lightest share
        i = load.index(min(load))
        out[i] += logs
        load[i] += size
    for share in out:
        share.sort(key=lambda x: x.path)
    return [s for s in out if s]


class _Counter:
    """Files and bytes done by every process of the run, on a shared page."""

    def __init__(self, n: int, files: int, total_bytes: int):
        import mmap

        self.page = mmap.mmap(-1, max(mmap.PAGESIZE, _SLOT.size * n))
        self.n, self.files, self.bytes = n, files, total_bytes
        self.slot = 0

    def __call__(self, files: int, done: int) -> tuple[int, int]:
        _SLOT.pack_into(self.page, self.slot * _SLOT.size, files, done)
        all_files = all_bytes = 0
        for i in range(self.n):
            f, b = _SLOT.unpack_from(self.page, i * _SLOT.size)
            all_files += f
            all_bytes += b
        return all_files, all_bytes


def run(job, todo, jobs: int, indexes) -> None:
    """Import ``todo`` with ``job`` (a :class:`.history.HistoryImport`)
    over ``jobs`` processes; ``indexes`` is the IndexSet behind its writer."""
    parts = shares(todo, jobs)
    counter = _Counter(len(parts), len(todo), sum(x.size for x in todo))
    # every store's indexes loaded before the fork: a first load may start a
    # store's search records afresh (deleting the file), never while a worker appends
    indexes.splitting()
    for log in todo:
        session = job.session_of(log)
        if session is not None:
            indexes.get(job.home(session))
    workers, here = [], [parts[0]]
    where = os.path.dirname(job.scan_path)  # the state folder of the store the run saves its scan in
    for slot, share in enumerate(parts[1:], start=1):
        sys.stdout.flush()
        sys.stderr.flush()
        out = None
        try:
            os.makedirs(where, exist_ok=True)
            # the report goes through a nameless file, read once the worker has
            # exited: the two processes' memory never peaks at the same time
            out = tempfile.TemporaryFile(dir=where)
            pid = os.fork()
        except OSError as e:  # no room for the report, no process left: this process does it
            if out is not None:
                out.close()
            job.warn(f"importing in one process ({e.strerror or e})")
            here.append(share)
            continue
        if pid == 0:  # the worker
            _work(job, share, indexes, counter, slot, out)  # never returns
        workers.append((pid, out, share))
    job.run_share(sorted((x for share in here for x in share), key=lambda x: x.path), counter)
    for pid, out, share in workers:
        report = _collect(pid, out)
        if report is None:
            job.warn(f"a worker importing {len(share)} log(s) stopped; importing them here")
            job.run_share(share)
            continue
        _merge(job, indexes, report)


def _work(job, share, indexes, counter, slot: int, out) -> None:
    code = 1
    try:
        counter.slot = slot
        job.progress = None  # the parent draws the one progress bar
        job.scan = {}
        job.scan_changed = False
        types: dict[str, str] = {}  # unknown entry types: said by the parent, once per run
        job.warn_type = lambda name, msg: types.setdefault(name, msg)
        job.totals = Totals()  # what this worker did (the run's unchanged files are the parent's)
        job.run_share(share, counter, save=False)
        report = {"parts": indexes.parts(), "scan": job.scan, "types": types, "totals": job.totals}
        pickle.dump(report, out, protocol=pickle.HIGHEST_PROTOCOL)  # streamed: no copy of it in memory
        out.flush()
        code = 0
    except BaseException as e:  # the parent imports this share again
        try:
            sys.stderr.write(f"agent-strace import: worker failed: {type(e).__name__}: {e}\n")
        except Exception:
            pass
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def _collect(pid: int, out):
    """The worker's report, once it has exited (None when it failed)."""
    with out:
        _, status = os.waitpid(pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        out.seek(0)
        try:
            return pickle.load(out)
        except Exception:  # nothing whole in it
            return None


def _merge(job, indexes, report: dict) -> None:
    job.totals.add(report["totals"])
    for name, msg in report["types"].items():
        job.warn_type(name, msg)
    if report["scan"]:
        job.scan.update(report["scan"])
        job.scan_changed = True
    indexes.merge(report["parts"])
