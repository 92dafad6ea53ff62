"""Notifications: [[notify]] in the rules file, the exact payloads a
Slack/Teams/JSON receiver gets, delivery off the agent's path with retries,
each alert at most once, and the same alerts from the hook, watch and the
collector.  A real HTTP receiver on loopback stands in for Slack and Teams."""

from __future__ import annotations

import json
import os
import stat
import sys
import time

import pytest

from agent_trace import event as ev
from agent_trace.notify import alerts, queue, sender
from agent_trace.notify.config import make_targets, target_key
from agent_trace.store import Store
from agent_trace.store.sink import FileSink

from conftest import read_session, run_cli
from support.collector import Server
from support.processes import free_port
from support.webhook import Receiver

KEY = "sk-ant-api03-" + "K" * 40


@pytest.fixture
def project(tmp_path):
    p = tmp_path / "proj"
    (p / ".agent-strace").mkdir(parents=True)
    return p


def rules(project, text: str) -> str:
    path = project / ".agent-strace" / "rules.toml"
    path.write_text(text)
    return str(path)


def hook(project, payload, session="s-notify"):
    p = {"session_id": session, "cwd": str(project), "transcript_path": "/nonexistent", **payload}
    t = time.perf_counter()
    r = run_cli("hook", input=json.dumps(p).encode())
    assert r.returncode == 0, r.stderr
    return r, time.perf_counter() - t


def write_call(project, path, n=1):
    return {"hook_event_name": "PreToolUse", "tool_name": "Write", "tool_use_id": f"tu{n}",
            "tool_input": {"file_path": str(project / path), "content": "x"}}


# -- configuration ------------------------------------------------------------------

@pytest.mark.parametrize("text,error", [
    ('[[notify]]\nurl = "ftp://x"\n', "[[notify]] #1: url must be an http(s) URL"),
    ('[[notify]]\nurl = "https://h/x"\nformat = "discord"\n', "format must be one of slack, teams, json"),
    ('[[notify]]\nurl = "https://h/x"\non = ["denied", "exploded"]\n', "unknown trigger 'exploded'"),
    ('[[notify]]\nurl = "https://h/x"\nbudget = [50]\n', "budget alerts need a [budget]"),
    ('[budget]\nusd = 1\n[[notify]]\nurl = "https://h/x"\nbudget = [0]\n', "percentages between 0 and 1000"),
    ('[[notify]]\nformat = "slack"\n', "needs url, url_env or desktop = true"),
    ('[[notify]]\nurl = "https://h/x"\nchannel = "#x"\n', "unknown key 'channel'"),
    ('[[notify]]\nurl = "https://h/x"\nurl_env = "HOOK"\n', "give url or url_env, not both"),
    ('[daily_budget]\nper = ["team"]\nusd = 5\n', "[daily_budget]: per must be a list of: user, project"),
])
def test_rules_check_names_the_bad_notify_key(project, text, error):
    path = rules(project, text)
    r = run_cli("rules", "check", path)
    assert r.returncode == 2 and error in r.stderr.decode(), r.stderr


def test_notify_config_defaults_guesses_and_merges(project):
    path = rules(project, """
[budget]
usd = 5
[[notify]]
url = "https://hooks.slack.com/services/T0/B0/abc"
[[notify]]
url = "https://hooks.slack.com/services/T0/B0/abc"
on = ["session_ended"]
budget = [50]
[[notify]]
url_env = "TEAMS_HOOK"
format = "teams"
desktop = true
""")
    pol = json.loads(run_cli("rules", "check", path, "--json").stdout)
    slack, teams, desktop = pol["notify"]
    assert slack["format"] == "slack" and slack["channel"] == "http"
    assert slack["on"] == ["denied", "stopped", "killed", "budget", "session_failed", "session_ended"]
    assert slack["budget"] == [50.0, 80.0, 100.0] and slack["name"] == "https://hooks.slack.com/..."
    assert teams["url_env"] == "TEAMS_HOOK" and teams["url"] is None and desktop["channel"] == "desktop"
    assert len({t["key"] for t in pol["notify"]}) == 3
    # the webhook's secret path never shows in what the store keeps about targets
    assert "abc" not in slack["key"]


