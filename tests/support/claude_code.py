"""Running a real Claude Code (npm @anthropic-ai/claude-code 2.1.x) offline.

The package is installed once into ``.cache/npm-claude`` (see
:mod:`support.npm`).  Claude Code runs in print
mode against a scripted endpoint (:mod:`support.anthropic_stub`) with a
throw-away HOME, so nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import sys
import subprocess
from pathlib import Path

from .npm import npm_install

VERSION = os.environ.get("AGENT_STRACE_CLAUDE_VERSION", "2.1.328")
# a newer 2.1.x, for cassettes recorded with VERSION and replayed with it (version drift)
NEXT_VERSION = os.environ.get("AGENT_STRACE_CLAUDE_NEXT_VERSION", "2.1.332")


def claude_bin(version: str = VERSION) -> str:
    folder = "npm-claude" if version == VERSION else "npm-claude-next"
    return str(npm_install(folder, [f"@anthropic-ai/claude-code@{version}"]) / "claude")


def claude_env(home: Path, base_url: str, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANTHROPIC_", "CLAUDE", "OPENAI_"))}
    # agent-strace on PATH, as for a user who installed it: project-scope hooks
    # look it up there (the tests run the venv's python without activating it).
    venv_bin = os.path.dirname(sys.executable)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env.update({
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-ant-test-dummy-key-not-real",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
    })
    if extra:
        env.update(extra)
    return env


def run_claude(project: Path, home: Path, base_url: str, prompt: str, allowed: str,
               extra_args=(), env_extra=None, timeout=180) -> dict:
    """Run ``claude -p`` and return its JSON result (with ``_wall_s``)."""
    import time

    cmd = [claude_bin(), "-p", prompt, "--output-format", "json", "--allowedTools", allowed, *extra_args]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=project, env=claude_env(home, base_url, env_extra),
                       capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    try:
        out = json.loads(r.stdout)
    except ValueError:
        raise AssertionError(f"claude exited {r.returncode}: {r.stdout[-2000:]} {r.stderr[-2000:]}") from None
    out["_wall_s"] = wall
    out["_returncode"] = r.returncode
    out["_stderr"] = r.stderr
    return out
