"""The issue's load test: 20 concurrent clients x 5,000 events over
loopback through the real capture sink, with the server SIGKILLed at 40%
and restarted.  Nothing may be lost, duplicated or reordered.  (Throughput
is printed, never asserted: figures live in benchmarks/ and the docs.)"""

from __future__ import annotations

import json
import subprocess
import sys

from support.npm import REPO


def test_20_clients_x_5000_events_with_a_server_kill():
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "server_load.py"), "--clients", "20",
                        "--events", "5000", "--kill", "--json"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["client_errors"] == []
    assert out["killed_at_lines"] is not None and 0 < out["killed_at_lines"] < out["events"]
    assert (out["lost"], out["duplicates"], out["out_of_order"]) == (0, 0, 0)
    print(f"{out['events']} events: {out['server_events_per_s']} events/s through the server "
          f"(local-only floor {out['floor_events_per_s']}/s, ratio {out['ratio']}x); "
          f"killed after {out['killed_at_lines']} lines")
