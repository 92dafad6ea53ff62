"""What the replay server spends per request, as a ratio to ``json.loads``
over the same request bytes (the least any server reading the request does),
same run.

A Claude Code-shaped session: a 45 KB system prompt, 30 KB of tool
definitions, an environment block naming the folder, N model calls whose
conversation grows by a tool call and a 2 KB tool result each (so call N
carries N results), each answered by a 40-event stream.  The whole cassette
is played in order, each request going through what ``serve --llm`` does
(parse, scrub secrets, learn the folder, match, map the response):

* same folder: the exact match;
* another folder: placeholders on both sides, responses moved;
* a newer agent: another system prompt and tool order, so every request
  falls through to the conversation match;
* a changed run under --strict: every request diverges and the error names
  the closest recording (the worst case: compared with every recording).

Second floor: parsing the request and turning its secrets into placeholders
(``request_call``), which the server did before any matching.  Best of 3.

    python benchmarks/cassette_match.py [N]
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from agent_trace.cassette.core import Cassette  # noqa: E402
from agent_trace.cassette.llm_server import DEFAULT_IGNORE, Player, request_call  # noqa: E402

TOOLS = [{"name": f"Tool{i}", "description": "d" * 1000, "input_schema": {"type": "object", "properties": {
    f"p{j}": {"type": "string", "description": "x" * 100} for j in range(15)}}} for i in range(12)]


def body(root: str, n: int, system: str, tools: list, prompt: str = "fix the failing tests") -> dict:
    msgs = [{"role": "user", "content": [{"type": "text", "text": "<system-reminder>x</system-reminder>"},
                                         {"type": "text", "text": prompt}]},
            {"role": "system", "content": f"# Environment\n - Primary working directory: {root}\n"}]
    for i in range(n):
        msgs.append({"role": "assistant", "content": [{"type": "tool_use", "id": f"toolu_{i}", "name": "Read",
                                                       "input": {"file_path": f"{root}/src/mod{i}.py"}}]})
        msgs.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{i}",
                                                  "content": f"{root}/src/mod{i}.py\n" + "code line\n" * 200}]})
    return {"model": "claude-opus-5-5", "max_tokens": 32000, "stream": True, "system": [{"type": "text",
            "text": system}], "tools": tools, "metadata": {"user_id": "u"}, "messages": msgs}


def stream(root: str, i: int) -> list[str]:
    raw = json.dumps({"file_path": f"{root}/src/mod{i + 1}.py"})
    ev = [{"type": "message_start", "message": {"id": f"m{i}", "content": [], "usage": {"input_tokens": 9}}},
          {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": f"toolu_{i}",
                                                                          "name": "Read", "input": {}}}]
    ev += [{"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta",
                                                                 "partial_json": raw[k:k + 2]}}
           for k in range(0, len(raw), 2)]
    ev += [{"type": "content_block_stop", "index": 0}, {"type": "message_stop"}]
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in ev]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    rec_root, system = "/home/ana/proj", "You are Claude Code. " + "Guidance. " * 4500
    entries = [{"kind": "http", "request": request_call("POST", "/v1/messages", [],
                                                        json.dumps(body(rec_root, i, system, TOOLS)).encode()),
                "response": {"status": 200, "headers": {"content-type": "text/event-stream"},
                             "stream": stream(rec_root, i)}} for i in range(n)]
    cases = {
        "same folder": (rec_root, system, TOOLS, "fix the failing tests", False),
        "another folder": ("/ci/build/42/proj", system, TOOLS, "fix the failing tests", False),
        "a newer agent": ("/ci/build/42/proj", system.replace("Guidance", "Advice"), TOOLS[::-1],
                          "fix the failing tests", False),
        "changed run, --strict": ("/ci/build/42/proj", system, TOOLS, "fix the docs", True),
    }
    print(f"{n} calls; request sizes {len(json.dumps(body(rec_root, 0, system, TOOLS))) // 1024} KB"
          f" to {len(json.dumps(body(rec_root, n - 1, system, TOOLS))) // 1024} KB")
    print(f"{'case':<24} {'per request':>12} {'json.loads':>11} {'parse+scrub':>12} {'ratio':>7} "
          f"{'vs parse+scrub':>15}")
    for name, (root, sys_text, tools, prompt, strict) in cases.items():
        raws = [json.dumps(body(root, i, sys_text, tools, prompt)).encode() for i in range(n)]
        floor, parse, spent = [], [], []
        for _ in range(3):  # best of 3: the machine may be shared
            t0 = time.perf_counter()
            for raw in raws:
                json.loads(raw)
            floor.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for raw in raws:  # what the server did before matching (secrets become placeholders)
                request_call("POST", "/v1/messages", [], raw)
            parse.append(time.perf_counter() - t0)
            cas = Cassette.from_entries([dict(e) for e in entries], "bench.json", {"root": rec_root},
                                        strict=strict, ignore=DEFAULT_IGNORE, tolerate_drift=True)
            player = Player(cas, log=open(os.devnull, "w"))
            t0 = time.perf_counter()
            statuses = [player.answer(request_call("POST", "/v1/messages", [], raw)).status for raw in raws]
            spent.append(time.perf_counter() - t0)
        f, p, t = min(floor), min(parse), min(spent)
        ok = sum(1 for s in statuses if s == 200)
        print(f"{name:<24} {t / n * 1e3:9.2f} ms {f / n * 1e3:8.2f} ms {p / n * 1e3:9.2f} ms {t / f:6.1f}x "
              f"{t / p:14.2f}x   played {ok}/{n}")

if __name__ == "__main__":
    main()
