"""Running a real Gemini CLI (npm @google/gemini-cli 0.61.x) offline.

Installed once into ``.cache/npm-gemini`` (Node >= 20).  ``gemini -p`` runs
headless against the scripted API (:mod:`support.gemini_stub`) through
``GOOGLE_GEMINI_BASE_URL`` with a dummy ``GEMINI_API_KEY`` and a throw-away
HOME whose settings select API-key auth.  A fixed model (``-m``) keeps the
model router (a classifier call) out of the way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .npm import npm_install
from .processes import free_port

VERSION = os.environ.get("AGENT_STRACE_GEMINI_VERSION", "0.61.0")
MODEL = "gemini-2.5-flash"


def gemini_bin() -> str:
    return str(npm_install("npm-gemini", [f"@google/gemini-cli@{VERSION}"]) / "gemini")


def prepare_home(home: Path) -> None:
    d = home / ".gemini"
    d.mkdir(parents=True, exist_ok=True)
    (d / "settings.json").write_text(json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}}))


def gemini_env(home: Path, base_url: str, extra: dict | None = None) -> dict:
    dead = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_", "CLAUDE", "ANTHROPIC_"))}
    env.update({"HOME": str(home), "GEMINI_API_KEY": "dummy-gemini-key-not-real", "GOOGLE_GEMINI_BASE_URL": base_url,
                "HTTPS_PROXY": dead, "HTTP_PROXY": dead, "NO_PROXY": "127.0.0.1,localhost",
                "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")})
    if extra:
        env.update(extra)
    return env


def run_gemini(project: Path, home: Path, base_url: str, prompt: str, env_extra=None, timeout=180):
    """``gemini -p`` in ``project``; returns the CompletedProcess with
    ``.session`` (from its JSON output) and ``.out`` (the parsed output)."""
    cmd = [gemini_bin(), "--yolo", "-o", "json", "-m", MODEL, "-p", prompt]
    r = subprocess.run(cmd, cwd=project, env=gemini_env(home, base_url, env_extra), capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    try:
        r.out = json.loads(r.stdout)
    except ValueError:
        r.out = {}
    r.session = r.out.get("session_id")
    return r
