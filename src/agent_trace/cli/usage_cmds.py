"""``usage`` (tokens and cost across sessions, projects and time) and ``prices``."""

from __future__ import annotations

import os
import sys
import time

from . import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from .history_scope import add_scope_args, project_label, stores
from .parsing import guarded, parser, print_json

REPORT_HELP = ("daily, weekly (from Monday), monthly, session, project, or blocks (Claude's 5-hour usage "
               "windows: the active block, time left, burn rate)")


def run(name: str, argv: list[str]) -> int:
    if name == "prices":
        return _prices(argv)
    from agent_trace.usage.reports import REPORTS

    p = parser("usage", "Tokens and cost across every session, project and day, from the logs agents already "
                        "write (imported first, incrementally) and everything agent-strace recorded.")
    p.add_argument("report", nargs="?", choices=REPORTS, default="daily", help=REPORT_HELP)
    p.add_argument("--since", help="from this date (YYYY-MM-DD, YYYYMMDD, or 7d / 2w / 3m ago)")
    p.add_argument("--until", help="up to this date, inclusive (same forms)")
    p.add_argument("--timezone", "-z", help="IANA timezone for days and weeks (default: this machine's)")
    p.add_argument("--breakdown", action="store_true", help="one line per model under each period")
    p.add_argument("--project", help="only projects whose path contains this")
    p.add_argument("--agent", help="only this agent (claude, codex, gemini, or a source such as llm-proxy)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_scope_args(p)
    args = p.parse_args(argv)
    try:
        tz = parse_timezone(args.timezone)
        since, until = parse_date(args.since, tz), parse_date(args.until, tz)
    except ValueError as e:
        p.error(str(e))
    return guarded(_usage)(args, tz, since, until)


def parse_timezone(name: str | None):
    from datetime import timezone

    if not name:
        return None  # datetime.fromtimestamp(t, None) is local time
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r} (use an IANA name such as Europe/Paris, or UTC)") from None


def parse_date(text: str | None, tz) -> str | None:
    """``2026-11-30`` / ``20261130`` / ``7d`` / ``2w`` / ``3m`` -> ``YYYY-MM-DD``."""
    if not text:
        return None
    from datetime import date, datetime, timedelta

    t = text.strip().lower()
    shown = repr(text) if len(text) <= 40 else repr(text[:40]) + "..."
    # isascii: str.isdigit also takes "²" and other digits int() refuses
    if t[-1:] in ("d", "w", "m") and t[:-1].isascii() and t[:-1].isdigit():
        try:
            n = int(t[:-1]) * {"d": 1, "w": 7, "m": 30}[t[-1]]
            return (datetime.fromtimestamp(time.time(), tz) - timedelta(days=n)).strftime("%Y-%m-%d")
        except (OverflowError, ValueError):  # before year 1 (or more digits than int() reads)
            raise ValueError(f"bad date {shown} (that many days ago is before year 1)") from None
    digits = t.replace("-", "")
    if len(digits) == 8 and digits.isascii() and digits.isdigit():
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat()
        except ValueError:
            pass
    raise ValueError(f"bad date {shown} (use YYYY-MM-DD, YYYYMMDD, or 7d / 2w / 3m)")


def _usage(args, tz, since, until) -> int:
    from agent_trace.analysis.summary import prices
    from agent_trace.usage.index import UsageIndex
    from agent_trace.usage.reports import report, rows_of

    indexes = []
    for store in stores(args):
        idx = UsageIndex(store).load()
        if idx.update():
            idx.save()
        indexes.append(idx)
    rows = rows_of(indexes, project=args.project, agent=args.agent)
    out = report(args.report, rows, prices(), tz, since=since, until=until)
    if args.json:
        print_json(out)
        return EXIT_OK
    _table(args.report, out, args.breakdown)
    return EXIT_OK


def _n(x: int) -> str:
    return f"{x:,}"


def _usd(d: dict) -> str:
    return f"${d['cost_usd']:,.2f}" + ("*" if d.get("unpriced") else "")


