"""Running a real Codex CLI (npm @openai/codex 0.171.x) offline.

Installed once into ``.cache/npm-codex``.  ``codex exec`` runs against the
scripted Responses API (:mod:`support.responses_stub`) through a custom
``model_providers`` entry with a dummy key, with a throw-away HOME.  A model
slug from Codex's bundled catalog (``gpt-5.5``) makes it offer
``apply_patch``.  Without network Codex spends about 5 s per run on name
lookups; HTTP(S)_PROXY pointing at a closed loopback port makes them fail
at once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .npm import npm_install
from .processes import free_port

VERSION = os.environ.get("AGENT_STRACE_CODEX_VERSION", "0.171.0")
MODEL = "gpt-5.5"


def codex_bin() -> str:
    return str(npm_install("npm-codex", [f"@openai/codex@{VERSION}"]) / "codex")


def write_config(home: Path, base_url: str) -> Path:
    """The user's config.toml, as a user with a custom provider has it (an
    existing one only gets the new endpoint: approvals in it stay)."""
    cfg = home / ".codex" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    if cfg.exists():
        cfg.write_text(re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{base_url}"', cfg.read_text()))
        return cfg
    cfg.write_text(f'model = "{MODEL}"\nmodel_provider = "stub"\n\n[model_providers.stub]\nname = "stub"\n'
                   f'base_url = "{base_url}"\nwire_api = "responses"\nenv_key = "STUB_API_KEY"\n')
    return cfg


def codex_env(home: Path, extra: dict | None = None) -> dict:
    dead = f"http://127.0.0.1:{free_port()}"  # a closed port: name lookups fail fast
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEX_", "CLAUDE", "ANTHROPIC_"))}
    env.update({"HOME": str(home), "STUB_API_KEY": "sk-test-dummy-not-real", "HTTPS_PROXY": dead,
                "HTTP_PROXY": dead, "NO_PROXY": "127.0.0.1,localhost",
                # project-scope hooks run `agent-strace` from PATH
                "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")})
    if extra:
        env.update(extra)
    return env


def run_codex(project: Path, home: Path, prompt: str, env_extra=None, args=(), timeout=120):
    """``codex exec`` in ``project``; returns the CompletedProcess with
    ``.session`` (the session id Codex printed, or None)."""
    cmd = [codex_bin(), "exec", "--dangerously-bypass-approvals-and-sandbox", "--skip-git-repo-check",
           *args, prompt]
    r = subprocess.run(cmd, cwd=project, env=codex_env(home, env_extra), capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    m = re.search(r"session id: (\S+)", r.stderr)
    r.session = m.group(1) if m else None
    return r
