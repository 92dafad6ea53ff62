"""Running a real OpenCode (npm opencode-ai 1.18.x) offline.

Installed once into ``.cache/npm-opencode``.  ``opencode run`` talks to the
scripted chat-completions API (:mod:`support.chat_stub`) through a custom
OpenAI-compatible provider in the project's ``opencode.json``, with a
throw-away HOME and XDG folders.  At startup OpenCode installs
``@opencode-ai/plugin`` into its config folders and waits for it; offline,
npm's fetch retries make that wait over a minute, so the retries are off
(``npm_config_fetch_retries=0``) and the install fails at once (the plugin
agent-strace installs does not need the package).  ``PWD`` must name the
project: OpenCode takes its directory from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .npm import npm_install
from .processes import free_port

VERSION = os.environ.get("AGENT_STRACE_OPENCODE_VERSION", "1.18.33")
MODEL = "stub-model"


def opencode_bin() -> str:
    return str(npm_install("npm-opencode", [f"opencode-ai@{VERSION}"]) / "opencode")


def prepare(project: Path, home: Path, base_url: str) -> None:
    """The project's opencode.json: a custom OpenAI-compatible provider."""
    cfg = {"$schema": "https://opencode.ai/config.json", "model": f"stub/{MODEL}", "autoupdate": False,
           "share": "disabled",
           "provider": {"stub": {"npm": "@ai-sdk/openai-compatible", "name": "Stub",
                                 "options": {"baseURL": base_url, "apiKey": "sk-test-dummy-not-real"},
                                 "models": {MODEL: {"name": "Stub model"}}}}}
    (project / "opencode.json").write_text(json.dumps(cfg, indent=1))


def opencode_env(home: Path, project: Path, extra: dict | None = None) -> dict:
    dead = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "OPENCODE", "XDG_"))}
    env.update({"HOME": str(home), "PWD": str(project), "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_DATA_HOME": str(home / ".local" / "share"), "XDG_CACHE_HOME": str(home / ".cache"),
                "XDG_STATE_HOME": str(home / ".local" / "state"), "HTTPS_PROXY": dead, "HTTP_PROXY": dead,
                "NO_PROXY": "127.0.0.1,localhost", "OPENCODE_DISABLE_AUTOUPDATE": "1",
                "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
                "npm_config_fetch_retries": "0",  # its dependency install fails at once offline
                "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")})
    if extra:
        env.update(extra)
    return env


def run_opencode(project: Path, home: Path, prompt: str, env_extra=None, timeout=240):
    r = subprocess.run([opencode_bin(), "run", prompt], cwd=project, env=opencode_env(home, project, env_extra),
                       capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return r
