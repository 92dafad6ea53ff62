"""A streamed LLM response through the capture proxy vs direct, same run.

The upstream is a local SSE server paced like a real model (first token after
``--ttft`` ms, then a token every ``--gap`` ms).  Reports time to first chunk
and total time, direct and proxied, as ratios (goal <= 1.1x) and in added
milliseconds; then 32 concurrent streams through the proxy.

    python benchmarks/llm_proxy.py [--runs 20] [--ttft 200] [--gap 10] [--tokens 50]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))


def upstream(ttft: float, gap: float, tokens: int):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            time.sleep(ttft)
            for i in range(tokens):
                chunk = {"id": "chatcmpl-b", "model": "bench", "choices": [
                    {"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}]}
                data = f"data: {json.dumps(chunk)}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                time.sleep(gap)
            end = b'data: {"id":"chatcmpl-b","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":50}}\n\n' \
                  b"data: [DONE]\n\n"
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(end), end))
            self.wfile.flush()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def stream_once(port: int, prefix: str = "/v1") -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"model": "bench", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    t0 = time.perf_counter()
    conn.request("POST", prefix + "/chat/completions", body, {"Content-Type": "application/json",
                                                             "Authorization": "Bearer sk-bench"})
    r = conn.getresponse()
    first = None
    while True:
        chunk = r.read1(65536)
        if not chunk:
            break
        if first is None:
            first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    conn.close()
    return first, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--ttft", type=float, default=200, help="ms before the first token")
    ap.add_argument("--gap", type=float, default=10, help="ms between tokens")
    ap.add_argument("--tokens", type=int, default=50)
    ap.add_argument("--concurrent", type=int, default=32)
    args = ap.parse_args()
    from agent_trace.capture.llm_wire import LlmObserver
    from agent_trace.proxy.http_forward import ReverseProxy
    from agent_trace.store.sink import FileSink
    from agent_trace.store import Store

    up = upstream(args.ttft / 1000, args.gap / 1000, args.tokens)
    up_port = up.server_address[1]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(os.path.join(tmp, "store"))
        obs = LlmObserver(FileSink(store), "bench", "bench", f"http://127.0.0.1:{up_port}/v1")
        with ReverseProxy(f"http://127.0.0.1:{up_port}/v1", obs, prefix_base=True) as px:
            stream_once(up_port), stream_once(px.port)  # warm up
            d_first, d_total, p_first, p_total = [], [], [], []
            for _ in range(args.runs):  # alternate so noise hits both alike
                f, t = stream_once(up_port)
                d_first.append(f), d_total.append(t)
                f, t = stream_once(px.port)
                p_first.append(f), p_total.append(t)
            results = []

            def worker():
                results.append(stream_once(px.port))

            t0 = time.perf_counter()
            threads = [threading.Thread(target=worker) for _ in range(args.concurrent)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            wall = time.perf_counter() - t0
        logged = sum(1 for line in open(store.path_for("bench")) if '"llm.response"' in line)
    m = statistics.median
    print(f"upstream paced: first token after {args.ttft:.0f} ms, {args.tokens} tokens {args.gap:.0f} ms apart")
    print(f"first chunk  direct {m(d_first) * 1000:7.2f} ms  proxied {m(p_first) * 1000:7.2f} ms  "
          f"+{(m(p_first) - m(d_first)) * 1000:.2f} ms  ratio {m(p_first) / m(d_first):.3f}x (goal <= 1.1x)")
    print(f"total        direct {m(d_total) * 1000:7.2f} ms  proxied {m(p_total) * 1000:7.2f} ms  "
          f"+{(m(p_total) - m(d_total)) * 1000:.2f} ms  ratio {m(p_total) / m(d_total):.3f}x (goal <= 1.1x)")
    slowest = max(t for _, t in results)
    print(f"{args.concurrent} concurrent streams: all done in {wall * 1000:.0f} ms (slowest stream "
          f"{slowest * 1000:.0f} ms vs {m(d_total) * 1000:.0f} ms alone); {logged} responses logged")


if __name__ == "__main__":
    main()
