"""The GitHub Action's work (``action.yml`` runs ``python -m agent_trace.ci.action``).

Inputs arrive as ``INPUT_*`` environment variables (set by the action's
step from its inputs, never interpolated into a script); the Actions runner
provides ``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``, ``GITHUB_EVENT_PATH``,
``GITHUB_REPOSITORY``, ``GITHUB_API_URL`` and ``RUNNER_TEMP``.

It writes the report to the job summary, creates or updates one PR comment
(when asked, on pull request events), lays the sessions out for the upload
step, sets the outputs, and says whether the job should fail (lint findings,
a compare regression); the action's last step fails it, after the upload.
It exits non-zero only on bad input (a wrong session or baseline).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

from ..report.markdown import MARKER

TRUE = ("true", "yes", "1", "on")


def _flag(env, name: str) -> bool:
    return (env.get(name) or "").strip().lower() in TRUE


def _command(kind: str, message: str) -> None:
    """A workflow command (``::error::``), with the message escaped so it
    cannot start another command."""
    msg = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    sys.stdout.write(f"::{kind}::{msg}\n")


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)


def _outputs(path: str | None, values: dict) -> None:
    lines = []
    for k, v in values.items():
        v = "" if v is None else str(v)
        if "\n" in v:
            delim = "EOF_" + os.urandom(8).hex()
            lines.append(f"{k}<<{delim}\n{v}\n{delim}")
        else:
            lines.append(f"{k}={v}")
    _append(path, "\n".join(lines) + "\n")


def main(env=None) -> int:
    env = os.environ if env is None else env
    from ..cassette.format import CassetteFileError
    from ..lint.runner import ConfigError, load_config
    from ..report.gather import baseline_profile, gather
    from ..report.markdown import render
    from ..store import SessionNotFound, Store

    workspace = env.get("GITHUB_WORKSPACE") or os.getcwd()
    trace_dir = env.get("INPUT_TRACE_DIR") or ".agent-traces"
    store = Store(os.path.abspath(os.path.join(workspace, trace_dir)))
    temp = env.get("RUNNER_TEMP") or tempfile.gettempdir()
    out_path = env.get("GITHUB_OUTPUT")
    refs = (env.get("INPUT_SESSIONS") or "").split()
    try:
        if refs:
            paths = list(dict.fromkeys(store.resolve(r) for r in refs))
        else:
            from ..analysis.session_index import list_sessions

            paths = [r["file"] for r in reversed(list_sessions(store))]
        baseline = baseline_profile(env["INPUT_BASELINE"], store) if env.get("INPUT_BASELINE") else None
        cfg = load_config(env.get("INPUT_LINT_CONFIG") or None, workspace)
        tolerance = float(env.get("INPUT_TOLERANCE") or 20)
    except (SessionNotFound, CassetteFileError, ConfigError, ValueError, OSError) as e:
        _command("error", f"agent-strace: {e}")
        return 2
    if not paths:
        _command("warning", f"agent-strace: no agent sessions in {store.root}: nothing to report")
        _outputs(out_path, {"sessions": 0, "failed": "false"})
        return 0

    reports = [gather(p, lint_config=cfg, baseline=baseline, tolerance=tolerance) for p in paths]
    summary_md = render(reports, "github")
    comment_md = render(reports, "markdown", marker=True)
    _append(env.get("GITHUB_STEP_SUMMARY"), summary_md)
    report_path = os.path.join(temp, "agent-strace-report.md")
    with open(report_path, "w", encoding="utf-8") as f:
        f.write(comment_md)

    comment_url = ""
    if _flag(env, "INPUT_COMMENT"):
        comment_url = _comment(env, comment_md)

    artifact = ""
    if _flag(env, "INPUT_UPLOAD_ARTIFACT"):
        artifact = _artifact(temp, paths, comment_md, reports)

    findings = sum(r["findings_total"] for r in reports)
    verdicts = [r["compare"]["verdict"] for r in reports if r.get("compare")]
    verdict = next((v for v in ("regressed", "changed", "improved", "same") if v in verdicts), "")
    failures = []
    if _flag(env, "INPUT_FAIL_ON_LINT") and findings:
        failures.append(f"{findings} lint finding(s) (agent-strace lint --strict)")
    if _flag(env, "INPUT_FAIL_ON_REGRESSION") and "regressed" in verdicts:
        reasons = "; ".join(r for rep in reports if rep.get("compare") and rep["compare"]["verdict"] == "regressed"
                            for r in rep["compare"]["reasons"])
        failures.append(f"regressed against the baseline ({reasons})")
    for msg in failures:
        _command("error", f"agent-strace: {msg}")
    s = [r["summary"] for r in reports]
    _outputs(out_path, {
        "report": report_path, "sessions": len(reports),
        "cost-usd": f"{sum(x['cost_usd'] for x in s):.6f}",
        "tokens": sum(sum(x["tokens"].values()) for x in s),
        "tool-calls": sum(x["tool_calls"] for x in s), "tool-errors": sum(x["tool_errors"] for x in s),
        "lint-findings": findings, "verdict": verdict, "comment-url": comment_url, "artifact-dir": artifact,
        "failed": "true" if failures else "false", "failure": "; ".join(failures),
    })
    return 0


def _comment(env, body: str) -> str:
    from .github import GitHub, GitHubError, pull_request_number

    token = env.get("GITHUB_TOKEN") or ""
    repo = env.get("GITHUB_REPOSITORY") or ""
    try:
        with open(env.get("GITHUB_EVENT_PATH") or "", encoding="utf-8") as f:
            event = json.load(f)
    except (OSError, ValueError):
        event = {}
    number = pull_request_number(event if isinstance(event, dict) else {})
    if number is None:
        _command("notice", "agent-strace: not a pull request event: no comment posted (the job summary has the "
                           "report)")
        return ""
    if not token or not repo:
        _command("warning", "agent-strace: no GITHUB_TOKEN or GITHUB_REPOSITORY: no comment posted")
        return ""
    try:
        how, c = GitHub(token, env.get("GITHUB_API_URL") or "https://api.github.com").upsert_comment(
            repo, number, body, MARKER)
    except GitHubError as e:
        hint = " (the workflow needs `permissions: pull-requests: write`)" if e.status == 403 else ""
        _command("warning", f"agent-strace: could not post the PR comment: {e}{hint}")
        return ""
    print(f"agent-strace: {how} the report comment on #{number}")
    return c.get("html_url") or ""


def _artifact(temp: str, paths: list[str], comment_md: str, reports: list[dict]) -> str:
    """A folder for actions/upload-artifact: the sessions' files and the report."""
    d = os.path.join(temp, "agent-strace-artifact")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "sessions"))
    for p in paths:
        shutil.copy2(p, os.path.join(d, "sessions", os.path.basename(p)))
    with open(os.path.join(d, "report.md"), "w", encoding="utf-8") as f:
        f.write(comment_md)
    with open(os.path.join(d, "report.json"), "w", encoding="utf-8") as f:
        json.dump([{k: v for k, v in r.items() if k != "compare"} | {"verdict": (r.get("compare") or {}).get(
            "verdict")} for r in reports], f, ensure_ascii=False, default=str)
    return d


if __name__ == "__main__":
    sys.exit(main())
