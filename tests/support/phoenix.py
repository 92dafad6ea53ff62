"""Arize Phoenix (PyPI ``arize-phoenix``) as a real OTLP receiver for tests.

Installed once into its own virtualenv under ``.cache/phoenix-venv``
(git-ignored; about a minute cold), started on free ports with a throw-away
working directory, stopped (whole process group) afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from .npm import REPO
from .processes import Background, free_port

VENV = REPO / ".cache" / "phoenix-venv"
SPEC = os.environ.get("AGENT_STRACE_PHOENIX", "arize-phoenix")


def _runnable(exe) -> bool:
    """The script exists and its interpreter too (a virtualenv moved with the
    cache keeps the old absolute path in its scripts' first line)."""
    try:
        with open(exe, "rb") as f:
            first = f.readline()
    except OSError:
        return False
    return not first.startswith(b"#!") or os.path.exists(first[2:].split()[0].decode())


def phoenix_bin() -> str:
    exe = VENV / "bin" / "phoenix"
    if _runnable(exe):
        return str(exe)
    r = subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], capture_output=True, text=True)
    if r.returncode == 0:
        r = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", SPEC], capture_output=True, text=True,
                           timeout=1200)
    if r.returncode != 0 or not exe.exists():
        pytest.skip(f"could not install {SPEC}: {(r.stderr or r.stdout).strip()[-300:]}")
    return str(exe)


class Phoenix:
    def __init__(self, workdir):
        self.port = free_port()
        env = {**os.environ, "PHOENIX_WORKING_DIR": str(workdir), "PHOENIX_PORT": str(self.port),
               "PHOENIX_GRPC_PORT": str(free_port()), "PHOENIX_HOST": "127.0.0.1"}
        self.bg = Background([phoenix_bin(), "serve"], env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 300  # a readiness wait, not a timing claim: slow on a loaded machine
        while time.time() < deadline:
            if self.bg.proc.poll() is not None:
                raise RuntimeError(f"phoenix exited with {self.bg.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError("phoenix did not come up in 300 s")

    def get(self, path: str):
        import json

        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        self.bg.stop()


if __name__ == "__main__":  # scripts/install.d/45-phoenix.sh: install before the tests (no test timeout)
    try:
        phoenix_bin()
    except BaseException as e:  # pytest.skip raises; the installer only warns
        sys.stderr.write(f"warning: Arize Phoenix not installed: {e}\n")
    sys.exit(0)
