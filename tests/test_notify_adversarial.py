"""Hostile input against what issue 21 added: alert text into Slack, Teams
and Markdown, damaged spool files, odd events at the collector's notifier."""

from __future__ import annotations

import json
import random

from agent_trace import event as ev
from agent_trace.event.redact import find_secrets
from agent_trace.notify import alerts, formats, queue, sender
from agent_trace.notify.config import make_targets
from agent_trace.notify.live import LiveNotifier
from agent_trace.report.markdown import code, esc

from support.webhook import Receiver

PIECES = ["<!channel>", "<@U123>", "<https://evil.example|click>", "&amp;", "</details>", "<script>",
          "@octocat", "[x](https://evil.example)", "| a | b |", "\n# heading\n", "`code`", "*bold*", "\u202e",
          "\x00", "\ud800", "é", "💥", "sk-ant-api03-" + "Z" * 40, "ghp_" + "Y" * 36, "Bearer abcdefghijklmnop1234",
          "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----", "%0A::error::x", " " * 50,
          "x" * 5000]
SECRETS = ["sk-ant-api03-" + "Z" * 40, "ghp_" + "Y" * 36, "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA "
           "PRIVATE KEY-----", "Bearer abcdefghijklmnop1234"]


def hostile(rng: random.Random) -> str:
    # pieces glued together too, except around secrets: overlapping secrets are the redactor's own
    # subject (tests/test_redact.py); here: what alerts do with text the redactor has seen
    out = ""
    for _ in range(rng.randint(1, 6)):
        p = rng.choice(PIECES)
        glue = " " if p in SECRETS or any(out.endswith(x) for x in SECRETS) or "Bearer" in p else ""
        out += glue + p
    return out


def test_alert_text_never_escapes_its_format_nor_carries_secrets():
    rng = random.Random(21)
    (target,) = make_targets("https://hooks.slack.com/services/T/B/x", "slack")
    for _ in range(300):
        a = alerts.make("denied", target, hostile(rng), hostile(rng), hostile(rng), project=hostile(rng),
                        rule=hostile(rng), reason=hostile(rng), tool=hostile(rng),
                        facts=[[hostile(rng), hostile(rng)]])
        for fmt in ("slack", "teams", "json"):
            body = json.dumps(formats.payload(a, fmt), ensure_ascii=False)
            for s in ("Z" * 40, "Y" * 36, "MIIB", "abcdefghijklmnop1234"):
                assert s not in body, (fmt, s)
            assert find_secrets(body) == [], fmt  # whatever the store's redaction would catch
        slack = formats.payload(a, "slack")
        texts = [slack["text"]] + [b["text"]["text"] for b in slack["blocks"] if "text" in b] + \
            [f["text"] for b in slack["blocks"] for f in b.get("fields", [])] + \
            [e["text"] for b in slack["blocks"] for e in b.get("elements", [])]
        for t in texts:
            assert "<" not in t and ">" not in t, t  # no mention, no link, no channel ping
            assert len(t) <= 3000
        assert len(slack["blocks"][1]["fields"]) <= 10 if len(slack["blocks"]) > 2 else True
        card = json.dumps(formats.payload(a, "teams")["attachments"][0]["content"], ensure_ascii=False)
        assert "](" not in card  # no Markdown link in an Adaptive Card's text


def test_markdown_escaping_keeps_hostile_text_inert():
    rng = random.Random(7)
    for _ in range(500):
        text = hostile(rng)
        e = esc(text)
        assert "\n" not in e and "<" not in e and ">" not in e and "@octocat" not in e
        assert e.count("|") == e.count("\\|") and e.count("[") == e.count("\\[")
        # inline code: nothing inside renders (CommonMark: no HTML, links or mentions in a code span),
        # so it only has to stay one span on one line
        c = code(text)
        assert "\n" not in c and c.startswith("`") and c.endswith("`") and "`" not in c[1:-1]
        assert c.count("|") == c.count("\\|")


def test_damaged_spool_files_are_skipped_not_fatal(tmp_path):
    state = str(tmp_path / "state")
    with Receiver() as r:
        (t,) = make_targets(r.url, "json")
        (a,) = queue.enqueue(state, [alerts.sample(t)])
        d = tmp_path / "state" / "notify" / t["key"]
        with open(d / "alerts.jsonl", "ab") as f:
            f.write(b"\x00\xff not json\n[1,2]\n{\"no\": \"id\"}\n{\"id\": \"torn")
        with open(d / "marks.jsonl", "ab") as f:
            f.write(b"garbage\n{\"id\": 5}\n")
        assert sender.deliver(state, [t]).sent == 1
        assert len(r.posts) == 1 and r.posts[0]["body"]["alert"]["id"] == a["id"]
        (b,) = queue.enqueue(state, [alerts.sample(t)])  # appended after a torn line: still read
        assert sender.deliver(state, [t]).sent == 1 and len(r.posts) == 2


def test_the_collector_notifier_takes_odd_events_in_stride(tmp_path):
    (t,) = make_targets("http://127.0.0.1:9/never", "json")
    n = LiveNotifier(str(tmp_path / "state"), [t], budget={"usd": 1.0}, daily_budget={"usd": 1.0, "tokens": None,
                                                                                         "per": ["user", "project"]},
                     start_sender=False)
    odd = [
        {"id": "1", "session": "s", "type": ev.LLM_RESPONSE, "ts": 12345, "usage": {"input": "many"}},
        {"id": "2", "session": "s", "type": ev.LLM_RESPONSE, "usage": None, "model": ["x"]},
        {"id": "3", "session": "s", "type": ev.RULE_DECISION, "status": "denied", "data": "not a dict"},
        {"id": "4", "session": "s", "type": ev.SESSION_END, "data": {"reason": {"nested": True}}},
        {"id": "5", "session": "s", "type": ev.TURN_END, "status": "error", "error": "plain string"},
        {"id": "6", "session": "s", "type": ev.ANNOTATION, "name": "git", "data": {"user": None, "commits": "abc"}},
        {"id": "7", "session": 5, "type": ev.TOOL_CALL},
        {"id": "8", "session": "s", "type": ev.LLM_RESPONSE, "ts": "2026-01-01T00:00:00Z",
         "model": "claude-sonnet-4-5-20250929", "usage": {"input": 10_000_000}},
    ]
    n.events_accepted(odd, user="x" * 10_000)
    kinds = sorted(a["kind"] for a in queue.load(str(tmp_path / "state"), t["key"])[0])
    # the session's budget (80%, 100%), the daily budget per user and per project (80%, 100% each),
    # the denial and the failed turn; the two malformed LLM responses are skipped, not counted
    assert kinds == ["budget"] * 6 + ["denied", "session_failed"] and n.skipped == 2


def test_a_url_without_a_host_fails_with_a_message_not_a_traceback(monkeypatch):
    # url_env values are not validated like `url` in the rules file: anything can be in the environment
    monkeypatch.setenv("AGENT_STRACE_TEST_HOOK_URL", "http:///hook")
    target = make_targets(url_env="AGENT_STRACE_TEST_HOOK_URL", fmt="json")[0]
    out = sender.send_one(target, {"kind": "test", "title": "t", "text": "x"})
    assert out.state == "failed" and "host" in out.error
