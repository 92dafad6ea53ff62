"""Installing npm packages the tests run, once, into ``.cache/npm-<name>``.

The cache is git-ignored and only an optimisation: a fresh machine installs on
first use.  When npm itself is missing the test is skipped with the reason.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def npm_install(cache_name: str, specs: list[str]) -> Path:
    """Install ``specs`` into ``.cache/<cache_name>``; returns its node_modules/.bin."""
    cache = REPO / ".cache" / cache_name
    stamp = cache / "specs.txt"
    want = "\n".join(specs)
    bin_dir = cache / "node_modules" / ".bin"
    if stamp.exists() and stamp.read_text() == want and bin_dir.is_dir():
        return bin_dir
    if not shutil.which("npm"):
        pytest.skip("npm is not installed: cannot install " + ", ".join(specs))
    cache.mkdir(parents=True, exist_ok=True)
    # One installer at a time per cache folder (parallel test runs share .cache).
    with open(cache.parent / f".{cache_name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == want and bin_dir.is_dir():
            return bin_dir
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(cache), *specs],
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            pytest.skip(f"could not install {specs}: {r.stderr.strip()[-300:]}")
        stamp.write_text(want)
    return bin_dir


def installed_version(cache_name: str, package: str) -> str | None:
    """The version npm installed in ``.cache/<cache_name>`` (its package.json)."""
    import json

    try:
        return json.loads((REPO / ".cache" / cache_name / "node_modules" / package / "package.json").read_text())[
            "version"]
    except (OSError, ValueError, KeyError):
        return None
