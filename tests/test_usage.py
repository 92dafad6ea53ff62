"""usage reports and prices: JSON shape, timezones, blocks, filters, each
response once, long-context pricing, LiteLLM price updates."""

from __future__ import annotations

import json
from datetime import timezone
from zoneinfo import ZoneInfo

from agent_trace import event as ev
from agent_trace.store import Store
from agent_trace.store.sink import FileSink
from agent_trace.usage.index import UsageIndex
from agent_trace.usage.pricing import PriceTable
from agent_trace.usage.reports import report, rows_of

from conftest import run_cli

SONNET = "claude-sonnet-4-5-20250929"


def llm(session, ts, model=SONNET, msg=None, source="claude-code", **u):
    usage = {"input": 100, "output": 10, "cache_read": 1000, "cache_write": 50}
    usage.update(u)
    data = {"message_id": msg} if msg else {}
    return ev.make_event(ev.LLM_RESPONSE, session, source, ts=ts, model=model, usage=usage, data=data)


def start(session, cwd, ts="2026-03-01T00:00:00.000000Z", source="claude-code"):
    return ev.make_event(ev.SESSION_START, session, source, ts=ts, data={"cwd": cwd})


def record(trace_dir, events):
    FileSink(Store(str(trace_dir))).emit_many(events)


def usage_json(*args) -> dict:
    r = run_cli("usage", *args, "--json", "--no-import")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_daily_json_shape_and_timezones(trace_dir):
    record(trace_dir, [start("a", "/w/app"),
                       llm("a", "2026-03-01T18:10:00.000000Z", msg="m1"),
                       llm("a", "2026-03-01T18:20:00.000000Z", msg="m2"),
                       llm("a", "2026-03-01T23:30:00.000000Z", msg="m3", model="mystery-model-1")])
    d = usage_json("daily", "--timezone", "UTC")
    assert set(d) == {"daily", "totals"}
    (day,) = d["daily"]
    assert day["date"] == "2026-03-01"
    assert {"date", "input", "output", "cache_read", "cache_write", "cost_usd", "models"} <= set(day)
    assert (day["input"], day["output"], day["cache_read"], day["cache_write"]) == (300, 30, 3000, 150)
    one = (100 * 3 + 10 * 15 + 1000 * 0.3 + 50 * 3.75) / 1e6
    assert abs(day["cost_usd"] - 2 * one) < 1e-9  # the unpriced model adds nothing ...
    assert day["unpriced"] == ["mystery-model-1"]  # ... and is named
    assert day["models"]["mystery-model-1"]["cost_usd"] is None
    assert d["totals"]["unpriced"] == ["mystery-model-1"] and d["totals"]["responses"] == 3
    # Nepal is UTC+5:45: 18:10Z is 23:55 on the 1st, 18:20Z is 00:05 on the 2nd
    kathmandu = [(x["date"], x["input"]) for x in usage_json("daily", "--timezone", "Asia/Kathmandu")["daily"]]
    assert kathmandu == [("2026-03-01", 100), ("2026-03-02", 200)]
    assert [x["date"] for x in usage_json("daily", "--timezone", "America/Los_Angeles")["daily"]] == ["2026-03-01"]
    bad = run_cli("usage", "--timezone", "Mars/Olympus", "--no-import")
    assert bad.returncode == 2 and b"unknown timezone" in bad.stderr


def test_reports_by_week_month_session_project_and_filters(trace_dir):
    record(trace_dir, [start("a", "/w/app"), llm("a", "2026-03-02T10:00:00.000000Z", msg="a1"),
                       start("b", "/w/lib"), llm("b", "2026-03-09T10:00:00.000000Z", msg="b1"),
                       llm("b", "2026-04-01T10:00:00.000000Z", msg="b2"),
                       start("c", "/w/app", source="codex"),
                       llm("c", "2026-04-02T10:00:00.000000Z", model="gpt-5", source="codex")])
    assert [w["week"] for w in usage_json("weekly", "-z", "UTC")["weekly"]] == ["2026-03-02", "2026-03-09",
                                                                                  "2026-03-30"]
    assert [m["month"] for m in usage_json("monthly", "-z", "UTC")["monthly"]] == ["2026-03", "2026-04"]
    sessions = {s["session"]: s for s in usage_json("session")["session"]}
    assert sessions["b"]["project"] == "/w/lib" and sessions["b"]["responses"] == 2
    assert sessions["c"]["agent"] == "codex" and sessions["a"]["agent"] == "claude-code"
    projects = {p["project"]: p for p in usage_json("project")["project"]}
    assert projects["/w/app"]["sessions"] == 2 and projects["/w/lib"]["input"] == 200
    assert [s["session"] for s in usage_json("session", "--project", "LIB")["session"]] == ["b"]
    assert [s["session"] for s in usage_json("session", "--agent", "codex")["session"]] == ["c"]
    assert [s["session"] for s in usage_json("session", "--agent", "claude")["session"]] == ["a", "b"]
    days = usage_json("daily", "-z", "UTC", "--since", "20260309", "--until", "2026-04-01")["daily"]
    assert [x["date"] for x in days] == ["2026-03-09", "2026-04-01"]
    assert run_cli("usage", "--since", "last tuesday", "--no-import").returncode == 2


