"""Redaction throughput on ordinary and adversarial text, and its work bound.

For each input shape (about ``--mb`` MB of text each):

* MB/s of the secret scanner (``sub_secrets``) and of the whole encoder
  (``encode_event`` on an event carrying the text);
* the ratio of each to the floor: ``json.loads`` of the same text as one JSON
  string, measured in the same run (best of ``--repeat``);
* the scanner's work units per character (an algorithmic count, not a
  timing: it must stay under ``secret_scan.WORK_FACTOR``), and whether the
  work budget ran out (it must not, on any shape here).

Adversarial shapes repeat every marker the scanner reacts to (``sk-``,
``Bearer``, ``://u:``, ``password=$``, ``-----BEGIN ... PRIVATE KEY-----``
without an END line, ...), including the two inputs that were quadratic in
the regex-based redactor this replaced.

    python benchmarks/redaction.py [--mb 1] [--repeat 3] [--check]

``--check`` exits 1 when a work bound is broken (used by ``.ci/run``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from agent_trace import event as ev  # noqa: E402
from agent_trace.event import secret_scan  # noqa: E402
from agent_trace.event.encode import encode_event  # noqa: E402
from agent_trace.event.redact import sub_secrets  # noqa: E402


def ordinary(n: int) -> str:
    """What agents really log: Claude Code hook payloads and a transcript (the
    repository's real fixtures), this repository's source and docs, with a
    few real-looking secrets sprinkled in."""
    files = sorted((REPO / "tests" / "fixtures").rglob("*.jsonl")) + sorted((REPO / "src").rglob("*.py")) \
        + sorted((REPO / "docs").glob("*.md"))
    corpus = "".join(f.read_text(encoding="utf-8", errors="replace") for f in files)
    secrets = ["\nexport OPENAI_API_KEY=sk-proj-" + "Ab3" * 20 + "\n",
               "\nDATABASE_URL=postgres://app:S3cr3t-pw@db.internal:5432/app\n"]
    parts, size, i = [], 0, 0
    while size < n:
        parts.append(corpus)
        parts.append(secrets[i % 2])
        size += len(corpus) + len(secrets[i % 2])
        i += 1
    return "".join(parts)[:n]


def blob(n: int) -> str:
    raw = base64.b64encode(random.Random(5).randbytes(n * 3 // 4)).decode()
    return raw[: n // 2] + " sk-" + raw[n // 2:]  # one marker inside a big blob


def repeat(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


SHAPES = {
    "ordinary text, code and JSON": ordinary,
    "base64 blob": blob,
    "sk- repeated": lambda n: repeat("sk-", n),
    " sk-<long run>": lambda n: " sk-" + "A1b" * (n // 3),
    "Bearer + spaces (old: quadratic)": lambda n: repeat("Bearer " + " " * 30, n),
    "BEGIN PRIVATE KEY, no END (old: quadratic)": lambda n: repeat("-----BEGIN RSA PRIVATE KEY-----\nMIIE", n),
    "://user: repeated": lambda n: repeat("a://u:", n),
    "password=$ repeated": lambda n: repeat("password=$", n),
    "password= in one value": lambda n: "password=" + repeat("x", n),
    "token: repeated": lambda n: repeat("token: ", n),
    "keykeykey": lambda n: repeat("key", n),
    "basic repeated": lambda n: repeat("basic ", n),
    "AKIA + 40-char runs": lambda n: repeat("AKIA" + "B" * 16 + " " + "aB1/" * 9 + "x ", n),
    "eyJ dots": lambda n: repeat("eyJabcdefgh.", n),
    "Authorization: no end of line": lambda n: "Authorization: Basic " + repeat("ab ", n),
    "key + spaces, no separator (name prefilter)": lambda n: "key" + " " * n,
    "-password run, no space (name prefilter)": lambda n: "-" + repeat("password", n),
}


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(name: str, text: str, repeat: int) -> dict:
    mb = len(text.encode("utf-8")) / 1e6
    encoded = json.dumps(text)
    floor = best(lambda: json.loads(encoded), repeat)
    scan_t = best(lambda: sub_secrets(text), repeat)
    enc_t = best(lambda: encode_event(ev.make_event(ev.ANNOTATION, "bench", "bench", data={"text": text}),
                                      max_field=0), repeat)
    work = secret_scan.Work(len(text))
    secret_scan.scan(text, work)
    return {"shape": name, "mb": round(mb, 2), "scan_mb_s": round(mb / scan_t, 1),
            "encode_mb_s": round(mb / enc_t, 1), "floor_mb_s": round(mb / floor, 1),
            "scan_x_floor": round(scan_t / floor, 2), "encode_x_floor": round(enc_t / floor, 2),
            "work_per_char": round(work.units / max(1, len(text)), 2), "exhausted": work.exhausted}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=1.0, help="size of each input (MB)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="exit 1 if a work bound is broken")
    ap.add_argument("--json", action="store_true", help="print JSON rows")
    args = ap.parse_args()
    n = int(args.mb * 1_000_000)
    rows = [measure(name, make(n), args.repeat) for name, make in SHAPES.items()]
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(f"redaction, {args.mb:g} MB per shape, best of {args.repeat}; floor = json.loads of the same text "
              f"(python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
        print(f"{'shape':44} {'scan MB/s':>9} {'encode MB/s':>11} {'floor MB/s':>10} {'scan/floor':>10} "
              f"{'enc/floor':>9} {'work/char':>9}")
        for r in rows:
            print(f"{r['shape']:44} {r['scan_mb_s']:9.1f} {r['encode_mb_s']:11.1f} {r['floor_mb_s']:10.1f} "
                  f"{r['scan_x_floor']:10.2f} {r['encode_x_floor']:9.2f} {r['work_per_char']:9.2f}"
                  + ("  BUDGET EXHAUSTED" if r["exhausted"] else ""))
    broken = [r["shape"] for r in rows if r["exhausted"] or r["work_per_char"] > secret_scan.WORK_FACTOR]
    if broken:
        print("work bound broken: " + ", ".join(broken), file=sys.stderr)
        return 1 if args.check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
