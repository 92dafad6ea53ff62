"""Load on ``agent-strace server`` over loopback: N client processes each
emit M events through the real capture sink (local spool + background
shipper, ``AGENT_STRACE_ENDPOINT``), optionally with the server SIGKILLed
and restarted mid-load.  Then every session on the server is checked: each
event exactly once, in the order it was emitted.

Floor, measured in the same run: the same clients writing only to their
local store (no endpoint).  The ratio is wall time with delivery to the
server over wall time of local capture alone.

    python benchmarks/server_load.py [--clients 20] [--events 5000] [--kill] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from support.processes import free_port, wait_port  # noqa: E402

CLIENT = """
import sys
from agent_trace import event as ev
from agent_trace.capture.sink import open_sink
from agent_trace.store.paths import Store
root, session, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sink = open_sink(Store(root))
sink.drain_timeout = 300
for i in range(n):
    sink.emit(ev.make_event(ev.TOOL_CALL, session, "sdk", tool="Bash", tool_use_id=f"t{i}",
                            data={"seq": i, "tool_input": {"command": f"echo step {i}"}}))
sink.close()
"""


def start_server(storage: str, port: int) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "agent_trace", "server", "--port", str(port), "--storage", storage],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_port(port, timeout=20, proc=p)
    return p


def run_clients(tmp: str, clients: int, events: int, endpoint: str | None) -> list[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if k != "AGENT_STRACE_ENDPOINT"}
    if endpoint:
        env["AGENT_STRACE_ENDPOINT"] = endpoint
    return [subprocess.Popen([sys.executable, "-c", CLIENT, os.path.join(tmp, f"client-{c}"), f"load-{c:02d}",
                              str(events)], env=env, stderr=subprocess.PIPE, text=True)
            for c in range(clients)]


def stored_lines(storage: str) -> int:
    total = 0
    d = os.path.join(storage, "sessions")
    if not os.path.isdir(d):
        return 0
    for name in os.listdir(d):
        with open(os.path.join(d, name), "rb") as f:
            total += f.read().count(b"\n")
    return total


def verify(storage: str, clients: int, events: int) -> dict:
    from agent_trace.store.paths import Store
    from agent_trace.store.reader import ReadStats, iter_events

    store = Store(storage)
    lost = dup = disorder = skipped = 0
    for c in range(clients):
        stats = ReadStats()
        seqs = [e["data"]["seq"] for e in iter_events(store.path_for(f"load-{c:02d}"), stats)]
        skipped += stats.skipped()
        uniq = set(seqs)
        lost += events - len(uniq)
        dup += len(seqs) - len(uniq)
        disorder += sum(1 for a, b in zip(seqs, seqs[1:]) if b <= a)
    return {"lost": lost, "duplicates": dup, "out_of_order": disorder, "torn_lines_skipped": skipped}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--kill", action="store_true", help="SIGKILL the server at 40%% and restart it")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    total = args.clients * args.events
    out: dict = {"clients": args.clients, "events_per_client": args.events, "events": total}
    with tempfile.TemporaryDirectory() as tmp:
        # floor: local capture only
        t0 = time.perf_counter()
        procs = run_clients(os.path.join(tmp, "floor"), args.clients, args.events, None)
        for p in procs:
            assert p.wait() == 0, p.stderr.read()
        floor_s = time.perf_counter() - t0

        storage = os.path.join(tmp, "server")
        port = free_port()
        server = start_server(storage, port)
        t0 = time.perf_counter()
        procs = run_clients(os.path.join(tmp, "remote"), args.clients, args.events, f"http://127.0.0.1:{port}")
        killed_at = None
        if args.kill:
            while stored_lines(storage) < total * 0.4:
                time.sleep(0.05)
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            killed_at = stored_lines(storage)
            time.sleep(0.5)
            server = start_server(storage, port)
        errors = []
        for p in procs:
            if p.wait() != 0:
                errors.append(p.stderr.read()[-500:])
        remote_s = time.perf_counter() - t0
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
        out.update(verify(storage, args.clients, args.events))
        out.update({"floor_s": round(floor_s, 3), "remote_s": round(remote_s, 3),
                    "floor_events_per_s": round(total / floor_s), "server_events_per_s": round(total / remote_s),
                    "ratio": round(remote_s / floor_s, 2), "killed_at_lines": killed_at, "client_errors": errors})
    if args.json:
        print(json.dumps(out))
        return
    print(f"{args.clients} clients x {args.events} events = {total} events over loopback")
    print(f"  local capture only (floor): {out['floor_s']:.2f} s  ({out['floor_events_per_s']:,} events/s)")
    print(f"  delivered to the server   : {out['remote_s']:.2f} s  ({out['server_events_per_s']:,} events/s)"
          f"  ratio {out['ratio']:.2f}x")
    if killed_at is not None:
        print(f"  server SIGKILLed after {killed_at} stored lines and restarted")
    print(f"  lost {out['lost']}, duplicated {out['duplicates']}, out of order {out['out_of_order']}, "
          f"torn lines skipped {out['torn_lines_skipped']}")


if __name__ == "__main__":
    main()