# -- payloads -------------------------------------------------------------------------

def expected_slack(session, trace_dir, project_name, tool_calls):
    cmd = f"agent-strace --trace-dir {trace_dir} replay {session} --failed"
    head = f"agent-strace: Tool call denied in {project_name}: Write (rule deny.paths)"
    return {
        "text": head,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{head}*\nsecrets &amp; keys are off limits"}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": f"*Session*\n{session}"},
                {"type": "mrkdwn", "text": f"*Project*\n{project_name}"},
                {"type": "mrkdwn", "text": "*Rule*\ndeny.paths"},
                {"type": "mrkdwn", "text": "*Tool*\nWrite"},
                {"type": "mrkdwn", "text": f"*Tool calls*\n{tool_calls} (0 failed)"}]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"`{cmd}`"}]},
        ],
    }


def test_a_denied_call_reaches_slack_teams_and_json_receivers_with_exact_payloads(project, trace_dir):
    with Receiver() as slack, Receiver(status=202) as teams, Receiver() as plain:
        rules(project, f"""
[[deny]]
paths = ["secrets/**"]
reason = "secrets & keys are off limits"
[[notify]]
url = "{slack.url}"
format = "slack"
[[notify]]
url = "{teams.url}"
format = "teams"
[[notify]]
url = "{plain.url}"
""")
        r, _ = hook(project, write_call(project, "secrets/a.txt"))
        assert b'"permissionDecision":"deny"' in r.stdout
        (s_post,) = slack.wait_for(1)
        (t_post,) = teams.wait_for(1)
        (j_post,) = plain.wait_for(1)
    session = "s-notify"
    assert s_post["path"] == "/hook/T000/B000/secretpart" and s_post["headers"]["content-type"] == "application/json"
    assert s_post["body"] == expected_slack(session, str(trace_dir), "proj", 1)
    cmd = f"agent-strace --trace-dir {trace_dir} replay {session} --failed"
    assert t_post["body"] == {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": [
                {"type": "TextBlock", "text": "agent-strace: Tool call denied in proj: Write (rule deny.paths)",
                 "weight": "Bolder", "size": "Medium", "wrap": True},
                {"type": "TextBlock", "text": "secrets & keys are off limits", "wrap": True},
                {"type": "FactSet", "facts": [
                    {"title": "Session", "value": session}, {"title": "Project", "value": "proj"},
                    {"title": "Rule", "value": "deny.paths"}, {"title": "Tool", "value": "Write"},
                    {"title": "Tool calls", "value": "1 (0 failed)"}]},
                {"type": "TextBlock", "text": cmd, "fontType": "Monospace", "wrap": True, "isSubtle": True}]}}]}
    alert = j_post["body"]["alert"]
    decision = next(e for e in read_session(trace_dir, session) if e["type"] == "rule.decision")
    assert j_post["body"]["source"] == "agent-strace" and j_post["body"]["version"] == 1
    target = target_key(plain.url, None, "json", False)
    assert alert["id"] == ev.derived_id(session, "notify", f"denied\0{decision['id']}\0{target}")
    assert {k: alert[k] for k in ("kind", "session", "project", "rule", "tool", "reason", "command", "ts")} == {
        "kind": "denied", "session": session, "project": "proj", "rule": "deny.paths", "tool": "Write",
        "reason": "secrets & keys are off limits", "command": cmd, "ts": decision["ts"]}
    assert "target" not in alert


def test_hostile_text_is_escaped_and_secrets_never_leave(project, trace_dir):
    with Receiver() as slack, Receiver() as plain:
        rules(project, f"""
[[deny]]
commands = ["curl *"]
[[deny]]
paths = ["*.env"]
[[notify]]
url = "{slack.url}"
format = "slack"
[[notify]]
url = "{plain.url}"
""")
        hook(project, {"hook_event_name": "PreToolUse", "tool_name": "Write", "tool_use_id": "w1",
                       "tool_input": {"file_path": str(project / f"<!channel>-{KEY}.env"), "content": "x"}})
        slack.wait_for(1)
        plain.wait_for(1)
    raw = slack.posts[0]["raw"] + plain.posts[0]["raw"]
    assert KEY.encode() not in raw and b"[REDACTED]" in raw
    text = json.dumps(slack.posts[0]["body"])
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


