"""Running, starting, stopping and finding the daemon; starting it on demand.

* :func:`run` is the daemon (``agent-strace daemon run``, what the systemd
  unit runs): it takes the lock, listens, recovers the sessions registered
  before it started, and serves until SIGTERM/SIGINT.
* :func:`start` spawns :func:`run` detached (its own session, stdio on
  ``daemon.log``, no descriptor of the caller's) and waits until it listens.
* :func:`on_session_start` is what the SessionStart command hook calls with
  ``setup --transport http``: register the session, and start the daemon when
  none holds the lock.  Cheap when one runs (one open, one ``flock``).

A daemon started by a hook gets a trimmed environment: no API keys, and not
the session's own ``AGENT_TRACE_DIR``/``AGENT_STRACE_RULES`` (those reach
the daemon per session, through the registration).
"""

from __future__ import annotations

import fcntl
import os
import sys
import time

from . import registry
from .files import DaemonFiles, is_running, read_json, write_json

LAUNCH = "import os, sys; os.chdir('/'); from agent_trace.cli import main; sys.exit(main())"
KEEP_VARS = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")
KEEP_PREFIXES = ("AGENT_STRACE_", "AGENT_TRACE_", "XDG_", "LC_")
PER_SESSION = ("AGENT_TRACE_DIR", "AGENT_STRACE_RULES", "AGENT_STRACE_SECRET")
START_TIMEOUT_S = 5.0
LOG_MAX = 5 * 1024 * 1024


def daemon_argv(python: str | None = None) -> list[str]:
    return [python or sys.executable, "-c", LAUNCH, "daemon", "run"]


def daemon_env(from_hook: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k in KEEP_VARS or k.startswith(KEEP_PREFIXES)}
    if from_hook:
        for k in PER_SESSION:
            env.pop(k, None)
    env.pop("AGENT_STRACE_SECRET", None)
    return env


# -- the daemon itself ------------------------------------------------------------

def run(files: DaemonFiles | None = None, port: int | None = None, out=sys.stdout) -> int:
    import signal

    from . import files as files_mod
    from .recovery import at_start_jobs
    from .server import Core, Loop, make_servers

    files = files or DaemonFiles()
    files.ensure()
    lock_fd = os.open(files.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    if not _take(lock_fd):
        os.close(lock_fd)
        st = read_json(files.state) or {}
        sys.stderr.write(f"agent-strace daemon: already running (pid {st.get('pid', '?')}, {files.root})\n")
        return 1
    try:
        port = port or files_mod.port(files)
        # type-checker: secret() creates one when missing (create=True)
        core = Core(files, port, files_mod.secret(files))  # type: ignore[arg-type]
        try:
            servers = make_servers(core, files.socket)
        except OSError as e:
            sys.stderr.write(f"agent-strace daemon: cannot listen on 127.0.0.1:{port}: {e.strerror or e} "
                             "(another program? choose a port with: agent-strace setup --transport http "
                             "--port N)\n")
            return 1
        loop = Loop(servers)
        signal.signal(signal.SIGTERM, lambda *_: loop.stop())
        signal.signal(signal.SIGINT, lambda *_: loop.stop())
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        write_json(files.state, {"pid": os.getpid(), "port": port, "socket": core.socket_path,
                                 "started": core.started, "dir": files.root})
        for job in at_start_jobs(registry.pending(files), core.intake.open_registered):
            if job.final:
                job.on_done = (lambda s=job.session: registry.forget(files, s))
            core.recoverer.schedule(job)
        out.write(f"agent-strace daemon: pid {os.getpid()} listening on 127.0.0.1:{port}"
                  + (f" and {core.socket_path}" if core.socket_path else "") + "\n")
        out.flush()
        try:
            loop.run()
        finally:
            core.recoverer.stop(5.0)
            core.intake.close()
            _remove_if_ours(files.state)
            if core.socket_path:
                try:
                    os.unlink(core.socket_path)
                except OSError:
                    pass
        return 0
    finally:
        os.close(lock_fd)


def _take(fd: int) -> bool:
    """The daemon lock; a liveness probe holds it for microseconds, so a
    refusal is tried again for a moment before it means another daemon."""
    for _ in range(40):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            time.sleep(0.005)
    return False


def _remove_if_ours(path: str) -> None:
    st = read_json(path)
    if isinstance(st, dict) and st.get("pid") == os.getpid():
        try:
            os.unlink(path)
        except OSError:
            pass


# -- from outside -----------------------------------------------------------------

def info(files: DaemonFiles) -> dict | None:
    """The running daemon's ``daemon.json``, or None when none runs."""
    if not is_running(files):
        return None
    st = read_json(files.state)
    return st if isinstance(st, dict) else {}


def spawn(files: DaemonFiles, from_hook: bool = False, python: str | None = None) -> int:
    """Start :func:`run` detached; returns its pid (not waiting for it)."""
    files.ensure()
    for name in os.listdir("/proc/self/fd"):  # the caller's pipes must not live on in the daemon
        fd = int(name)
        if fd > 2:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass
    if _size(files.log) > LOG_MAX:  # one old log kept: the folder stays small
        os.replace(files.log, files.log + ".1")
    log_fd = os.open(files.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        argv = daemon_argv(python)
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_DUP2, log_fd, 1), (os.POSIX_SPAWN_DUP2, log_fd, 2)]
        return os.posix_spawn(argv[0], argv, daemon_env(from_hook), file_actions=actions, setsid=True)
    finally:
        os.close(log_fd)


def start(files: DaemonFiles | None = None, timeout: float = START_TIMEOUT_S,
          from_hook: bool = False) -> tuple[dict | None, str]:
    """(``daemon.json`` of the running daemon or None, what happened)."""
    files = files or DaemonFiles()
    st = info(files)
    if st is not None:
        return st, "already running"
    log_size = _size(files.log)
    pid = spawn(files, from_hook)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st = info(files)
        if st and st.get("pid"):
            _reap(pid)
            return st, "started"
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done and info(files) is None:  # it gave up (port taken ...): say why
            return None, _log_tail(files.log, log_size) or "the daemon exited at start"
        time.sleep(0.01)
    return None, f"the daemon did not listen within {timeout:g}s (see {files.log})"


def stop(files: DaemonFiles | None = None, timeout: float = START_TIMEOUT_S) -> str:
    import signal

    files = files or DaemonFiles()
    st = info(files)
    if st is None:
        return "not running"
    pid = st.get("pid")
    if not isinstance(pid, int) or pid <= 1:
        return f"running, but {files.state} names no pid: stop it by hand"
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not is_running(files):
            return f"stopped (pid {pid})"
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    while is_running(files):
        time.sleep(0.02)
    return f"killed (pid {pid}: no exit within {timeout:g}s of SIGTERM)"


def on_session_start(payload: dict) -> None:
    """The SessionStart command hook's part: register, start on demand."""
    from ..control.agent_process import agent_process

    files = DaemonFiles()
    registry.register(files, payload, agent_process())
    if not is_running(files):
        st, what = start(files, from_hook=True)
        if st is None:
            sys.stderr.write(f"agent-strace hook: daemon not started: {what}\n")


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _log_tail(path: str, start: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(start)
            lines = [x for x in f.read().decode("utf-8", "replace").splitlines() if x.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""
