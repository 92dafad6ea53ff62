"""Load on ``agent-strace server`` over loopback: N client processes each
emit M events through the real capture sink (local spool + background
shipper, ``AGENT_STRACE_ENDPOINT``), optionally with a collector SIGKILLed
and restarted mid-load, or the database stopped and restarted.  Then every
session on the server is checked: each event exactly once, in the order it
was emitted.

Storage: the file backend (default) or PostgreSQL (``--storage postgresql``:
a throwaway cluster from Debian's package, see tests/support/postgres.py)
with ``--collectors N`` collector processes on one database.  Clients go to
collector ``c % N``, or with ``--balancer`` through a round-robin TCP
balancer, so a retry after a failure may reach another collector.

Floor, measured in the same run: the same clients writing only to their
local store (no endpoint).  The ratio is wall time with delivery to the
server over wall time of local capture alone.

    python benchmarks/server_load.py [--clients 20] [--events 5000] [--kill] [--json]
    python benchmarks/server_load.py --storage postgresql --collectors 2 --balancer --kill --restart-db
    python benchmarks/server_load.py --matrix     # files, then PostgreSQL with 1, 2 and 4 collectors
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


def start_server(storage: str, port: int, extra=()) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "agent_trace", "server", "--port", str(port), "--storage", storage,
                          *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_port(port, timeout=30, proc=p)
    return p


def stop(p: subprocess.Popen, sig=signal.SIGTERM) -> None:
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass
    p.wait()


def proc_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a live process (and of its waited-for children)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_clients(tmp: str, clients: int, events: int, endpoints: list[str] | None) -> list[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if k != "AGENT_STRACE_ENDPOINT"}
    procs = []
    for c in range(clients):
        if endpoints:
            env["AGENT_STRACE_ENDPOINT"] = endpoints[c % len(endpoints)]
        procs.append(subprocess.Popen([sys.executable, "-c", CLIENT, os.path.join(tmp, f"client-{c}"),
                                       f"load-{c:02d}", str(events)], env=dict(env), stderr=subprocess.PIPE,
                                      text=True))
    return procs


# -- the two backends ---------------------------------------------------------
class Files:
    name = "files"

    def __init__(self, tmp: str):
        self.spec = os.path.join(tmp, "server")

    def cpu(self) -> float:
        return 0.0

    def stored(self) -> int:
        total = 0
        d = os.path.join(self.spec, "sessions")
        if not os.path.isdir(d):
            return 0
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                total += f.read().count(b"\n")
        return total

    def sequences(self, clients: int):
        from agent_trace.store.paths import Store
        from agent_trace.store.reader import ReadStats, iter_events

        store = Store(self.spec)
        for c in range(clients):
            stats = ReadStats()
            seqs = [e["data"]["seq"] for e in iter_events(store.path_for(f"load-{c:02d}"), stats)]
            yield seqs, stats.skipped(), None

    def close(self):
        pass


class Database:
    name = "postgresql"

    def __init__(self, tmp: str, fsync: bool):
        from support.postgres import Postgres

        self.pg = Postgres(fsync=fsync)
        self.spec = self.pg.create_db("load")

    def cpu(self) -> float:
        """The server's CPU so far: the postmaster and its ended backends (a
        backend's time is added when it exits: read after the collectors
        have closed their connections)."""
        with open(os.path.join(self.pg.data, "postmaster.pid")) as f:
            return proc_cpu(int(f.readline()), children=True)

    def _q(self, sql: str, args=()):
        import psycopg

        with psycopg.connect(self.spec, connect_timeout=5) as conn:
            return conn.execute(sql, args).fetchall()

    def stored(self) -> int:
        try:
            return int(self._q("SELECT coalesce(sum(events), 0) FROM agent_strace.sessions")[0][0])
        except Exception:
            return 0

    def sequences(self, clients: int):
        rows = {}
        for session, line in self._q("SELECT session, line FROM agent_strace.events ORDER BY session, seq"):
            rows.setdefault(session, []).append(json.loads(line)["data"]["seq"])
        summary = dict(((s, (e, t)) for s, e, t in self._q(
            "SELECT session, events, tool_calls FROM agent_strace.sessions")))
        for c in range(clients):
            name = f"load-{c:02d}"
            yield rows.get(name, []), 0, summary.get(name)

    def close(self):
        self.pg.close()


def verify(backend, clients: int, events: int) -> dict:
    lost = dup = disorder = skipped = bad_summary = 0
    for seqs, skip, summary in backend.sequences(clients):
        skipped += skip
        uniq = set(seqs)
        lost += events - len(uniq)
        dup += len(seqs) - len(uniq)
        disorder += sum(1 for a, b in zip(seqs, seqs[1:]) if b <= a)
        if summary is not None and summary != (len(seqs), len(seqs)):
            bad_summary += 1  # the stored summary disagrees with the stored events
    return {"lost": lost, "duplicates": dup, "out_of_order": disorder, "torn_lines_skipped": skipped,
            "summaries_wrong": bad_summary}


def run(storage: str, collectors: int, clients: int, events: int, *, kill=False, restart_db=False,
        balancer=False, fsync=False, floor_s: float | None = None) -> dict:
    total = clients * events
    out: dict = {"storage": storage, "collectors": collectors, "clients": clients, "events_per_client": events,
                 "events": total}
    with tempfile.TemporaryDirectory() as tmp:
        if floor_s is None:
            t0 = time.perf_counter()
            procs = run_clients(os.path.join(tmp, "floor"), clients, events, None)
            for p in procs:
                assert p.wait() == 0, p.stderr.read()
            floor_s = time.perf_counter() - t0
        backend = Files(tmp) if storage == "files" else Database(tmp, fsync)
        servers, ports, lb = [], [free_port() for _ in range(collectors)], None
        try:
            servers = [start_server(backend.spec, port) for port in ports]
            if balancer:
                from support.balancer import Balancer

                lb = Balancer([("127.0.0.1", p) for p in ports])
                endpoints = [lb.url]
            else:
                endpoints = [f"http://127.0.0.1:{p}" for p in ports]
            db0, c0 = backend.cpu(), children_cpu()
            t0 = time.perf_counter()
            procs = run_clients(os.path.join(tmp, "remote"), clients, events, endpoints)
            killed_at = restarted_db_at = None
            if kill:
                while backend.stored() < total * 0.3:
                    time.sleep(0.05)
                stop(servers[0], signal.SIGKILL)
                killed_at = backend.stored()
                time.sleep(0.5)
                servers[0] = start_server(backend.spec, ports[0])
            if restart_db:
                while backend.stored() < total * 0.6:
                    time.sleep(0.05)
                backend.pg.stop("immediate")  # a crash: recovery from the WAL at start
                time.sleep(1.0)
                backend.pg.start()
                restarted_db_at = backend.stored()
            errors = []
            for p in procs:
                if p.wait() != 0:
                    errors.append(p.stderr.read()[-500:])
            remote_s = time.perf_counter() - t0
            client_cpu = children_cpu() - c0
            collector_cpu = sum(proc_cpu(s.pid) for s in servers)
        finally:
            for s in servers:
                stop(s)
            if lb:
                lb.close()
        time.sleep(0.5)  # the database reaps the collectors' backends
        db_cpu = backend.cpu() - db0
        out.update(verify(backend, clients, events))
        backend.close()
    out.update({"floor_s": round(floor_s, 3), "remote_s": round(remote_s, 3),
                "floor_events_per_s": round(total / floor_s), "server_events_per_s": round(total / remote_s),
                "ratio": round(remote_s / floor_s, 2), "killed_at_lines": killed_at,
                "db_restarted_at_events": restarted_db_at, "client_errors": errors,
                "cpu_us_per_event": {"clients": round(client_cpu / total * 1e6, 1),
                                     "collectors": round(collector_cpu / total * 1e6, 1),
                                     "database": round(db_cpu / total * 1e6, 1)}})
    if lb:
        out["balancer_connections"] = lb.connections
    return out


def show(out: dict) -> None:
    what = out["storage"] + (f" x{out['collectors']}" if out["storage"] != "files" else "")
    print(f"  {what:<16} {out['remote_s']:6.2f} s  {out['server_events_per_s']:>8,} events/s  "
          f"ratio {out['ratio']:.2f}x  lost {out['lost']} dup {out['duplicates']} "
          f"disorder {out['out_of_order']}"
          + (f"  killed after {out['killed_at_lines']}" if out["killed_at_lines"] is not None else "")
          + (f"  db restarted at {out['db_restarted_at_events']}" if out["db_restarted_at_events"] is not None
             else ""))
    cpu = out["cpu_us_per_event"]
    print(f"  {'':<16} CPU per event: clients {cpu['clients']} us, collectors {cpu['collectors']} us, "
          f"database {cpu['database']} us")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--storage", choices=("files", "postgresql"), default="files")
    ap.add_argument("--collectors", type=int, default=1)
    ap.add_argument("--kill", action="store_true", help="SIGKILL a collector at 30%% and restart it")
    ap.add_argument("--restart-db", action="store_true", help="crash-stop the database at 60%% and restart it")
    ap.add_argument("--balancer", action="store_true", help="clients reach the collectors through a "
                                                            "round-robin TCP balancer")
    ap.add_argument("--fsync", action="store_true", help="PostgreSQL with fsync on (default off: a test cluster)")
    ap.add_argument("--matrix", action="store_true",
                    help="one run each: files, then PostgreSQL with 1, 2 and 4 collectors (same floor)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.matrix:
        results = []
        first = run("files", 1, args.clients, args.events)
        results.append(first)
        for n in (1, 2, 4):
            results.append(run("postgresql", n, args.clients, args.events, fsync=args.fsync,
                               floor_s=first["floor_s"]))
        if args.json:
            print(json.dumps(results))
            return
        total = args.clients * args.events
        print(f"{args.clients} clients x {args.events} events = {total} events over loopback; "
              f"local capture only (floor): {first['floor_s']:.2f} s ({first['floor_events_per_s']:,} events/s)")
        for r in results:
            show(r)
        return
    out = run(args.storage, args.collectors, args.clients, args.events, kill=args.kill,
              restart_db=args.restart_db, balancer=args.balancer, fsync=args.fsync)
    if args.json:
        print(json.dumps(out))
        return
    print(f"{args.clients} clients x {args.events} events = {out['events']} events over loopback")
    print(f"  local capture only (floor): {out['floor_s']:.2f} s  ({out['floor_events_per_s']:,} events/s)")
    show(out)
    print(f"  torn lines skipped {out['torn_lines_skipped']}, summaries wrong {out['summaries_wrong']}")


if __name__ == "__main__":
    main()