def test_each_response_counts_once_across_sessions(trace_dir):
    """A resumed session's log repeats earlier messages: the same message id
    in two sessions is one response."""
    record(trace_dir, [llm("old", "2026-03-01T10:00:00.000000Z", msg="msg_1"),
                       llm("new", "2026-03-01T10:00:00.000000Z", msg="msg_1"),
                       llm("new", "2026-03-01T11:00:00.000000Z", msg="msg_2")])
    assert usage_json("daily")["totals"]["responses"] == 2


def test_blocks_follow_five_hour_windows():
    times = ["2026-03-01T10:05:00Z", "2026-03-01T11:00:00Z", "2026-03-01T14:59:00Z",  # block 10:00
             "2026-03-01T15:01:00Z",  # block 15:00 (five hours after the block's start)
             "2026-03-02T02:00:00Z"]  # after a gap of five hours or more
    store_events = [llm("s", t.replace("Z", ".000000Z"), msg=f"m{i}") for i, t in enumerate(times)]
    index = UsageIndex.__new__(UsageIndex)
    index.files = {"s.jsonl": {"session": "s", "project": "/p", "agent": "claude-code", "rows": {}}}
    index._keys = set()
    index.feed("s.jsonl", index.files["s.jsonl"], ((0, 0, e) for e in store_events))
    now = ev.iso_to_epoch("2026-03-02T03:30:00.000000Z")
    out = report("blocks", rows_of([index]), PriceTable.load(), timezone.utc, now=now)["blocks"]
    real = [b for b in out if not b.get("gap")]
    assert [b["start"] for b in real] == ["2026-03-01T10:00:00Z", "2026-03-01T15:00:00Z", "2026-03-02T02:00:00Z"]
    assert [b["responses"] for b in real] == [3, 1, 1]
    assert [b.get("gap") for b in out] == [None, None, True, None]
    assert real[-1]["active"] and real[-1]["remaining_minutes"] == 210.0 and not real[0]["active"]
    assert real[0]["burn_rate"]["tokens_per_minute"] > 0 and "projection" in real[-1]


def test_long_context_requests_are_priced_whole_at_long_rates():
    table = PriceTable.load()
    short = table.cost(SONNET, {"input": 150_000, "cache_read": 40_000, "output": 1000})
    long = table.cost(SONNET, {"input": 150_000, "cache_read": 60_000, "output": 1000})
    assert abs(short - (150_000 * 3 + 40_000 * 0.3 + 1000 * 15) / 1e6) < 1e-12
    assert abs(long - (150_000 * 6 + 60_000 * 0.6 + 1000 * 22.5) / 1e6) < 1e-12
    assert table.cost("claude-opus-4-5", {"input": 300_000}) == 1.5  # no long-context tier
    assert table.match("us.anthropic.claude-opus-4-1-20250805-v1:0") == "claude-opus-4-1"
    assert table.match("claude-opus-4-1@20250805") == "claude-opus-4-1"
    assert table.match("gpt-5.5") == "gpt-5.5" and table.match("gpt-5-mini-2025-08-07") == "gpt-5-mini"
    assert table.match("mystery-model-1") is None
    # an entry's own threshold counts; a malformed one falls back to the default rather than failing
    odd = PriceTable({"m-128k": {"input": 1.0, "output": 2.0, "long_context": {"above": 128_000, "input": 3.0}},
                      "m-bad": {"input": 1.0, "long_context": {"above": "lots", "input": 3.0}}}, [])
    assert odd.cost("m-128k", {"input": 130_000}) == 0.39 and odd.cost("m-128k", {"input": 120_000}) == 0.12
    assert odd.cost("m-bad", {"input": 150_000}) == 0.15 and odd.cost("m-bad", {"input": 250_000}) == 0.75


