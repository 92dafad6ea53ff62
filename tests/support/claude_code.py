"""Running a real Claude Code (npm @anthropic-ai/claude-code 2.1.x) offline.

The package is installed once into ``.cache/npm-claude`` (git-ignored) and
reused; a fresh machine installs it on first use.  Claude Code runs in print
mode against a scripted endpoint (:mod:`support.anthropic_stub`) with a
throw-away HOME, so nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "npm-claude"
VERSION = os.environ.get("AGENT_STRACE_CLAUDE_VERSION", "2.1.328")


def claude_bin() -> str:
    exe = CACHE / "node_modules" / ".bin" / "claude"
    stamp = CACHE / "version.txt"
    if exe.exists() and stamp.exists() and stamp.read_text().strip() == VERSION:
        return str(exe)
    if not shutil.which("npm"):
        pytest.skip("npm is not installed: cannot install @anthropic-ai/claude-code")
    CACHE.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE),
                        f"@anthropic-ai/claude-code@{VERSION}"], capture_output=True, text=True, timeout=600)
    if r.returncode != 0 or not exe.exists():
        pytest.skip(f"could not install @anthropic-ai/claude-code@{VERSION}: {r.stderr.strip()[-300:]}")
    stamp.write_text(VERSION)
    return str(exe)


def claude_env(home: Path, base_url: str, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANTHROPIC_", "CLAUDE", "OPENAI_"))}
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
