"""The agent frameworks (OpenAI Agents SDK, Claude Agent SDK, LangGraph /
LangChain, Pydantic AI) in a virtualenv of their own, for the integration
tests.

They are heavy and pin their own dependencies, so they stay out of the dev
venv: ``tests/frameworks/requirements.txt`` (exact versions) is installed
once into ``.cache/frameworks-venv-<hash of that file>`` (git-ignored; about a
minute cold), and each test runs a small real agent from ``tests/frameworks/``
with that interpreter and this checkout's ``src`` on ``PYTHONPATH`` (the core
is stdlib-only, so nothing else is needed).  ``python tests/support/frameworks.py``
installs it ahead of the tests (``scripts/install.d/40-frameworks.sh``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APPS = REPO / "tests" / "frameworks"
REQUIREMENTS = APPS / "requirements.txt"


def venv_dir() -> Path:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:10]
    return REPO / ".cache" / f"frameworks-venv-{digest}"


def install() -> tuple[Path | None, str]:
    """(python of the frameworks venv, or None; what went wrong)."""
    venv = venv_dir()
    py = venv / "bin" / "python"
    done = venv / ".installed"
    if done.exists():
        return py, ""
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(str(venv) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return py, ""
        r = subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], capture_output=True, text=True)
        if r.returncode == 0:
            r = subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                               capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            return None, (r.stderr or r.stdout).strip()[-400:]
        done.write_text("ok\n")
    return py, ""


def framework_python() -> str:
    import pytest

    py, why = install()
    if py is None:
        pytest.skip(f"could not install the agent frameworks ({REQUIREMENTS.name}): {why}")
    return str(py)


def run_app(app: str, *args: str, env: dict | None = None, timeout: float = 900):
    """Run ``tests/frameworks/<app>.py`` in the frameworks venv; its JSON line
    (a list for ``--plan``: see ``tests/frameworks/runner.py``)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    full.update({"PYTHONPATH": str(REPO / "src"), "OPENAI_AGENTS_DISABLE_TRACING": "0"})
    full.update(env or {})
    r = subprocess.run([framework_python(), str(APPS / f"{app}.py"), *args], env=full, capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    lines = [x for x in r.stdout.splitlines() if x.startswith(("{", "["))]
    if r.returncode != 0 or not lines:
        raise AssertionError(f"{app} exited {r.returncode}: {r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    out = json.loads(lines[-1])
    for o in out if isinstance(out, list) else [out]:
        o["_stderr"] = r.stderr
    return out


if __name__ == "__main__":
    py, why = install()
    if py is None:
        sys.stderr.write(f"warning: agent frameworks not installed: {why}\n")
    sys.exit(0)
