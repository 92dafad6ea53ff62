"""Cross-check against ccusage (npm ccusage@20.0.24, its native binary) on
the same generated Claude Code history: per-day and per-session tokens
identical, cost within 1% for every model both price, 5-hour blocks the same."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import run_cli
from support.history_gen import generate
from support.npm import npm_install

CCUSAGE = "ccusage@20.0.24"


@pytest.fixture(scope="module")
def ccusage_bin():
    bin_dir = npm_install("npm-ccusage", [CCUSAGE])
    exe = bin_dir / "ccusage"
    r = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        pytest.fail(f"ccusage installed but does not run: {r.stderr[-500:]}")
    return str(exe)


@pytest.fixture(scope="module")
def history_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cc-home")
    written = generate(home, sessions=120, days=21, projects=5, seed=7, resumed=0.4, damage=0.08)
    assert written["resumed"] >= 3 and written["subagent_files"] >= 10 and written["damaged"] >= 1
    return home


@pytest.fixture(scope="module")
def data_home(tmp_path_factory):
    """One user data folder for the module: the first report imports, the
    others find nothing new."""
    return tmp_path_factory.mktemp("cc-xdg")


def ccusage(exe, home, *args) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "CODEX", "XDG"))}
    env.update(HOME=str(home), NO_COLOR="1")
    r = subprocess.run([exe, "claude", *args, "--json", "--offline", "--timezone", "UTC"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def ours(home, data, monkeypatch, *args) -> dict:
    monkeypatch.delenv("AGENT_TRACE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    r = run_cli("usage", *args, "--json", "--timezone", "UTC", "--agent", "claude", timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def _tokens(c: dict) -> tuple:
    return c["inputTokens"], c["outputTokens"], c["cacheReadTokens"], c["cacheCreationTokens"]


def _ours_tokens(o: dict) -> tuple:
    return o["input"], o["output"], o["cache_read"], o["cache_write"]


def _costs_agree(theirs: list[dict], mine: dict, where: str) -> int:
    checked = 0
    for mb in theirs:
        if mb.get("missingPricing"):
            continue
        cost = mine[mb["modelName"]]["cost_usd"]
        assert cost is not None, (where, mb["modelName"])
        assert abs(cost - mb["cost"]) <= 0.01 * mb["cost"] + 1e-9, (where, mb["modelName"], cost, mb["cost"])
        checked += 1
    return checked


def test_daily_tokens_identical_and_costs_within_one_percent(ccusage_bin, history_home, data_home, monkeypatch):
    theirs = ccusage(ccusage_bin, history_home, "daily", "--breakdown")
    mine = ours(history_home, data_home, monkeypatch, "daily")
    assert [d["date"] for d in mine["daily"]] == [d["date"] for d in theirs["daily"]]
    checked = 0
    for c, o in zip(theirs["daily"], mine["daily"]):
        assert _tokens(c) == _ours_tokens(o), c["date"]
        checked += _costs_agree(c["modelBreakdowns"], o["models"], c["date"])
    assert checked >= 40
    assert _tokens(theirs["totals"]) == _ours_tokens(mine["totals"])
    # the model ccusage cannot price is priced here by its family (claude-opus), and said so in `prices`
    assert theirs["totals"].get("unpricedModels") == ["claude-opus-5-5"]


def test_monthly_and_sessions_agree(ccusage_bin, history_home, data_home, monkeypatch):
    theirs = ccusage(ccusage_bin, history_home, "monthly", "--breakdown")
    mine = ours(history_home, data_home, monkeypatch, "monthly")
    assert [_tokens(c) for c in theirs["monthly"]] == [_ours_tokens(o) for o in mine["monthly"]]
    theirs = ccusage(ccusage_bin, history_home, "session")
    mine = ours(history_home, data_home, monkeypatch, "session", "--no-import")
    t = {s["sessionId"]: _tokens(s) for s in theirs["sessions"]}
    m = {s["session"]: _ours_tokens(s) for s in mine["session"]}
    assert t == m and len(m) >= 100


def test_blocks_agree(ccusage_bin, history_home, data_home, monkeypatch):
    theirs = [b for b in ccusage(ccusage_bin, history_home, "blocks")["blocks"] if not b["isGap"]]
    mine = [b for b in ours(history_home, data_home, monkeypatch, "blocks")["blocks"] if not b.get("gap")]
    assert [b["startTime"][:19] for b in theirs] == [b["start"][:19] for b in mine]
    for c, o in zip(theirs, mine):
        tc = c["tokenCounts"]
        assert (tc["inputTokens"], tc["outputTokens"], tc["cacheReadInputTokens"],
                tc["cacheCreationInputTokens"]) == _ours_tokens(o), c["startTime"]