def test_long_context_rows_are_kept_apart(trace_dir):
    record(trace_dir, [llm("l", "2026-03-01T10:00:00.000000Z", msg="x1", input=250_000, cache_read=0),
                       llm("l", "2026-03-01T10:01:00.000000Z", msg="x2", input=1000, cache_read=0)])
    day = usage_json("daily")["daily"][0]
    want = (250_000 * 6 + 10 * 22.5 + 50 * 7.5) / 1e6 + (1000 * 3 + 10 * 15 + 50 * 3.75) / 1e6
    assert abs(day["cost_usd"] - want) < 1e-6


LITELLM = {
    "sample_spec": {"input_cost_per_token": 0.0, "mode": "chat"},
    "mystery-model-1": {"input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06,
                        "cache_read_input_token_cost": 2e-07, "litellm_provider": "openai", "mode": "chat"},
    "anthropic/claude-sonnet-9": {"input_cost_per_token": 4e-06, "output_cost_per_token": 2e-05,
                                  "input_cost_per_token_above_200k_tokens": 8e-06, "mode": "chat"},
    "text-embedding-9": {"input_cost_per_token": 1e-08, "mode": "embedding"},
    "broken": {"input_cost_per_token": "cheap"},
    "negative": {"input_cost_per_token": -1},
}


