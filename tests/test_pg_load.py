"""The issue's load test on PostgreSQL: two collectors on one database
behind a round-robin balancer, 20 clients, one collector SIGKILLed at 30%
and the database crash-stopped and restarted at 60%.  Nothing may be lost,
duplicated or reordered, and every session's stored summary must agree with
its stored events.  (Throughput is printed, never asserted.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support.npm import REPO
from support.postgres import missing_reason


def test_two_collectors_a_collector_kill_and_a_database_restart():
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "server_load.py"), "--storage", "postgresql",
                        "--collectors", "2", "--balancer", "--kill", "--restart-db", "--clients", "20",
                        "--events", "1000", "--json"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["client_errors"] == []
    assert out["killed_at_lines"] is not None and 0 < out["killed_at_lines"] < out["events"]
    assert out["db_restarted_at_events"] is not None and out["db_restarted_at_events"] < out["events"]
    assert (out["lost"], out["duplicates"], out["out_of_order"], out["summaries_wrong"]) == (0, 0, 0, 0)
    assert min(out["balancer_connections"]) > 0  # both collectors took clients
    print(f"{out['events']} events through 2 collectors: {out['server_events_per_s']} events/s "
          f"(local-only floor {out['floor_events_per_s']}/s, ratio {out['ratio']}x); collector killed after "
          f"{out['killed_at_lines']}, database restarted after {out['db_restarted_at_events']} stored events")
