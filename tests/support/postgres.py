"""A real PostgreSQL server for tests and benchmarks: ``initdb`` and
``pg_ctl`` into a temporary folder, listening on a free loopback port.

Debian's ``postgresql`` package (``scripts/install.d/30-postgresql.sh``
installs it when missing) puts the programs in ``/usr/lib/postgresql/<ver>/bin``
and not always on PATH: both are searched.  PostgreSQL refuses to run as
root, so as root the cluster runs as ``nobody`` and its folder belongs to it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from .processes import free_port


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    cands = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return cands[-1] if cands else None


def missing_reason() -> str | None:
    for name in ("initdb", "pg_ctl"):
        if not find_bin(name):
            return (f"PostgreSQL's {name} not found (on PATH or in /usr/lib/postgresql/*/bin): "
                    "install Debian's postgresql package (scripts/install.d/30-postgresql.sh does)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed: pip install -e '.[postgres]'"
    return None


class Postgres:
    """One throwaway cluster.  ``dsn(db)`` names a database on it."""

    def __init__(self, *, fsync: bool = False, settings: dict | None = None, root: str | None = None):
        """``root``: a folder to keep the cluster in (reused when it holds
        one already); default a new temporary folder, deleted by close()."""
        reason = missing_reason()
        if reason:
            raise RuntimeError(reason)
        if root:
            os.makedirs(root, exist_ok=True)
            self.root = os.path.abspath(root)
        else:
            self.root = tempfile.mkdtemp(prefix="agent-strace-pg-")
        os.chmod(self.root, 0o755)
        self.data = os.path.join(self.root, "data")
        self.sock = self.root
        self.port = free_port()
        self.log = os.path.join(self.root, "server.log")
        self.user = None
        if os.geteuid() == 0:
            self.user = "nobody"
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.settings = {"fsync": "on" if fsync else "off", "full_page_writes": "on" if fsync else "off",
                         "max_connections": "200", "shared_buffers": "128MB", "listen_addresses": "127.0.0.1",
                         "unix_socket_directories": self.sock, "port": str(self.port),
                         "log_min_messages": "warning", **(settings or {})}
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            self._run([find_bin("initdb"), "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                       "--locale=C", "--no-sync"])
        self.start()

    def _run(self, cmd: list[str], check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if check and r.returncode != 0:
            log = ""
            if os.path.exists(self.log):
                with open(self.log, errors="replace") as f:
                    log = f.read()[-2000:]
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-2000:]}\n{log}")
        return r

    def start(self) -> None:
        opts = " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        self._run([find_bin("pg_ctl"), "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        """``fast`` (clean) or ``immediate`` (a crash: recovery from WAL at
        the next start)."""
        self._run([find_bin("pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"], check=False)

    def running(self) -> bool:
        return self._run([find_bin("pg_ctl"), "-D", self.data, "status"], check=False).returncode == 0

    def dsn(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def create_db(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def close(self) -> None:
        self.stop("immediate")
        for _ in range(20):
            try:
                shutil.rmtree(self.root)
                return
            except OSError:
                time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
