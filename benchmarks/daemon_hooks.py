"""The agent-strace daemon under a client like Claude Code's (Node's HTTP client,
keep-alive), against floors measured in the same run.

    python benchmarks/daemon_hooks.py                  # latency: HTTP hook vs command hooks
    python benchmarks/daemon_hooks.py --events 1000000 # memory over N events, then CPU at idle

Latency (real Claude Code 2.1.328 payloads, a 10-rule rules file in the
project so every PreToolUse is evaluated):

* HTTP hook: one POST to the daemon and its answer, p50/p90/p99, from Node;
  floor: the same client against a Node server that reads the body and
  answers ``{}`` (a direct connection, no work);
* command hook: a fresh process per event, exactly as ``setup`` installs it;
  floor: ``python -c pass``;
* the cheapest command hook that could ask the daemon instead: a ``python -c``
  that forwards stdin over the Unix socket with ``_socket`` (a lower bound for
  "a command hook that asks the daemon").

Memory: N events from 4 concurrent clients into sessions of 1,200 events
(``--block``; hundreds of sessions, more than the daemon keeps live), RSS
sampled as it goes; then the daemon's CPU time over a quiet period.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "claude-code-2.1.328" / "hook-payloads.jsonl"
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from hook_latency import RULES  # noqa: E402  (the same 10 rules)
from support.processes import free_port  # noqa: E402

NODE_CLIENT = r"""
const http = require('http'), fs = require('fs');
const [port, secret, file, total, conc, blockSize, mode] = process.argv.slice(2);
const n = +total, payloads = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const agent = new http.Agent({keepAlive: true, maxSockets: +conc});
const path = mode === 'floor' ? '/' : '/agent-strace/hook/claude';
let next = 0; const lat = [];
function post(body) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const r = http.request({host: '127.0.0.1', port: +port, method: 'POST', path, agent,
      headers: {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body),
                'Authorization': 'Bearer ' + secret}}, (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => resp.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t) / 1e6)
                                                  : reject(new Error('HTTP ' + resp.statusCode)));
    });
    r.on('error', reject);
    r.end(body);
  });
}
async function worker() {
  while (next < n) {
    const i = next++;
    const cycle = Math.floor(i / payloads.length);
    let body = payloads[i % payloads.length];
    // one session per block of events; tool ids unique per cycle so calls and results still pair
    body = body.replace(/"session_id": "[^"]*"/, '"session_id": "bench-' + Math.floor(i / +blockSize) + '"')
               .replace(/"tool_use_id": "([^"]*)"/, '"tool_use_id": "$1-' + cycle + '"');
    lat.push(await post(body));
    if ((i + 1) % 50000 === 0) process.stdout.write(JSON.stringify({done: i + 1}) + '\n');
  }
}
(async () => {
  const t0 = Date.now();
  await Promise.all(Array.from({length: +conc}, worker));
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))];
  process.stdout.write(JSON.stringify({n: lat.length, p50: q(0.5), p90: q(0.9), p99: q(0.99),
                                       secs: (Date.now() - t0) / 1000}) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
"""

NODE_FLOOR_SERVER = r"""
const http = require('http');
const s = http.createServer((req, res) => {
  const chunks = []; req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': 2});
    res.end('{}');
  });
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
"""

FORWARD = ("import _socket,sys;d=sys.stdin.buffer.read();s=_socket.socket(1,1);s.connect(sys.argv[1]);"
           "s.sendall(b'POST /agent-strace/hook/claude HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n"
           "Content-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n'%len(d)+d);"
           "r=s.recv(65536);sys.stdout.buffer.write(r[r.find(b'\\r\\n\\r\\n')+4:])")


def node_run(js_dir: Path, port: int, secret: str, payload_file: Path, n: int, conc: int, block: int,
             mode: str = "daemon", on_progress=None) -> dict:
    p = subprocess.Popen(["node", str(js_dir / "client.js"), str(port), secret, str(payload_file), str(n),
                          str(conc), str(block), mode], stdout=subprocess.PIPE, text=True)
    result = None
    for line in p.stdout:
        msg = json.loads(line)
        if "done" in msg:
            if on_progress:
                on_progress(msg["done"])
        else:
            result = msg
    assert p.wait() == 0 and result, "node client failed"
    return result


def proc_stat(pid: int) -> tuple[int, float]:
    """(RSS in KiB, CPU seconds user+system)."""
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(cmd: list[str], data: bytes, env: dict, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, input=data, stdout=subprocess.DEVNULL, env=env, check=True)
        out.append(time.perf_counter() - t)
    return out


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:6.2f} ms  p90 {xs[int(len(xs) * .9)] * 1000:6.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000, help="latency: requests per measurement")
    ap.add_argument("--runs", type=int, default=31, help="latency: fresh processes per command-hook measurement")
    ap.add_argument("--events", type=int, default=0, help="memory: events to send (e.g. 1000000)")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of quiet to measure CPU at idle")
    ap.add_argument("--block", type=int, default=1200, help="memory: events per session")
    args = ap.parse_args()
    if not shutil.which("node"):
        raise SystemExit("node is needed (the client is Node's HTTP client, like Claude Code's)")
    from agent_trace.setup.hook_command import hook_command

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "client.js").write_text(NODE_CLIENT)
        (tmp / "floor.js").write_text(NODE_FLOOR_SERVER)
        project = tmp / "proj"
        (project / ".agent-strace").mkdir(parents=True)
        (project / ".agent-strace" / "rules.toml").write_text(RULES)
        payloads = [json.loads(x) for x in FIXTURE.read_text().splitlines() if x.strip()]
        hook_payloads = tmp / "payloads.jsonl"  # what the HTTP hooks send (SessionStart is a command hook)
        hook_payloads.write_text("".join(json.dumps({**p, "cwd": str(project)}) + "\n" for p in payloads
                                         if p["hook_event_name"] != "SessionStart"))
        port = free_port()
        env = {**os.environ, "AGENT_STRACE_DAEMON_DIR": str(tmp / "daemon"), "AGENT_STRACE_DAEMON_PORT": str(port),
               "AGENT_TRACE_DIR": str(tmp / "store"), "PYTHONPATH": str(REPO / "src")}
        daemon = subprocess.Popen([sys.executable, "-m", "agent_trace", "daemon", "run"], env=env,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert "listening" in daemon.stdout.readline()
            key = (tmp / "daemon" / "secret").read_text().strip()
            floor_srv = subprocess.Popen(["node", str(tmp / "floor.js")], stdout=subprocess.PIPE, text=True)
            try:
                floor_port = int(floor_srv.stdout.readline())
                if args.events:
                    memory(args, tmp, port, key, hook_payloads, daemon.pid)
                    return
                latency(args, tmp, port, floor_port, key, hook_payloads, payloads, project, env, hook_command)
                idle(args, daemon.pid)
            finally:
                floor_srv.terminate()
                floor_srv.wait()
        finally:
            daemon.terminate()
            daemon.wait()


def latency(args, tmp, port, floor_port, key, hook_payloads, payloads, project, env, hook_command) -> None:
    n = args.requests
    node_run(tmp, floor_port, key, hook_payloads, 500, 1, 10**9, "floor")  # warm both
    node_run(tmp, port, key, hook_payloads, 500, 1, 10**9)
    rounds = {"floor": [], "daemon": []}
    for _ in range(3):  # interleaved, so drift hits both alike
        rounds["floor"].append(node_run(tmp, floor_port, key, hook_payloads, n, 1, 10**9, "floor"))
        rounds["daemon"].append(node_run(tmp, port, key, hook_payloads, n, 1, 10**9))
    p50 = {k: statistics.median(r["p50"] for r in v) for k, v in rounds.items()}
    print(f"HTTP hook, Node keep-alive client, {n} x 3 requests (all hook events of a real session, "
          "10 rules evaluated at every PreToolUse):")
    for k, label in (("floor", "Node server answering {} (floor)"), ("daemon", "agent-strace daemon")):
        r = rounds[k]
        print(f"  {label:<34} p50 {p50[k]:.3f} ms  p90 {statistics.median(x['p90'] for x in r):.3f} ms  "
              f"p99 {statistics.median(x['p99'] for x in r):.3f} ms")
    print(f"  daemon over floor at p50: +{p50['daemon'] - p50['floor']:.3f} ms")

    pre = next(p for p in payloads if p["hook_event_name"] == "PreToolUse")
    data = json.dumps({**pre, "cwd": str(project)}).encode()
    cmd = shlex.split(hook_command("pre-tool-use", python=sys.executable))
    sock = str(tmp / "daemon" / "daemon.sock")
    forward = [sys.executable, "-c", FORWARD, sock]
    floor = [sys.executable, "-c", "pass"]
    timed(cmd, data, env, 3)
    timed(forward, data, env, 3)
    hook, fwd, base = [], [], []
    for _ in range(args.runs):
        hook += timed(cmd, data, env, 1)
        fwd += timed(forward, data, env, 1)
        base += timed(floor, b"", env, 1)
    print(f"Command hooks, a fresh process per PreToolUse ({args.runs} runs, same rules):")
    print(f"  python -c pass (floor)             {ms(base)}")
    b = statistics.median(base)
    print(f"  command hook (setup's command)     {ms(hook)}  = {statistics.median(hook) / b:.2f}x")
    print(f"  command hook asking the daemon     {ms(fwd)}  = {statistics.median(fwd) / b:.2f}x"
          "  (lower bound: _socket only)")
    print(f"  HTTP hook p50 is {statistics.median(hook) * 1000 / p50['daemon']:.0f}x faster than the command hook")


def memory(args, tmp, port, key, hook_payloads, pid) -> None:
    n = args.events
    samples = []

    def sample(done):
        rss, cpu = proc_stat(pid)
        samples.append((done, rss))
        print(f"  {done:>9,} events  RSS {rss / 1024:7.1f} MiB", flush=True)

    sample(0)
    r = node_run(tmp, port, key, hook_payloads, n, 4, args.block, on_progress=sample)
    sample(n)
    after_warmup = next((rss for done, rss in samples if done >= n // 10), samples[0][1])
    peak = max(rss for done, rss in samples if done >= n // 10)
    print(f"{n:,} events in {r['secs']:.0f} s ({n / r['secs']:,.0f}/s, 4 clients); p50 {r['p50']:.3f} ms")
    print(f"RSS after 10%: {after_warmup / 1024:.1f} MiB, peak after: {peak / 1024:.1f} MiB, "
          f"at the end: {samples[-1][1] / 1024:.1f} MiB ({samples[-1][1] / after_warmup:.2f}x the 10% mark)")
    idle(args, pid)


def idle(args, pid) -> None:
    time.sleep(1.0)
    _, cpu0 = proc_stat(pid)
    time.sleep(args.idle)
    _, cpu1 = proc_stat(pid)
    print(f"CPU at idle: {cpu1 - cpu0:.3f} s of CPU over {args.idle:g} s "
          f"({(cpu1 - cpu0) / args.idle * 100:.2f}% of a core)")


if __name__ == "__main__":
    main()
