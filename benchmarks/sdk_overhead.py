"""What the SDK costs, as ratios against the same work without it, same run.

1. A ``@trace_tool`` function called with no session and no cassette, against
   the undecorated function (the promise: one context-variable read).
2. The same call inside a session (an event pair appended per call).
3. An openai SDK chat call to a local scripted server with ``instrument()``
   on and a session active, against the same call uninstrumented.

    python benchmarks/sdk_overhead.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))


def per_call(fn, n: int) -> float:
    best = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best.append((time.perf_counter() - t0) / n)
    return min(best)


def main() -> None:
    from agent_trace.sdk import instrument, session, trace_tool, uninstrument

    def plain(x=1):
        return x + 1

    traced = trace_tool(plain)
    base = per_call(plain, 200_000)
    off = per_call(traced, 200_000)
    print(f"no session:   plain {base * 1e9:7.0f} ns   traced {off * 1e9:7.0f} ns   "
          f"+{(off - base) * 1e9:.0f} ns per call ({off / base:.2f}x)")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AGENT_TRACE_DIR"] = tmp
        with session("bench"):
            on = per_call(traced, 2_000)
        print(f"in a session: traced {on * 1e6:7.1f} us per call (two events appended to the store)")

        import openai
        from support.openai_stub import OpenAIStub

        with OpenAIStub() as up:
            client = openai.OpenAI(base_url=up.url, api_key="sk-test-not-a-real-key-000000000000")

            def call():
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])

            rounds_a, rounds_b = [], []
            instrument()
            for _ in range(5):  # alternate so drift hits both alike
                uninstrument()
                rounds_a.append(per_call(call, 40))
                instrument()
                with session("bench-sdk"):
                    rounds_b.append(per_call(call, 40))
            uninstrument()
        a, b = statistics.median(rounds_a), statistics.median(rounds_b)
        print(f"openai chat:  direct {a * 1e3:6.2f} ms   instrumented {b * 1e3:6.2f} ms   ({b / a:.2f}x)")


if __name__ == "__main__":
    main()
