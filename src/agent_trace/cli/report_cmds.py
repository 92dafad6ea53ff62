"""``stats`` and ``cost``: numbers about one session, all from the shared summary."""

from __future__ import annotations

import sys

from agent_trace.usage.pricing import KINDS
from agent_trace.analysis.session_index import summarize_cached
from agent_trace.analysis.summary import SessionSummary, percentile, prices
from agent_trace.event.timefmt import human_duration

from . import EXIT_OK
from .parsing import add_json, add_session, guarded, open_store, parser, print_json

# Used only when a session has no real usage: a clearly marked estimate.
ESTIMATE_MODEL = "claude-sonnet-4"
CHARS_PER_TOKEN = 4


def run(name: str, argv: list[str]) -> int:
    p = parser(name, "Counts, durations, tokens and errors of a session." if name == "stats"
               else "Money spent by a session, from real token usage.")
    add_session(p)
    add_json(p)
    args = p.parse_args(argv)
    return guarded(_stats if name == "stats" else _cost)(args)


def _load(args) -> tuple[str, SessionSummary, dict]:
    store = open_store(args)
    path = store.resolve(args.session)
    entry = summarize_cached(store, path)  # the same incremental entry `inspect` and `list` use
    return path, SessionSummary.from_dict(entry["state"]), entry


def stats_dict(s: SessionSummary) -> dict:
    tools = {}
    for name, (calls, errors, total_ms, _timed) in s.tools.items():
        hist = s.durations.get(name, {})
        tools[name] = {"calls": calls, "errors": errors,
                       "p50_ms": _round(percentile(hist, 50)), "p95_ms": _round(percentile(hist, 95)),
                       "total_ms": round(total_ms, 1)}
    return {
        "session": s.session, "events": s.events, "by_type": s.by_type,
        "duration_s": s.duration_s(), "tool_calls": s.tool_calls, "tool_errors": s.tool_errors,
        "tools": tools, "llm_calls": s.llm_calls, "tokens": s.tokens,
        "models": {m: {k: v for k, v in d.items() if k != "cost_usd"} for m, d in s.models.items()},
        "errors": s.errors, "subagents": len(s.subagents), "decisions": s.decisions,
    }


def _round(x):
    return None if x is None else round(x, 1)


def _stats(args) -> int:
    _, s, entry = _load(args)
    d = stats_dict(s)
    if args.json:
        print_json(d)
        return EXIT_OK
    w = sys.stdout.write
    w(f"session {d['session']}  {d['events']} events  {human_duration(d['duration_s'])}\n\n")
    w(f"{'EVENT TYPE':<20} {'COUNT':>8}\n")
    for t, n in sorted(d["by_type"].items(), key=lambda kv: -kv[1]):
        w(f"{t:<20} {n:>8}\n")
    if d["tools"]:
        w(f"\n{'TOOL':<28} {'CALLS':>6} {'ERRORS':>6} {'P50':>9} {'P95':>9}\n")
        for name, t in sorted(d["tools"].items(), key=lambda kv: -kv[1]["calls"]):
            p50 = "-" if t["p50_ms"] is None else f"{t['p50_ms']:.0f}ms"
            p95 = "-" if t["p95_ms"] is None else f"{t['p95_ms']:.0f}ms"
            w(f"{name[:28]:<28} {t['calls']:>6} {t['errors']:>6} {p50:>9} {p95:>9}\n")
    if d["models"]:
        w(f"\n{'MODEL':<28} {'CALLS':>6} {'INPUT':>10} {'OUTPUT':>9} {'CACHE_R':>10} {'CACHE_W':>9}\n")
        for m, u in d["models"].items():
            w(f"{m[:28]:<28} {u['calls']:>6} {u['input']:>10} {u['output']:>9} "
              f"{u['cache_read']:>10} {u['cache_write']:>9}\n")
    if d["errors"]:
        w("\nERRORS\n")
        for msg, n in sorted(d["errors"].items(), key=lambda kv: -kv[1]):
            w(f"{n:>5}x {msg}\n")
    return EXIT_OK


def cost_dict(s: SessionSummary, path: str) -> dict:
    table = prices()
    models = []
    for m, u in s.models.items():
        price = table.price(m)
        models.append({"model": m, "calls": u["calls"], **{k: u[k] for k in KINDS},
                       "cost_usd": round(u["cost_usd"], 6) if price else None,
                       "priced_as": table.match(m)})
    out = {"session": s.session, "has_usage": any(s.tokens.values()),
           "cost_usd": round(s.cost_usd, 6), "tokens": s.tokens, "models": models,
           "unpriced": s.unpriced, "estimate": None}
    if not out["has_usage"]:
        out["estimate"] = _estimate(path)
    return out


def _estimate(path: str) -> dict:
    """Without real usage: tokens guessed from the text the agent handled."""
    from agent_trace.event.encode import to_bytes
    from agent_trace.store.reader import iter_events

    chars = 0
    for e in iter_events(path):
        if e.get("type") in ("user.prompt", "tool.result", "tool.error", "assistant.message"):
            chars += len(to_bytes(e.get("data")))
    tokens = chars // CHARS_PER_TOKEN
    usd = prices().cost(ESTIMATE_MODEL, {"input": tokens})
    return {"ESTIMATE": True, "input_tokens": tokens, "model_assumed": ESTIMATE_MODEL,
            "cost_usd": round(usd or 0.0, 6),
            "method": f"characters of prompts and tool results / {CHARS_PER_TOKEN}, priced as input"}


def _cost(args) -> int:
    path, s, _ = _load(args)
    d = cost_dict(s, path)
    if args.json:
        print_json(d)
        return EXIT_OK
    w = sys.stdout.write
    if not d["has_usage"]:
        est = d["estimate"]
        w(f"session {d['session']}: no token usage recorded (no LLM events with usage).\n")
        w(f"ESTIMATE (not real usage): ~{est['input_tokens']} input tokens, "
          f"~${est['cost_usd']:.4f} at {est['model_assumed']} prices ({est['method']}).\n")
        return EXIT_OK
    w(f"{'MODEL':<28} {'CALLS':>5} {'INPUT':>9} {'OUTPUT':>8} {'CACHE_R':>9} {'CACHE_W':>8} {'USD':>10}\n")
    for m in d["models"]:
        usd = "unpriced" if m["cost_usd"] is None else f"{m['cost_usd']:.4f}"
        w(f"{m['model'][:28]:<28} {m['calls']:>5} {m['input']:>9} {m['output']:>8} "
          f"{m['cache_read']:>9} {m['cache_write']:>8} {usd:>10}\n")
    w(f"{'TOTAL':<28} {'':>5} {d['tokens']['input']:>9} {d['tokens']['output']:>8} "
      f"{d['tokens']['cache_read']:>9} {d['tokens']['cache_write']:>8} {d['cost_usd']:>10.4f}\n")
    for m in d["models"]:
        if m["priced_as"] and m["priced_as"] != m["model"].lower():
            w(f"note: {m['model']} priced as {m['priced_as']} (closest entry in the price table)\n")
    if d["unpriced"]:
        w(f"note: no price for {', '.join(d['unpriced'])}; add it to a prices file (AGENT_TRACE_PRICES)\n")
    return EXIT_OK
