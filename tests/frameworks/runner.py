"""Run one framework agent many times in one process (the frameworks take
seconds to import): ``APP.py --plan PLAN.json`` runs each item's ``args``
with its ``env`` set, and prints one JSON list of the results; without
``--plan`` the app runs once and prints one JSON object."""

from __future__ import annotations

import json
import os
import sys


def main(run) -> int:
    argv = sys.argv[1:]
    if argv[:1] != ["--plan"]:
        print(json.dumps(_guarded(run, argv), default=str))
        return 0
    with open(argv[1], encoding="utf-8") as f:
        plan = json.load(f)
    results = []
    for item in plan:
        env = item.get("env") or {}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            results.append(_guarded(run, item["args"]))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    print(json.dumps(results, default=str))
    return 0


def _guarded(run, argv) -> dict:
    try:
        return run(argv)
    except Exception as e:
        return {"error": {"type": type(e).__name__, "message": str(e)}}
