"""A private agent-strace daemon for a test: its own folder and port, the
environment that points every process of the test at it, and a stop that
runs whatever happened (the daemon is a real, detached process)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .processes import free_port


class PrivateDaemon:
    def __init__(self, tmp: Path, monkeypatch=None):
        self.dir = tmp / "daemon"
        self.port = free_port()
        self.env = {"AGENT_STRACE_DAEMON_DIR": str(self.dir), "AGENT_STRACE_DAEMON_PORT": str(self.port)}
        if monkeypatch is not None:
            for k, v in self.env.items():
                monkeypatch.setenv(k, v)

    # -- control ---------------------------------------------------------------
    def cli(self, *args, env=None, timeout=60):
        return subprocess.run([sys.executable, "-m", "agent_trace", "daemon", *args], capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, **self.env, **(env or {})})

    def start(self, env=None):
        r = self.cli("start", env=env)
        assert r.returncode == 0, r.stderr
        return self

    def state(self) -> dict | None:
        try:
            return json.loads((self.dir / "daemon.json").read_text())
        except (OSError, ValueError):
            return None

    @property
    def pid(self) -> int | None:
        st = self.state()
        return st.get("pid") if st else None

    def running(self) -> bool:
        from agent_trace.daemon.files import DaemonFiles, is_running

        return is_running(DaemonFiles(str(self.dir)))

    def kill(self, sig=signal.SIGKILL) -> None:
        pid = self.pid
        assert pid, "no daemon to kill"
        os.kill(pid, sig)
        deadline = time.time() + 10
        while self.running() and time.time() < deadline:
            time.sleep(0.02)
        assert not self.running()

    def sync(self, timeout=30):
        r = self.cli("sync", "--timeout", str(timeout), timeout=timeout + 10)
        assert r.returncode == 0, r.stderr + r.stdout

    def stop(self) -> None:
        if self.running():
            self.cli("stop")
        if self.running() and self.pid:  # last resort: never leave a daemon behind
            os.kill(self.pid, signal.SIGKILL)

    @property
    def secret(self) -> str:
        return (self.dir / "secret").read_text().strip()

    # -- talking to it -----------------------------------------------------------
    def post(self, path: str, body, headers=None, secret=True, raw: bytes | None = None):
        """(status, parsed body) for a POST over TCP, as an agent sends it."""
        data = raw if raw is not None else json.dumps(body).encode()
        h = {"Content-Type": "application/json"}
        if secret:
            h["Authorization"] = f"Bearer {self.secret}"
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read()
        finally:
            conn.close()
        try:
            return r.status, json.loads(text) if text else None
        except ValueError:
            return r.status, text

    def hook(self, payload: dict, event: str | None = None):
        path = "/agent-strace/hook/claude" + (f"/{event}" if event else "")
        return self.post(path, payload)

    def get(self, path: str, headers=None, secret=True):
        h = {"Authorization": f"Bearer {self.secret}"} if secret else {}
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers=h)
            r = conn.getresponse()
            text = r.read()
        finally:
            conn.close()
        return r.status, json.loads(text) if text else None


def stop_any(folder: Path) -> None:
    """Stop the daemon of ``folder`` if one runs (SIGKILL after a grace period)."""
    from agent_trace.daemon.files import DaemonFiles, is_running

    files = DaemonFiles(str(folder))
    if not is_running(files):
        return
    try:
        pid = json.loads(Path(files.state).read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.time() + 5
        while is_running(files) and time.time() < deadline:
            time.sleep(0.02)
        if not is_running(files):
            return
