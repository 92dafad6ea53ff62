"""Where the daemon keeps its files: one private folder per user.

``$AGENT_STRACE_DAEMON_DIR``, else ``$XDG_STATE_HOME/agent-strace/daemon``
(``~/.local/state/agent-strace/daemon``), created 0700.  A state folder, not
``$XDG_RUNTIME_DIR``: the secret and the port are written into the agent's
settings by ``setup`` and must survive a reboot.

=============== ==============================================================
``secret``      the per-user secret HTTP hooks send (0600, made once)
``config.json`` ``{"port": N}``: the port ``setup`` wrote into the hooks' URL
``daemon.lock`` held (``flock``) by the running daemon: the liveness test,
                immune to stale pid files and reused pids
``daemon.json`` pid, port, socket, start time (written once it listens)
``daemon.sock`` Unix socket for our own clients (readers, ``daemon status``)
``daemon.log``  the daemon's stderr
``sessions/``   sessions the SessionStart hook registered (:mod:`.registry`)
=============== ==============================================================

Imported by the SessionStart hook: ``os``, ``fcntl`` and our fastjson only.
"""

from __future__ import annotations

import fcntl
import os

DIR_VAR = "AGENT_STRACE_DAEMON_DIR"
PORT_VAR = "AGENT_STRACE_DAEMON_PORT"
SECRET_VAR = "AGENT_STRACE_SECRET"  # what Claude Code interpolates into the hook's header
SECRET_HEADER = "Authorization"  # "Bearer <secret>"
DEFAULT_PORT = 47391
SOCKET_MAX = 100  # sun_path is 108 bytes on Linux


class DaemonFiles:
    def __init__(self, root: str | None = None):
        self.root = root or daemon_dir()

    def path(self, name: str) -> str:
        return os.path.join(self.root, name)

    @property
    def lock(self) -> str:
        return self.path("daemon.lock")

    @property
    def state(self) -> str:
        return self.path("daemon.json")

    @property
    def secret(self) -> str:
        return self.path("secret")

    @property
    def config(self) -> str:
        return self.path("config.json")

    @property
    def log(self) -> str:
        return self.path("daemon.log")

    @property
    def sessions(self) -> str:
        return self.path("sessions")

    @property
    def socket(self) -> str | None:
        """The Unix socket's path, or None when no private place short enough
        exists (then our clients use TCP with the secret)."""
        p = self.path("daemon.sock")
        if len(p) <= SOCKET_MAX:
            return p
        import zlib

        base = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/agent-strace-{os.getuid()}"
        name = "daemon-%08x.sock" % zlib.crc32(os.fsencode(self.root))
        p = os.path.join(base, name)
        return p if len(p) <= SOCKET_MAX else None

    def ensure(self) -> None:
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        os.makedirs(self.sessions, mode=0o700, exist_ok=True)


def daemon_dir() -> str:
    explicit = os.environ.get(DIR_VAR)
    if explicit:
        return os.path.abspath(explicit)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "agent-strace", "daemon")


def is_running(files: DaemonFiles) -> bool:
    """True while a daemon holds the lock (cheap: one open and one flock)."""
    try:
        fd = os.open(files.lock, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def read_json(path: str):
    from ..event.fastjson import loads

    try:
        with open(path, "rb") as f:
            return loads(f.read())
    except (OSError, ValueError):
        return None


def write_json(path: str, obj, mode: int = 0o600) -> None:
    """Atomically (temp file + rename), private by default."""
    from ..event.fastjson import dumps

    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, dumps(obj).encode("utf-8", "surrogatepass"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def port(files: DaemonFiles) -> int:
    """``$AGENT_STRACE_DAEMON_PORT``, else config.json, else the default."""
    env = os.environ.get(PORT_VAR)
    if env:
        return _valid_port(env, PORT_VAR)
    cfg = read_json(files.config)
    if isinstance(cfg, dict) and cfg.get("port") is not None:
        return _valid_port(cfg["port"], files.config)
    return DEFAULT_PORT


def _valid_port(v, where: str) -> int:
    try:
        n = int(v)
    except (TypeError, ValueError):
        n = 0
    if not 0 < n < 65536:
        raise ValueError(f"{where}: not a TCP port: {v!r}")
    return n


def save_port(files: DaemonFiles, n: int) -> None:
    files.ensure()
    cfg = read_json(files.config)
    cfg = cfg if isinstance(cfg, dict) else {}
    if cfg.get("port") != n:
        cfg["port"] = n
        write_json(files.config, cfg)


def secret(files: DaemonFiles, create: bool = True) -> str | None:
    """The per-user secret; made (0600) on first use when ``create``."""
    try:
        with open(files.secret, encoding="ascii") as f:
            value = f.read().strip()
        if value:
            return value
    except (OSError, UnicodeDecodeError):
        pass
    if not create:
        return None
    import secrets as _secrets

    files.ensure()
    value = _secrets.token_urlsafe(32)
    tmp = f"{files.secret}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value + "\n")
    try:
        os.link(tmp, files.secret)  # first writer wins: two racing setups agree
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return secret(files, create=False)