def _table(kind: str, out: dict, breakdown: bool) -> None:
    w = sys.stdout.write
    items = out[kind]
    skipped = out["totals"].get("skipped")
    if skipped:
        w(f"note: {skipped} response(s) left out: their time is outside the calendar (year 1 to 9999)\n")
    if not items:
        w("no usage found (agent logs: ~/.claude, ~/.codex, ~/.gemini; see 'agent-strace import --all')\n")
        return
    label = {"daily": "DATE", "weekly": "WEEK", "monthly": "MONTH", "session": "SESSION", "project": "PROJECT",
             "blocks": "BLOCK START"}[kind]
    width = 36 if kind in ("session", "project") else 19
    w(f"{label:<{width}} {'INPUT':>13} {'OUTPUT':>12} {'CACHE WRITE':>13} {'CACHE READ':>15} {'TOTAL':>15} "
      f"{'COST':>12}  MODELS\n")
    for d in items:
        if d.get("gap"):
            w(f"{'(gap) ' + d['start'][:16].replace('T', ' '):<{width}}\n")
            continue
        name = {"daily": d.get("date"), "weekly": d.get("week"), "monthly": d.get("month"),
                "session": (d.get("session") or "")[:36], "project": project_label(d.get("project"))[-36:],
                "blocks": (d.get("start") or "")[:16].replace("T", " ") + (" ACTIVE" if d.get("active") else "")
                }[kind]
        models = ", ".join(sorted(d["models"]))
        w(f"{name:<{width}} {_n(d['input']):>13} {_n(d['output']):>12} {_n(d['cache_write']):>13} "
          f"{_n(d['cache_read']):>15} {_n(d['total_tokens']):>15} {_usd(d):>12}  {models}\n")
        if breakdown:
            for m, u in sorted(d["models"].items()):
                cost = "unpriced" if u["cost_usd"] is None else f"${u['cost_usd']:,.2f}"
                w(f"  {m[:width - 2]:<{width - 2}} {_n(u['input']):>13} {_n(u['output']):>12} "
                  f"{_n(u['cache_write']):>13} {_n(u['cache_read']):>15} "
                  f"{_n(sum(u[k] for k in ('input', 'output', 'cache_read', 'cache_write'))):>15} {cost:>12}\n")
        if kind == "blocks" and d.get("active"):
            br = d["burn_rate"]
            w(f"  {d['remaining_minutes']:.0f} min left; burn {br['tokens_per_minute']:,.0f} tokens/min, "
              f"${br['cost_per_hour']:.2f}/h; projected ${d['projection']['cost_usd']:,.2f}\n")
    t = out["totals"]
    w(f"{'TOTAL':<{width}} {_n(t['input']):>13} {_n(t['output']):>12} {_n(t['cache_write']):>13} "
      f"{_n(t['cache_read']):>15} {_n(t['total_tokens']):>15} {_usd(t):>12}\n")
    if t.get("unpriced"):
        w(f"* no price for {', '.join(t['unpriced'])}: not in the cost "
          "(agent-strace prices update --from FILE)\n")


# -- prices -------------------------------------------------------------------------

def _prices(argv: list[str]) -> int:
    p = parser("prices", "The price table cost is computed with: 'prices' lists it, 'prices update --from FILE' "
                         "merges a LiteLLM model_prices_and_context_window.json into your prices file.")
    p.add_argument("action", nargs="?", choices=("list", "update"), default="list")
    p.add_argument("--from", dest="source", metavar="FILE", help="update: LiteLLM's JSON price table")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    args = p.parse_args(argv)
    if args.action == "update":
        if not args.source:
            p.error("prices update needs --from FILE (LiteLLM's model_prices_and_context_window.json)")
        return guarded(_prices_update)(args.source)
    from agent_trace.usage.pricing import PriceTable

    table = PriceTable.load()
    if args.json:
        print_json({"sources": table.sources, "models": table.models})
        return EXIT_OK
    w = sys.stdout.write
    w(f"{'MODEL':<28} {'INPUT':>8} {'OUTPUT':>8} {'CACHE R':>8} {'CACHE W':>8}  AS OF       (USD per million "
      "tokens)\n")
    for name in sorted(table.models):
        m = table.models[name]
        lc = " (long context priced apart)" if isinstance(m.get("long_context"), dict) else ""
        w(f"{name[:28]:<28} {m.get('input', 0):>8g} {m.get('output', 0):>8g} {m.get('cache_read', 0):>8g} "
          f"{m.get('cache_write', 0):>8g}  {m.get('as_of', '-'):<10}{lc}\n")
    w("from: " + ", ".join(table.sources) + "\n")
    return EXIT_OK


def _prices_update(source: str) -> int:
    import contextlib
    import json
    from datetime import datetime, timezone

    from agent_trace.usage.litellm import convert
    from agent_trace.usage.pricing import read_capped, user_prices_path

    try:
        table = json.loads(read_capped(source))  # a regular file, bounded: a FIFO or /dev/zero never ends
        as_of = datetime.fromtimestamp(os.path.getmtime(source), timezone.utc).strftime("%Y-%m-%d")
        models = convert(table, as_of)
    except OSError as e:
        sys.stderr.write(f"agent-strace prices: cannot read {source}: {e.strerror}\n")
        return EXIT_ERROR
    except (ValueError, RecursionError) as e:  # JSON errors and LiteLLMError
        sys.stderr.write(f"agent-strace prices: {source} is not a LiteLLM price table: {e}\n")
        return EXIT_USAGE
    dest = user_prices_path()
    try:  # the prices already there are kept: one that cannot be read is not overwritten
        old = json.loads(read_capped(dest))
        current = old.get("models", {}) if isinstance(old, dict) else None
        if not isinstance(current, dict):
            raise ValueError('no "models" object')
    except FileNotFoundError:
        current = {}
    except OSError as e:
        sys.stderr.write(f"agent-strace prices: cannot update {dest}: {e.strerror or e}\n")
        return EXIT_ERROR
    except (ValueError, RecursionError) as e:
        sys.stderr.write(f"agent-strace prices: cannot update {dest}: not a prices file ({e}); "
                         "fix it or move it away\n")
        return EXIT_ERROR
    new = sum(1 for k in models if k not in current)
    changed = sum(1 for k, v in models.items() if k in current and current[k] != v)
    current.update(models)
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    tmp = f"{dest}.{os.getpid()}.tmp"
    try:  # an OSError (dest is a folder, ...) leaves no temporary file and is one line (guarded)
        with open(tmp, "x", encoding="utf-8") as f:  # "x": a new file, never whatever (a FIFO) is there
            json.dump({"_comment": f"merged from {os.path.abspath(source)} by agent-strace prices update",
                       "as_of": as_of, "models": current}, f, indent=1, sort_keys=True)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    print(f"{len(models)} model price(s) from {source} ({new} new, {changed} changed) written to {dest}")
    return EXIT_OK
