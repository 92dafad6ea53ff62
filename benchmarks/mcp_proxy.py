"""tools/call round trips through the MCP proxies vs direct, same run.

Against npm @modelcontextprotocol/server-everything (cached in .cache/npm-mcp):
1,000 sequential ``tools/call echo`` (in alternating rounds) over stdio (direct vs ``agent-strace
record -- ...``) and over Streamable HTTP (direct vs ``record --url``), with a
minimal JSON-RPC client so the proxy's own cost is what shows.  Prints p50,
p99, throughput and the p50 ratio (goal <= 1.5x).

    python benchmarks/mcp_proxy.py [--calls 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.mcp_everything import everything_bin, start_everything_http  # noqa: E402
from support.processes import Background, free_port, wait_port  # noqa: E402

INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}


def call(i: int) -> dict:
    return {"jsonrpc": "2.0", "id": i, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"message": f"hello {i}"}}}


def stdio_run(cmd: list[str], n: int, env: dict) -> list[float]:
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=env, bufsize=0)

    def rpc(msg):
        p.stdin.write(json.dumps(msg).encode() + b"\n")
        while True:
            line = p.stdout.readline()
            obj = json.loads(line)
            if obj.get("id") == msg.get("id"):
                return obj

    rpc(INIT)
    p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    times = []
    for i in range(1, n + 1):
        t = time.perf_counter()
        rpc(call(i))
        times.append(time.perf_counter() - t)
    p.stdin.close()
    p.wait(timeout=10)
    return times


def http_run(url: str, n: int) -> list[float]:
    u = url.split("/", 3)
    host, port = u[2].split(":")
    path = "/" + u[3]
    conn = http.client.HTTPConnection(host, int(port))
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}

    def rpc(msg):
        conn.request("POST", path, json.dumps(msg), headers)
        r = conn.getresponse()
        body = r.read()
        if msg.get("method") == "initialize":
            headers["Mcp-Session-Id"] = r.getheader("mcp-session-id")
        return body

    rpc(INIT)
    rpc({"jsonrpc": "2.0", "method": "notifications/initialized"})
    times = []
    for i in range(1, n + 1):
        t = time.perf_counter()
        body = rpc(call(i))
        times.append(time.perf_counter() - t)
        assert b"hello" in body
    conn.close()
    return times


def report(label: str, direct: list[float], proxied: list[float]) -> None:
    def p(xs, q):
        return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] * 1000

    d50, x50 = statistics.median(direct) * 1000, statistics.median(proxied) * 1000
    print(f"{label:<6} direct  p50 {d50:6.3f} ms  p99 {p(direct, .99):6.3f} ms  "
          f"{len(direct) / sum(direct):7.0f} calls/s")
    print(f"{label:<6} proxied p50 {x50:6.3f} ms  p99 {p(proxied, .99):6.3f} ms  "
          f"{len(proxied) / sum(proxied):7.0f} calls/s")
    print(f"{label:<6} ratio p50 {x50 / d50:.2f}x   p99 {p(proxied, .99) / p(direct, .99):.2f}x   (goal p50 <= 1.5x)")


def interleaved(run_direct, run_proxied, calls: int, rounds: int) -> tuple[list[float], list[float]]:
    """Alternate direct and proxied rounds so machine noise hits both alike."""
    direct, proxied = [], []
    per = max(1, calls // rounds)
    for _ in range(rounds):
        direct += run_direct(per)
        proxied += run_proxied(per)
    return direct, proxied


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    exe = str(everything_bin())
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "AGENT_TRACE_DIR": os.path.join(tmp, "store")}
        proxy = [sys.executable, "-m", "agent_trace", "record", "--name", "everything", "--"]
        stdio_run([exe, "stdio"], 50, env)  # warm up node and the page cache
        direct, proxied = interleaved(lambda n: stdio_run([exe, "stdio"], n, env),
                                      lambda n: stdio_run(proxy + [exe, "stdio"], n, env),
                                      args.calls, args.rounds)
        report("stdio", direct, proxied)

        server, url = start_everything_http("streamableHttp")
        with server:
            port = free_port()
            with Background([sys.executable, "-m", "agent_trace", "record", "--url", url, "--port", str(port)],
                            env=env) as bg:
                wait_port(port, proc=bg.proc)
                proxied_url = f"http://127.0.0.1:{port}/mcp"
                http_run(url, 50)
                http_run(proxied_url, 50)
                direct, proxied = interleaved(lambda n: http_run(url, n), lambda n: http_run(proxied_url, n),
                                              args.calls, args.rounds)
        report("http", direct, proxied)
        events = sum(1 for f in Path(tmp, "store", "sessions").iterdir() for _ in open(f))
        print(f"events logged: {events}")


if __name__ == "__main__":
    main()
