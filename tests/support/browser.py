"""Headless Chromium (Debian's package) driven by playwright-core from npm.

Browser scripts live in ``tests/browser/*.cjs``; each prints JSON lines on
stdout (the last one is its result) and exits non-zero with the reason on
failure.  Screenshots go to ``test-artifacts/`` (git-ignored; kept after the run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from .npm import REPO, npm_install

CHROMIUM = os.environ.get("AGENT_STRACE_CHROMIUM", "/usr/bin/chromium")
SCRIPTS = REPO / "tests" / "browser"
ARTIFACTS = REPO / "test-artifacts"
PLAYWRIGHT = "playwright-core@1.64.1"


def browser_env() -> dict:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package (scripts/test.sh does)")
    if not shutil.which("node"):
        pytest.skip("node is not installed: cannot drive Chromium with playwright-core")
    bin_dir = npm_install("npm-browser", [PLAYWRIGHT])
    module = bin_dir.parent / "playwright-core"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({"PLAYWRIGHT_CORE": str(module), "CHROMIUM": CHROMIUM, "ARTIFACTS": str(ARTIFACTS)})
    return env


def start_script(name: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(["node", str(SCRIPTS / name), *args], env=browser_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = 90) -> dict:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"browser script timed out\nstdout: {out[-3000:]}\nstderr: {err[-3000:]}") from None
    if proc.returncode != 0:
        raise AssertionError(f"browser script failed ({proc.returncode})\nstdout: {out[-3000:]}\nstderr: {err[-3000:]}")
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])


def run_script(name: str, *args: str, timeout: float = 90) -> dict:
    return finish(start_script(name, *args), timeout)
