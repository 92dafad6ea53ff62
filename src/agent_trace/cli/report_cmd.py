"""``report``: sessions as a pull request comment or a CI job summary."""

from __future__ import annotations

import os
import sys

from . import EXIT_CHECK, EXIT_OK, EXIT_USAGE
from .parsing import guarded, open_store, parser, print_json


def run(name: str, argv: list[str]) -> int:
    p = parser("report", "What the agent did, lint findings, rule decisions, cost and tokens, files changed "
                         "and a compare verdict, as Markdown for a PR comment or a GitHub job summary.")
    p.add_argument("sessions", nargs="*", metavar="SESSION",
                   help="session ids, prefixes or 'latest' (default: every session in the store, oldest first)")
    p.add_argument("--format", choices=("markdown", "github", "json"), default="markdown",
                   help="markdown: a PR comment (capped at 60,000 characters); github: a job summary "
                        "(1 MB cap, phases open); json: the data")
    p.add_argument("--baseline", metavar="SESSION|CASSETTE",
                   help="compare each session with this session or cassette file, and give a verdict")
    p.add_argument("--tolerance", type=float, default=20.0, metavar="PCT",
                   help="growth in cost/tokens/calls/duration that counts as a regression (default 20)")
    p.add_argument("--max-chars", type=int, metavar="N", help="cap the Markdown at N characters")
    p.add_argument("--marker", action="store_true",
                   help="start with the hidden marker that finds the comment again (<!-- agent-strace-report -->)")
    p.add_argument("--lint-config", metavar="TOML", help="lint configuration (default: .agent-strace/lint.toml)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--fail-on", choices=("lint", "regressed", "changed"), action="append", default=[],
                   help="exit 4 on lint findings, a regressed verdict, or any change (repeatable)")
    return guarded(_report)(p.parse_args(argv))


def _report(args) -> int:
    from agent_trace.cassette.format import CassetteFileError
    from agent_trace.lint.runner import ConfigError, load_config
    from agent_trace.report.gather import baseline_profile, gather
    from agent_trace.report.markdown import render

    store = open_store(args)
    try:
        cfg = load_config(args.lint_config)
    except ConfigError as e:
        sys.stderr.write(f"agent-strace report: {e}\n")
        return EXIT_USAGE
    if args.sessions:
        paths = list(dict.fromkeys(store.resolve(ref) for ref in args.sessions))
    else:
        from agent_trace.analysis.session_index import list_sessions

        paths = [r["file"] for r in reversed(list_sessions(store))]
        if not paths:
            sys.stderr.write(f"agent-strace report: no sessions in {store.root}\n")
            return 3
    baseline = None
    if args.baseline:
        try:
            baseline = baseline_profile(args.baseline, store)
        except (CassetteFileError, ValueError) as e:
            sys.stderr.write(f"agent-strace report: baseline: {e}\n")
            return EXIT_USAGE
    reports = [gather(p, lint_config=cfg, baseline=baseline, tolerance=args.tolerance) for p in paths]
    if args.format == "json":
        text = None
    else:
        text = render(reports, args.format, args.max_chars, args.marker)
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w", encoding="utf-8", errors="backslashreplace") as f:
            if text is None:
                import json

                json.dump(reports, f, ensure_ascii=False, default=_json_default)
            else:
                f.write(text)
        os.replace(tmp, args.output)
    elif text is None:
        print_json(_plain(reports))
    else:
        sys.stdout.write(text)
    return EXIT_CHECK if _failed(reports, args.fail_on) else EXIT_OK


def _json_default(o):
    if isinstance(o, set):
        return sorted(o)
    if o == float("inf"):
        return "inf"
    return str(o)


def _plain(reports):
    import json

    return json.loads(json.dumps(reports, default=_json_default).replace("Infinity", '"inf"'))


def _failed(reports: list[dict], fail_on: list[str]) -> bool:
    for r in reports:
        if "lint" in fail_on and r["findings_total"]:
            return True
        c = r.get("compare")
        if c and ("regressed" in fail_on or "changed" in fail_on) and c["verdict"] == "regressed":
            return True
        if c and "changed" in fail_on and c["verdict"] != "same":
            return True
    return False
