"""The dashboard's team pages (trends, search, compare, the user filter) in
a real headless Chromium, against a collector on a real PostgreSQL server."""

from __future__ import annotations

import subprocess
import sys

from support.browser import run_script
from support.collector import Server
from support.team_data import post, team_sessions


def test_trends_search_and_compare_pages(pg_dsn):
    with Server(pg_dsn) as srv:
        tokens = {}
        for name in ("alice", "bob"):
            r = subprocess.run([sys.executable, "-m", "agent_trace", "server", "token", "add", name,
                                "--storage", pg_dsn], capture_output=True, text=True, check=True)
            tokens[name] = r.stdout.strip()
        for (who, _s), events in team_sessions().items():
            post(srv.url, events, tokens[who])
        # the page logs in once with ?token= and keeps an HttpOnly cookie
        result = run_script("team.cjs", srv.url, tokens["alice"], timeout=120)
    assert result["page_errors"] == [] and result["foreign_requests"] == []
    assert result["trend_groups"] == ["alice", "bob"]  # ranked by cost
    assert result["cost_bars"] >= 3 and result["error_bars"] >= 1
    assert any("alice: 3" in t for t in result["error_bar_titles"]), result["error_bar_titles"]
    assert "house-model-7" in result["unpriced"] and "object" not in result["legend"] and "alice" in result["legend"]
    assert "claude-sonnet-4-5-20250929" in result["model_groups"] and "gpt-4o-2024-08-06" in result["model_groups"]
    assert "by=model" in result["trends_hash"]
    assert set(result["hit_sessions"]) == {"bob-api-1", "alice-shop-2"}
    assert {m.lower() for m in result["marks"]} >= {"rm", "rf"}
    assert result["hits_for_bob"] >= 1 and result["opened"] == "#/s/bob-api-1"
    assert result["compare_a"] == "alice-shop-1"
    assert result["verdict"] == "regressed" and "more tool errors (0 -> 3)" in result["reasons"]
    assert result["metrics"][:2] == ["tool_calls", "tool_errors"] and "3" in result["tool_errors_row"]
    assert result["diff_lines"] > 2
    assert result["all_rows"] == 3 and result["bob_rows"] == ["bob-api-1"]