# -- delivery ------------------------------------------------------------------------

def test_receiver_down_then_up_gets_each_alert_once(project, trace_dir):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    rules(project, f'[[deny]]\npaths = ["secrets/**"]\n[[notify]]\nurl = "{url}"\nformat = "json"\n')
    times = []
    for i in range(3):
        _, dt = hook(project, write_call(project, f"secrets/{i}.txt", i))
        times.append(dt)
    time.sleep(1.5)  # the sender has tried and is backing off
    status = json.loads(run_cli("notify", "status", "--json", "--rules", str(project / ".agent-strace/rules.toml"))
                        .stdout)
    assert status[0]["alerts"] == 3 and status[0]["counts"].get("retry", 0) >= 1
    assert "cannot reach http://127.0.0.1/..." in status[0]["last_error"]
    with Receiver(port=port) as r:
        posts = r.wait_for(3, timeout=30)
        time.sleep(2.5)  # nothing more arrives
        ids = [p["body"]["alert"]["id"] for p in r.posts]
    assert len(posts) == 3 and len(set(ids)) == 3 and len(ids) == 3
    status = json.loads(run_cli("notify", "status", "--json").stdout)
    assert status[0]["counts"] == {"sent": 3}


def test_retry_on_5xx_never_on_4xx_and_doubt_is_not_resent(tmp_path, monkeypatch):
    state = str(tmp_path / "state")
    with Receiver(status=503) as busy, Receiver(status=400, answer=b"invalid_payload") as bad, \
            Receiver(delay=1.5) as slow:
        tb, tbad, tslow = (make_targets(r.url, "json")[0] for r in (busy, bad, slow))
        queue.enqueue(state, [alerts.sample(t) for t in (tb, tbad, tslow)])
        monkeypatch.setattr(sender, "TIMEOUT_S", 0.5)
        r1 = sender.deliver(state, [tb, tbad, tslow])
        assert (r1.retrying, r1.failed, r1.doubt) == (1, 1, 1)
        busy.status = 200
        time.sleep(1.1)
        r2 = sender.deliver(state, [tb, tbad, tslow])
        assert r2.sent == 1 and r2.failed == r2.doubt == 0 and not r2.waiting
        time.sleep(1.6)
        assert len(busy.posts) == 2 and len(bad.posts) == 1 and len(slow.posts) == 1  # the slow one got it once
    st = {s["target"]: s for s in (queue.status(state, t["key"]) for t in (tb, tbad, tslow))}
    assert st[tbad["key"]]["counts"] == {"failed": 1}
    assert "answered 400: invalid_payload" in st[tbad["key"]]["last_error"]
    assert st[tslow["key"]]["counts"] == {"doubt": 1}


def test_a_sender_that_died_mid_request_never_sends_again(tmp_path):
    state = str(tmp_path / "state")
    with Receiver() as r:
        t = make_targets(r.url, "json")[0]
        (a,) = queue.enqueue(state, [alerts.sample(t)])
        queue.mark(state, t["key"], a["id"], "sending", attempt=1)
        assert queue.enqueue(state, [a]) == []  # queued once, whoever tries again
        res = sender.deliver(state, [t])
        assert res.doubt == 1 and r.posts == []


