"""The GitHub Action (action.yml at the repository root), run here: its
install step pip-installs this package into a fresh virtualenv, its report
step runs against sessions recorded by the real hook, and the PR comment goes
to a fake GitHub API on loopback."""

from __future__ import annotations

import json
import pytest

from support.github_api import ActionRun, FakeGitHub, load_action
from support.sessions import record_session

TOKEN = "ghs_" + "T" * 36
MARKER = "<!-- agent-strace-report -->"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """RUNNER_TEMP with the action's own install step run once (a fresh
    virtualenv, ``pip install`` of this repository)."""
    temp = tmp_path_factory.mktemp("runner-temp")
    ws = tmp_path_factory.mktemp("ws")
    run = ActionRun(ws, temp, {"upload-artifact": "false"}, {"GITHUB_TOKEN_FOR_TEST": TOKEN})
    code = run.run()  # no sessions yet: installs, then reports nothing
    assert code == 0, run.results
    assert (temp / "agent-strace-venv" / "bin" / "python").exists()
    assert "no agent sessions" in run.step_output("Report")
    return temp


def event_file(tmp_path, number=7):
    p = tmp_path / "event.json"
    p.write_text(json.dumps({"action": "synchronize", "number": number,
                             "pull_request": {"number": number, "head": {"sha": "abc"}}}))
    return p


def test_action_declares_documented_inputs_and_outputs():
    action = load_action()
    assert action["runs"]["using"] == "composite"
    for name, spec in {**action["inputs"], **action["outputs"]}.items():
        assert spec.get("description"), f"{name} has no description"
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), f"{step['name']}: inputs must reach scripts through env"
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in action["runs"]["steps"])


def test_action_summary_comment_artifact_and_outputs(installed, tmp_path):
    ws = tmp_path / "ws"
    record_session(ws / ".agent-traces", "sess-one", failures=3, secret="sk-ant-api03-" + "S" * 40)
    with FakeGitHub(TOKEN, existing=[{"issue": 7, "body": "unrelated review comment"}]) as gh:
        env = {"GITHUB_TOKEN_FOR_TEST": TOKEN, "GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": "acme/widgets",
               "GITHUB_EVENT_PATH": str(event_file(tmp_path))}
        run = ActionRun(ws, installed, {"comment": "true"}, env)
        assert run.run(skip_install=True) == 0, run.results
        summary = (installed / "step_summary").read_text()
        assert "### agent-strace: 1 session" in summary and "lint: 1 finding" in summary
        assert "repeated-failure" in summary and "sess-one" in summary
        assert "@octocat" not in summary and "<b>" not in summary  # no mention, no HTML from the prompt
        assert "sk-ant-api03" not in summary
        out = run.outputs
        assert out["sessions"] == "1" and out["lint-findings"] == "1" and out["tool-calls"] == "4"
        assert out["tokens"] == str(2 * 2450) and float(out["cost-usd"]) > 0 and out["verdict"] == ""
        assert out["comment-url"].endswith("#issuecomment-1002")
        comments = gh.on_issue(7)
        assert len(comments) == 2 and comments[1]["body"].startswith(MARKER)
        assert "sk-ant-api03" not in comments[1]["body"]
        # the artifact step gets the sessions and the report
        (upload,) = run.uses
        assert upload["uses"].startswith("actions/upload-artifact@")
        assert upload["with"]["name"] == "agent-strace-sessions"
        art = upload["with"]["path"]
        files = sorted(p.name for p in (installed / "agent-strace-artifact" / "sessions").iterdir())
        assert art == str(installed / "agent-strace-artifact") and files == ["sess-one.jsonl"]

        # a second run (the next push) updates the same comment
        record_session(ws / ".agent-traces", "sess-two", failures=0)
        run2 = ActionRun(ws, installed, {"comment": "true"}, env)
        assert run2.run(skip_install=True) == 0, run2.results
        comments = gh.on_issue(7)
        assert len(comments) == 2 and "2 sessions" in comments[1]["body"]
        assert ("PATCH", f"/repos/acme/widgets/issues/comments/{comments[1]['id']}") in gh.calls
        assert all(c[1].startswith("/repos/acme/widgets/") for c in gh.calls)


def test_action_fails_the_job_on_lint_findings_and_regressions_after_uploading(installed, tmp_path):
    ws = tmp_path / "ws"
    record_session(ws / ".agent-traces", "baseline-run", failures=0, llm_calls=2)
    record_session(ws / ".agent-traces", "new-run", failures=3, llm_calls=6)
    env = {"GITHUB_TOKEN_FOR_TEST": TOKEN}
    run = ActionRun(ws, installed, {"sessions": "new-run", "baseline": "baseline-run",
                                    "fail-on-regression": "true"}, env)
    assert run.run(skip_install=True) == 1
    assert run.outputs["verdict"] == "regressed"
    assert "::error::agent-strace: regressed against the baseline" in run.step_output("Report")
    assert "failing the job: regressed against the baseline" in run.step_output("Fail on findings or a regression")
    assert len(run.uses) == 1  # uploaded before failing
    summary = (installed / "step_summary").read_text()
    assert "Compared with session baseline-run: **REGRESSED**" in summary

    ok = ActionRun(ws, installed, {"sessions": "baseline-run", "fail-on-lint": "true"}, env)
    assert ok.run(skip_install=True) == 0 and ok.outputs["lint-findings"] == "0"
    bad = ActionRun(ws, installed, {"sessions": "new-run", "fail-on-lint": "true", "upload-artifact": "false"}, env)
    assert bad.run(skip_install=True) == 1 and not bad.uses
    assert "1 lint finding(s)" in bad.step_output("Fail on findings or a regression")


def test_action_without_a_pull_request_or_permission_still_reports(installed, tmp_path):
    ws = tmp_path / "ws"
    record_session(ws / ".agent-traces", "push-run")
    push_event = tmp_path / "push.json"
    push_event.write_text(json.dumps({"ref": "refs/heads/main"}))
    with FakeGitHub(TOKEN) as gh:
        env = {"GITHUB_TOKEN_FOR_TEST": TOKEN, "GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": "acme/widgets",
               "GITHUB_EVENT_PATH": str(push_event)}
        run = ActionRun(ws, installed, {"comment": "true"}, env)
        assert run.run(skip_install=True) == 0
        assert "not a pull request event" in run.step_output("Report") and gh.calls == []
        env["GITHUB_EVENT_PATH"] = str(event_file(tmp_path, 9))
        env["GITHUB_TOKEN_FOR_TEST"] = "wrong-token"
        run = ActionRun(ws, installed, {"comment": "true"}, env)
        assert run.run(skip_install=True) == 0  # a comment that cannot be posted never fails the job
        assert "could not post the PR comment" in run.step_output("Report") and not gh.on_issue(9)
        assert "wrong-token" not in run.step_output("Report")
    bad = ActionRun(ws, installed, {"sessions": "no-such-session"}, {"GITHUB_TOKEN_FOR_TEST": TOKEN})
    assert bad.run(skip_install=True) == 2 and "no session matches" in bad.step_output("Report")
