"""One duration format in the CLI, the dashboard and the VS Code extension."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import REPO

from agent_trace.event.timefmt import event_duration, human_duration

CASES = json.loads((REPO / "tests" / "fixtures" / "durations.json").read_text())["cases"]


def test_python_format():
    assert human_duration(0.009) == "9ms" and human_duration(12.345) == "12.3s"
    assert human_duration(59.95) == "1m00s"  # never "0m59s" or "60.0s"
    assert human_duration(89.5) == "1m29s" and human_duration(7505) == "2h05m"
    assert event_duration(2.5) == " 3ms" and event_duration(90_000) == " 1m30s" and event_duration(None) == ""
    for seconds, text in CASES:
        assert human_duration(seconds) == text, seconds


def test_dashboard_format_is_the_same():
    if not shutil.which("node"):
        pytest.skip("node is not installed: cannot run the dashboard's JavaScript")
    app = (REPO / "src" / "agent_trace" / "web" / "app.js").read_text()
    fn = re.search(r"^function fmtDur\(s\) \{.*?^\}", app, re.S | re.M).group(0)
    script = fn + f"\nconst cases = {json.dumps(CASES)};\n" \
        "console.log(JSON.stringify(cases.map(([s]) => fmtDur(s))));"
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [text for _, text in CASES]