def test_desktop_notifications_use_notify_send_when_present(tmp_path, monkeypatch):
    state = str(tmp_path / "state")
    log = tmp_path / "calls.txt"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "notify-send"
    exe.write_text(f"#!/bin/sh\nprintf '%s|' \"$@\" >> {log}\necho >> {log}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    (t,) = make_targets(None, None, desktop=True)
    monkeypatch.setenv("PATH", str(bindir))
    queue.enqueue(state, [alerts.sample(t)])
    assert sender.deliver(state, [t]).sent == 1
    line = log.read_text().splitlines()[0]
    assert line.startswith("--app-name=agent-strace|agent-strace: Test alert from agent-strace")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    out = sender.send_one(t, alerts.sample(t))
    assert out.state == "failed" and "notify-send is not installed" in out.error


def test_notify_test_sends_a_sample_to_every_target(project):
    with Receiver() as ok, Receiver(status=500) as down:
        path = rules(project, f'[[notify]]\nurl = "{ok.url}"\nformat = "teams"\n')
        r = run_cli("notify", "test", "--rules", path)
        assert r.returncode == 0 and b"http://127.0.0.1/... (http, teams): ok (HTTP 200)" in r.stdout
        assert ok.posts[0]["body"]["attachments"][0]["content"]["body"][0]["text"].startswith(
            "agent-strace: Test alert from agent-strace")
        r = run_cli("notify", "test", "--url", down.url, "--format", "slack")
        assert r.returncode == 1 and b"FAILED" in r.stdout and b"answered 500" in r.stdout
        assert b"secretpart" not in r.stdout + r.stderr  # the webhook path is a credential
    assert run_cli("notify", "test", "--rules", rules(project, "[limits]\ntool_calls = 3\n")).returncode == 3


# -- budgets and session ends through the hook -------------------------------------

def llm_events(session, n, tokens_each=1000):
    return [ev.make_event(ev.LLM_RESPONSE, session, "claude-code", model="claude-sonnet-4-5-20250929",
                          usage=ev.usage(input=tokens_each)) for _ in range(n)]


def test_budget_thresholds_alert_once_each_and_session_end_reports(project, trace_dir):
    sink = FileSink(Store(str(trace_dir)))
    with Receiver() as r:
        rules(project, f"""
[budget]
tokens = 10000
[[notify]]
url = "{r.url}"
format = "json"
on = ["budget", "stopped", "session_ended", "session_failed"]
budget = [50, 80]
""")
        sink.emit_many(llm_events("s-notify", 6))  # 6,000 tokens: past 50%
        for i in range(3):
            hook(project, write_call(project, f"a{i}.txt", i))
        r.wait_for(1)
        sink.emit_many(llm_events("s-notify", 5))  # 11,000: past 80% and the budget itself
        hook(project, write_call(project, "b.txt", 9))
        hook(project, {"hook_event_name": "SessionEnd", "reason": "other"})
        posts = r.wait_for(5)
        time.sleep(1.0)
    kinds = [(p["body"]["alert"]["kind"], p["body"]["alert"]["rule"]) for p in r.posts]
    assert sorted(kinds) == sorted([("budget", "budget.tokens"), ("budget", "budget.tokens"),
                                    ("stopped", "budget.tokens"), ("session_failed", None),
                                    ("session_ended", None)]), kinds
    assert len(posts) == 5
    b50 = next(p["body"]["alert"] for p in r.posts if "passed 50%" in p["body"]["alert"]["title"])
    assert b50["title"] == "Session s-notify in proj passed 50% of its budget: 6,000 tokens of 10,000 tokens"
    ended = next(p["body"]["alert"] for p in r.posts if p["body"]["alert"]["kind"] == "session_ended")
    assert ended["title"] == "Session s-notify in proj ended (other)"
    assert ["Tokens", "11,000"] in ended["facts"] and ["Tool calls", "4 (0 failed)"] in ended["facts"]


def test_stop_failure_is_a_failed_session(project, trace_dir):
    with Receiver() as r:
        rules(project, f'[[notify]]\nurl = "{r.url}"\nformat = "json"\non = ["session_failed"]\n')
        hook(project, {"hook_event_name": "StopFailure", "error": "rate_limit_error: 429 Too Many Requests"})
        (p,) = r.wait_for(1)
    assert p["body"]["alert"]["title"] == ("Session s-notify in proj failed: rate_limit_error: 429 Too Many "
                                           "Requests")


# -- watch and the collector ---------------------------------------------------------

AGENT = """
import os, sys, time
sys.path.insert(0, {src!r})
from agent_trace import event as ev
from agent_trace.store import Store
from agent_trace.store.sink import FileSink
sink = FileSink(Store(os.environ["AGENT_TRACE_DIR"]))
for i in range(40):
    sink.emit(ev.make_event(ev.LLM_RESPONSE, "w-sess", "claude-code", model="claude-sonnet-4-5-20250929",
                            usage=ev.usage(input=1000)))
    time.sleep(0.05)
time.sleep(30)
"""


def test_watch_notifies_thresholds_and_its_kill(tmp_path, trace_dir):
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    script = tmp_path / "agent.py"
    script.write_text(AGENT.format(src=src))
    with Receiver() as r:
        res = run_cli("watch", "--quiet", "--tokens", "10000", "--notify", r.url, "--notify-format", "json",
                      "--", sys.executable, str(script), timeout=60)
        assert res.returncode == 4, res.stderr
        posts = r.wait_for(3, timeout=10)
    titles = sorted(p["body"]["alert"]["title"] for p in posts)
    assert len(posts) == 3, titles
    assert any("passed 80% of its budget" in t for t in titles)
    assert any("passed 100% of its budget" in t for t in titles)
    assert any(t.startswith("Agent killed in") and "(rule budget.tokens)" in t for t in titles)


def test_collector_notifies_for_every_client_and_the_daily_budget(tmp_path):
    storage = tmp_path / "srv"
    rules_file = tmp_path / "team.toml"
    with Receiver() as r:
        rules_file.write_text(f"""
[budget]
tokens = 100000
[daily_budget]
tokens = 5000
per = ["user"]
[[notify]]
url = "{r.url}"
format = "json"
budget = [100]
""")
        from agent_trace.remote.shipper import Shipper

        with Server(storage, extra=["--rules", str(rules_file)]) as srv:
            for who, session in (("ana@example.com", "c1"), ("ana@example.com", "c2"), ("bo@example.com", "c3")):
                client = Store(str(tmp_path / f"client-{session}"))
                sink = FileSink(client)
                sink.emit(ev.make_event(ev.ANNOTATION, session, "agent-strace", name="git",
                                        data={"phase": "start", "user": who, "project": "acme/widgets",
                                              "branch": "main", "head": "a" * 40}))
                sink.emit_many(llm_events(session, 3))  # 3,000 tokens a session
                sink.emit(ev.make_event(ev.RULE_DECISION, session, "agent-strace", name="deny.paths",
                                        status="denied", tool="Write", data={"reason": "no"}))
                res = Shipper(client, srv.url).ship()
                assert res.error is None and res.accepted == 5
                res = Shipper(client, srv.url).ship()  # nothing new: nothing twice
            r.wait_for(4, timeout=15)
            time.sleep(1)
        kinds = sorted(p["body"]["alert"]["title"] for p in r.posts)
        assert len(r.posts) == 4, kinds
        denied = [p for p in r.posts if p["body"]["alert"]["kind"] == "denied"]
        assert sorted(p["body"]["alert"]["session"] for p in denied) == ["c1", "c2", "c3"]
        assert denied[0]["body"]["alert"]["project"] == "acme/widgets"
        daily = [p["body"]["alert"] for p in r.posts if p["body"]["alert"]["kind"] == "budget"]
        assert len(daily) == 1 and daily[0]["title"].startswith("User ana@example.com passed 100% of the daily budget")
        assert daily[0]["command"] == f"agent-strace --trace-dir {storage} replay c2 --failed"
        # a restarted collector neither forgets nor repeats
        with Server(storage, extra=["--rules", str(rules_file)]) as srv:
            client = Store(str(tmp_path / "client-c2"))
            FileSink(client).emit_many(llm_events("c2", 1))
            assert Shipper(client, srv.url).ship().accepted == 1
            time.sleep(1.5)
        assert len(r.posts) == 4


def test_a_grown_spool_is_compacted_keeping_recent_alerts_and_their_markers(tmp_path, monkeypatch):
    state = str(tmp_path / "state")
    monkeypatch.setattr(queue, "COMPACT_BYTES", 2000)
    with Receiver() as r:
        t = make_targets(r.url, "json")[0]
        old = queue.enqueue(state, [alerts.sample(t) for _ in range(4)])
        assert sender.deliver(state, [t]).sent == 4
        monkeypatch.setattr(queue, "KEEP_S", 0)  # everything sent so far is old
        new = queue.enqueue(state, [alerts.sample(t)])
        assert sender.deliver(state, [t]).sent == 1  # then compacts
    kept, marks = queue.load(state, t["key"])
    assert [a["id"] for a in kept] == [] and marks == {}
    assert not any(queue.is_queued(state, key=t["key"], alert_id=a["id"]) for a in old + new)
    assert len(r.posts) == 5