def test_prices_update_from_litellm(trace_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    record(trace_dir, [llm("p", "2026-03-01T10:00:00.000000Z", msg="p1", model="mystery-model-1")])
    assert usage_json()["totals"]["unpriced"] == ["mystery-model-1"]
    src = tmp_path / "model_prices_and_context_window.json"
    src.write_text(json.dumps(LITELLM))
    r = run_cli("prices", "update", "--from", str(src))
    assert r.returncode == 0, r.stderr
    assert b"2 model price(s)" in r.stdout
    saved = json.loads((tmp_path / "config" / "agent-strace" / "prices.json").read_text())["models"]
    assert saved["mystery-model-1"]["input"] == 2.0 and saved["mystery-model-1"]["cache_write"] == 0.0
    assert saved["claude-sonnet-9"]["long_context"] == {"above": 200000, "input": 8.0, "output": 20.0,
                                                        "cache_read": 0.0, "cache_write": 0.0}
    totals = usage_json()["totals"]
    assert "unpriced" not in totals and abs(totals["cost_usd"] - (100 * 2 + 10 * 8 + 1000 * 0.2) / 1e6) < 1e-9
    listed = json.loads(run_cli("prices", "--json").stdout)
    assert "mystery-model-1" in listed["models"] and len(listed["sources"]) == 2
    # bad input: one line, nothing changed
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    r = run_cli("prices", "update", "--from", str(bad))
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1 and b"not a LiteLLM price table" in r.stderr
    bad.write_text("[]")
    assert run_cli("prices", "update", "--from", str(bad)).returncode == 2
    assert run_cli("prices", "update", "--from", str(tmp_path / "nope.json")).returncode == 1
    assert json.loads((tmp_path / "config" / "agent-strace" / "prices.json").read_text())["models"] == saved


def test_table_output_and_zone_info_available():
    assert ZoneInfo("Asia/Kathmandu")
    r = run_cli("usage", "--no-import")
    assert r.returncode == 0 and b"no usage found" in r.stdout


def test_one_hour_cache_writes_are_priced_apart(trace_dir):
    """Anthropic's 1-hour cache writes cost twice the input price (5-minute
    ones 1.25 times): the split comes from the message's own usage."""
    e = llm("h", "2026-03-01T10:00:00.000000Z", msg="h1", input=0, output=0, cache_read=0, cache_write=1000)
    e["data"]["usage"] = {"cache_creation_input_tokens": 1000,
                          "cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 600}}
    record(trace_dir, [e])
    day = usage_json("daily")["daily"][0]
    assert day["cache_write"] == 1000
    assert abs(day["cost_usd"] - (400 * 3.75 + 600 * 6.0) / 1e6) < 1e-12
    insp = json.loads(run_cli("inspect", "h", "--json").stdout)
    assert abs(insp["cost_usd"] - day["cost_usd"]) < 1e-9  # the session summary prices it the same way


def test_table_with_breakdown_and_unpriced_marks(trace_dir):
    record(trace_dir, [start("a", "/w/app"), llm("a", "2026-03-01T10:00:00.000000Z", msg="t1"),
                       llm("a", "2026-03-01T11:00:00.000000Z", msg="t2", model="mystery-model-1")])
    out = run_cli("usage", "daily", "--breakdown", "--timezone", "UTC", "--no-import").stdout.decode()
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["DATE", "INPUT"]
    day = next(x for x in lines if x.startswith("2026-03-01"))
    assert "*" in day and "claude-sonnet-4-5-20250929, mystery-model-1" in day
    assert any(x.strip().startswith("mystery-model-1") and x.rstrip().endswith("unpriced") for x in lines)
    assert lines[-1].startswith("* no price for mystery-model-1")
    blocks = run_cli("usage", "blocks", "--no-import").stdout.decode()
    assert "BLOCK START" in blocks and "2026-03-01" in blocks


def test_trend_rows_are_priced_as_the_price_table_prices_them():
    """The trends report looks each model's rates up once; a row of one
    request, filed as long-context or not by the rule the usage index uses,
    must cost exactly what ``PriceTable.cost`` gives for the request
    (long-context tiers, 1-hour cache writes, prefixed and unpriced models
    included)."""
    import random

    from agent_trace.analysis import trends
    from agent_trace.analysis.summary import prices
    from agent_trace.usage.pricing import long_context

    table, cost, rng = prices(), trends._coster(), random.Random(19)
    models = [*table.models, "claude-sonnet-4-5-20250929", "anthropic/claude-opus-4-1", "house-model-7"]
    longs = 0
    for _ in range(20_000):
        model = rng.choice(models)
        u = {"input": rng.randint(0, 400_000), "output": rng.randint(0, 9_000),
             "cache_read": rng.randint(0, 400_000), "cache_write": rng.randint(0, 30_000)}
        w1h = rng.choice([0, rng.randint(0, u["cache_write"])])
        v = [1, *u.values(), 0, 0, w1h]
        long = long_context(u)
        longs += long
        assert cost(model, long, v) == table.cost(model, u, w1h), (model, v)
    assert 1000 < longs < 19_000  # both kinds of rows were tried


def test_token_counts_that_are_not_counts_cost_their_value_not_the_reports(trace_dir):
    """A store edited by hand or written by an older version may hold token
    counts no float can hold, or numbers that are not counts: each such
    value counts as nothing, the rest of the response and the reports stand
    (values that are not numbers cost the event: the store reader skips it)."""
    bad = [10 ** 400, -5, 1.5, 2 ** 53 + 1, 1e300]
    record(trace_dir, [start("z", "/w/app")] +
           [llm("z", f"2026-03-01T10:{i:02d}:00.000000Z", msg=f"z{i}", input=v) for i, v in enumerate(bad)])
    d = usage_json("daily", "-z", "UTC")["daily"][0]
    assert (d["input"], d["output"], d["responses"]) == (0, 10 * len(bad), len(bad))
    assert d["cost_usd"] > 0
    for args in (["usage", "blocks", "--no-import"], ["usage", "session", "--no-import"], ["list"], ["inspect", "z"]):
        r = run_cli(*args)
        assert r.returncode == 0 and b"Traceback" not in r.stderr, (args, r.stderr)
    from agent_trace.analysis.summary import prices
    from agent_trace.usage.pricing import usd

    assert prices().cost(SONNET, {"input": 10 ** 400, "output": 10}) == prices().cost(SONNET, {"output": 10})
    assert usd(prices().rates(SONNET), [10 ** 400, 0, 0, 0]) == 0.0  # (a hand-edited index)


def test_responses_at_the_edges_of_time_are_left_out_and_counted(trace_dir):
    record(trace_dir, [start("e", "/w/app"), llm("e", "0001-01-01T00:00:00.000000Z", msg="e1"),
                       llm("e", "9999-12-31T23:59:59.999000Z", msg="e2"),
                       llm("e", "2026-03-01T10:00:00.000000Z", msg="e3")])
    for tz in ("UTC", "Pacific/Kiritimati", "Etc/GMT+12"):
        for kind in ("daily", "weekly", "monthly", "session", "project", "blocks"):
            out = usage_json(kind, "-z", tz)
            assert out["totals"]["skipped"] == 2 and out["totals"]["responses"] == 1, (kind, tz)
    r = run_cli("usage", "daily", "--no-import")
    assert r.returncode == 0 and b"2 response(s) left out" in r.stdout


def test_dates_too_far_back_or_not_ascii_digits_are_bad_dates():
    import pytest

    from agent_trace.cli.usage_cmds import parse_date

    for text in ("99999999d", "999999999999d", "9" * 30 + "w", "9" * 5000 + "d", "²d", "２０２６０１０１"):
        with pytest.raises(ValueError, match="bad date"):
            parse_date(text, None)
    assert parse_date("0d", timezone.utc) and parse_date("00010101", None) == "0001-01-01"


def test_a_hand_edited_prices_file_loses_only_its_bad_entries(tmp_path, monkeypatch, capsys):
    from agent_trace.usage import pricing

    user = tmp_path / "prices.json"
    user.write_text(json.dumps({"models": {
        "claude-sonnet-4-5": {"input": "abc", "output": 1}, "m-list": {"input": [1]}, "m-null": {"input": None},
        "m-huge": {"input": 10 ** 400}, "m-nan": {"input": float("nan")},
        "m-lc": {"input": 1, "long_context": {"above": -1, "input": "zz"}},
        "m-lc-list": {"input": 1, "long_context": [1]},
        "m-none": {"as_of": "x"}, "m-str": "x",
        "m-good": {"input": 1, "output": 2, "as_of": 5, "long_context": {"above": 1000, "input": 2}}}}))
    monkeypatch.setenv("AGENT_TRACE_PRICES", str(user))
    monkeypatch.setattr(pricing, "_warned", False)
    table = pricing.PriceTable.load()
    table2 = pricing.PriceTable.load()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "claude-sonnet-4-5" in err and "m-good" not in err  # once per process
    assert set(table.models) & {"m-list", "m-null", "m-huge", "m-nan", "m-lc", "m-lc-list", "m-none", "m-str"} == set()
    assert table.models["m-good"] == {"input": 1, "output": 2, "long_context": {"above": 1000, "input": 2}}
    assert table.rates("claude-sonnet-4-5")["input"] == 3.0  # the bundled entry prices it
    assert table2.sources == [pricing._BUNDLED, str(user)]


def test_a_prices_file_that_is_not_a_file_falls_back_to_the_bundled_table(tmp_path, monkeypatch, capsys):
    import os

    from agent_trace.usage import pricing

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for where in (str(fifo), "/dev/zero", str(tmp_path)):
        monkeypatch.setenv("AGENT_TRACE_PRICES", where)
        monkeypatch.setattr(pricing, "_warned", False)
        assert pricing.PriceTable.load().sources == [pricing._BUNDLED]
        assert "not a regular file" in capsys.readouterr().err


def test_prices_update_refuses_what_is_not_a_table_file_and_keeps_the_prices(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for src in (str(fifo), "/dev/zero", str(tmp_path)):
        r = run_cli("prices", "update", "--from", src, timeout=10)
        assert r.returncode == 1 and r.stderr.count(b"\n") == 1 and b"not a regular file" in r.stderr, r.stderr
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"m1": {"input_cost_per_token": 1e-6, "mode": ["chat"]},
                                 "m2": {"input_cost_per_token": 1e-6, "mode": {"a": 1}}}))
    r = run_cli("prices", "update", "--from", str(table))
    assert r.returncode == 0 and b"2 model price(s)" in r.stdout, r.stderr
    (tmp_path / "pdir").mkdir()
    broken = tmp_path / "broken.json"
    broken.write_text("{oops")
    for dest in (tmp_path / "pdir", table / "x" / "prices.json", broken):
        r = run_cli("prices", "update", "--from", str(table), env={"AGENT_TRACE_PRICES": str(dest)})
        assert r.returncode == 1 and r.stderr.count(b"\n") == 1 and b"Traceback" not in r.stderr, r.stderr
    assert broken.read_text() == "{oops" and os.listdir(tmp_path / "pdir") == []
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_read_capped_refuses_more_than_its_cap(tmp_path):
    import pytest

    from agent_trace.usage.pricing import read_capped

    f = tmp_path / "t.json"
    f.write_bytes(b"x" * 100)
    assert read_capped(str(f), 100) == b"x" * 100
    with pytest.raises(ValueError, match="over"):
        read_capped(str(f), 99)
