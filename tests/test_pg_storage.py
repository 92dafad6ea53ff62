"""The collector on a real PostgreSQL server (Debian's package, a throwaway
cluster): migrations, exactly-once ingest, the same answers as the file
backend, per-user tokens, live updates across collectors, 503 while the
database is down, retention and export-to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest

from conftest import run_cli
from support.collector import Server
from support.team_data import get, post, status_of, team_sessions

from agent_trace import event as ev

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[postgres]'")


def _sql(dsn: str, query: str, args=()):
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(query, args)
        return cur.fetchall() if cur.description else None


_HOURLY = ("SELECT to_timestamp(floor(extract(epoch FROM u.bucket) / 3600) * 3600) AS h, u.sender, "
           "coalesce(s.project, ''), coalesce(s.agent, ''), u.model, u.long, sum(u.input)::bigint, "
           "sum(u.output)::bigint, sum(u.cache_write_1h)::bigint, sum(u.llm_calls)::bigint, "
           "sum(u.tool_calls)::bigint, sum(u.tool_errors)::bigint "
           "FROM agent_strace.usage_buckets u JOIN agent_strace.sessions s ON s.session = u.session "
           "GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6")


def _hours_match_buckets(dsn: str) -> None:
    """The hourly sums trends read are the sessions' buckets added up under
    each session's current project and agent, and nothing else."""
    assert _sql(dsn, "SELECT hour, sender, project, agent, model, long, input, output, cache_write_1h, llm_calls, "
                     "tool_calls, tool_errors FROM agent_strace.usage_hours ORDER BY 1, 2, 3, 4, 5, 6") == _sql(
        dsn, _HOURLY)
    assert _sql(dsn, "SELECT session, hour, sender FROM agent_strace.session_hours ORDER BY 1, 2, 3") == _sql(
        dsn, "SELECT DISTINCT session, to_timestamp(floor(extract(epoch FROM bucket) / 3600) * 3600), sender "
             "FROM agent_strace.usage_buckets ORDER BY 1, 2, 3")
    _session_days_match_hours(dsn)


_SESSION_DAYS = ("SELECT session, (hour AT TIME ZONE 'UTC')::date, "
                 "bit_or(1 << extract(hour FROM hour AT TIME ZONE 'UTC')::int) FROM agent_strace.session_hours "
                 "GROUP BY 1, 2 ORDER BY 1, 2")


def _session_days_match_hours(dsn: str) -> None:
    """Each session's active hours per UTC day are its session hours, as a
    mask, and nothing else."""
    assert _sql(dsn, "SELECT session, day, hours FROM agent_strace.session_days ORDER BY 1, 2") == _sql(
        dsn, _SESSION_DAYS)


def _days_match_hours(dsn: str) -> None:
    """The daily running totals are the hourly sums, per dimension: what the
    ingest code computes from ``usage_hours`` now, row for row (none left
    at zero)."""
    from agent_trace.analysis.trends import COUNTS
    from agent_trace.server.pg.ingest import day_rows

    hours = {(h, s, p, a, m, g): c for h, s, p, a, m, g, *c in _sql(
        dsn, f"SELECT extract(epoch FROM hour)::float8, sender, project, agent, model, long, {', '.join(COUNTS)} "
             "FROM agent_strace.usage_hours")}
    want = {k: v for k, v in day_rows(hours).items() if any(v)}
    assert {(d, day, k, m, g): list(sums) for d, day, k, m, g, sums in _sql(
        dsn, "SELECT dim, day, key, model, long, sums FROM agent_strace.usage_days")} == want


def _token(storage: str, name: str) -> str:
    r = run_cli("server", "token", "add", name, "--storage", storage)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().strip()


@pytest.fixture(scope="module")
def demo_events(tmp_path_factory):
    """The bundled real Claude Code capture, recorded through the hook path."""
    from agent_trace.store.paths import Store
    from agent_trace.store.reader import iter_events

    proj = tmp_path_factory.mktemp("demo")
    r = run_cli("demo", "--dir", str(proj), env={"AGENT_TRACE_DIR": str(proj / ".agent-traces")})
    assert r.returncode == 0, r.stderr
    store = Store(str(proj / ".agent-traces"))
    (entry,) = store.session_files()
    return list(iter_events(entry.path))


# -- migrations ----------------------------------------------------------------
def test_migrations_from_empty_and_from_the_previous_version(pg_dsn):
    from agent_trace.server.pg import PgStorage, migrations

    r = run_cli("server", "--migrate-only", "--storage", pg_dsn)
    assert r.returncode == 0, r.stderr
    assert b"version 6 (applied 1, 2, 3, 4, 5, 6)" in r.stdout
    r = run_cli("server", "--migrate-only", "--storage", pg_dsn)
    assert r.returncode == 0 and b"up to date" in r.stdout

    # a database left at version 1 with data in it
    old = pg_dsn.rsplit("/", 1)[0] + "/" + pg_dsn.rsplit("/", 1)[1] + "_v1"
    _sql(pg_dsn, "SELECT 1")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{old.rsplit("/", 1)[1]}"')
    with psycopg.connect(old) as conn:
        assert migrations.migrate(conn, target=1) == [1]
        conn.execute("SET search_path = agent_strace")
        line = json.dumps(ev.make_event(ev.TOOL_CALL, "old-session", "claude-code", tool="Bash", tool_use_id="x",
                                        id="e1", data={"tool_input": {"command": "make legacy"}}))
        conn.execute("INSERT INTO sessions (session, next_seq, events, tool_calls, state, row) "
                     "VALUES ('old-session', 2, 1, 1, NULL, NULL)")
        conn.execute("INSERT INTO events (session, seq, id, ts, type, line, doc) VALUES "
                     "('old-session', 1, 'e1', now(), 'tool.call', %s, to_tsvector('simple', 'bash make legacy'))",
                     (line,))
        conn.execute("INSERT INTO usage_buckets (session, bucket, model, tool_calls) "
                     "VALUES ('old-session', date_trunc('hour', now()), '', 1)")
        conn.commit()
    st = PgStorage(old)
    try:
        assert st.applied == [2, 3, 4, 5, 6] and st.version == 6
        assert _sql(old, "SELECT sender, tool_calls FROM agent_strace.usage_buckets") == [("", 1)]
        # the old session goes on: its seq continues, the old event is kept once
        counts = st.ingest([json.loads(line), ev.make_event(ev.TOOL_CALL, "old-session", "claude-code",
                                                            tool="Read", tool_use_id="y")], "alice")
        assert counts == {"accepted": 1, "duplicates": 1, "rejected": 0}
        assert _sql(old, "SELECT seq, id FROM agent_strace.events ORDER BY seq")[0] == (1, "e1")
        assert st.search({"q": "legacy"})["hits"][0]["id"] == "e1"
        assert st.token_add("alice").startswith("ast_")
        _hours_match_buckets(old)  # rebuilt by migration 5 (from the events), then added to
        _days_match_hours(old)
        assert _sql(old, "SELECT sender, agent, tool_calls FROM agent_strace.usage_hours ORDER BY 1") == [
            ("", "claude-code", 1), ("alice", "claude-code", 1)]
    finally:
        st.close()


def test_hourly_sums_follow_a_late_working_folder(pg_dsn):
    """A session's first events arrive before the one that tells its folder
    (a spooled start delivered late): its sums move to the project, and the
    trends from the hourly sums equal those from the 15-minute buckets."""
    from agent_trace.server.pg import PgStorage, queries
    from agent_trace.server.query_params import TrendParams

    now = time.time()
    late = [ev.make_event(ev.LLM_RESPONSE, "late", "codex", ts=ev.now_iso(now - 7200 - 60 * i), model="gpt-4o",
                          usage={"input": 100 + i, "output": 7}) for i in range(3)]
    late.append(ev.make_event(ev.TOOL_CALL, "late", "codex", ts=ev.now_iso(now - 3600), tool="Bash"))
    start = ev.make_event(ev.SESSION_START, "late", "codex", ts=ev.now_iso(now - 9000), data={"cwd": "/w/shop"})
    other = [ev.make_event(ev.SESSION_START, "other", "codex", ts=ev.now_iso(now - 7100), data={"cwd": "/w/api"}),
             ev.make_event(ev.LLM_RESPONSE, "other", "codex", ts=ev.now_iso(now - 7000), model="gpt-4o",
                           usage={"input": 5, "output": 1})]
    st = PgStorage(pg_dsn)
    try:
        st.ingest(late, "alice")
        st.ingest(other, "bob")
        assert {r[2] for r in _sql(pg_dsn, _HOURLY)} == {"", "api"}
        st.ingest([start], "alice")
        _hours_match_buckets(pg_dsn)
        _days_match_hours(pg_dsn)
        assert {r[2] for r in _sql(pg_dsn, "SELECT * FROM agent_strace.usage_hours")} == {"shop", "api"}
        for by in ("user", "project", "model", "agent"):
            for extra in ({}, {"project": "shop"}, {"user": "bob"}, {"tz": "Asia/Tokyo"}):
                p = TrendParams({"days": "3", "by": by, **extra})
                assert queries._whole_hours(p)
                assert st.pool.run(lambda c, p=p: queries._trends_by_hour(c, p)) == \
                    st.pool.run(lambda c, p=p: (queries._trends_by_bucket(c, p))), (by, extra)
        _trends_by_day_match(st, ("UTC", "Asia/Tokyo"))
        assert not queries._whole_hours(TrendParams({"days": "3", "tz": "Asia/Kolkata"}))
    finally:
        st.close()


def _trends_by_day_match(st, zones) -> None:
    """Unfiltered trends from the daily running totals give the rows the
    hourly sums give."""
    from agent_trace.server.pg import queries
    from agent_trace.server.query_params import TrendParams

    def key(r):
        return r[:3]  # (date, key, model)

    for tz in zones:
        for by in ("user", "project", "model", "agent"):
            p = TrendParams({"days": "10", "by": by, "tz": tz})
            assert queries._whole_hours(p)
            hourly = sorted(st.pool.run(lambda c, p=p: queries._trends_by_hour(c, p))[0], key=key)
            assert hourly, (tz, by)
            assert sorted(st.pool.run(lambda c, p=p: queries._trends_by_day(c, p)), key=key) == hourly, (tz, by)


def test_migration_4_fills_the_daily_sums_from_the_hourly_ones(pg_dsn):
    """A database at version 3 with hourly sums over several days, senders,
    projects and hours (one sum moved away to zero, as a late folder leaves
    it) migrates to version 4: the daily running totals equal the hourly
    sums.  (Migration 5 then rebuilds every sum from the events: none here,
    so none are left.)"""
    from agent_trace.server.pg import PgStorage, migrations
    from agent_trace.server.pg.ingest import day_rows

    with psycopg.connect(pg_dsn) as conn:
        assert migrations.migrate(conn, target=3) == [1, 2, 3]
        conn.execute("SET search_path = agent_strace")
        base = int(time.time()) // 3600 * 3600 - 9 * 86400
        for i in range(0, 9 * 24, 5):
            conn.execute("INSERT INTO usage_hours VALUES (to_timestamp(%s), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                         "%s)", (base + i * 3600, ["alice", "bob", ""][i % 3], ["shop", "api"][i % 2],
                                 ["codex", "claude-code"][i % 7 % 2], ["gpt-4o", "", "claude-sonnet-4-5"][i % 3],
                                 i % 4, 1000 * i, 10 * i, 5 * i, i, i % 5 + 1, i % 2))
        conn.execute("INSERT INTO usage_hours (hour, sender, project, agent, model) "  # all zero: no daily row
                     "VALUES (to_timestamp(%s), 'carol', 'gone', 'codex', '')", (base + 3600,))
        conn.execute("INSERT INTO session_hours SELECT 's' || (extract(epoch FROM hour)::bigint % 3), hour, sender "
                     "FROM usage_hours")
        conn.commit()
        assert migrations.migrate(conn, target=4) == [4]
    hours = {(h, s, p, a, m): c for h, s, p, a, m, *c in _sql(
        pg_dsn, "SELECT extract(epoch FROM hour)::float8, sender, project, agent, model, llm_calls, input, output, "
                "cache_read, cache_write, tool_calls, tool_errors FROM agent_strace.usage_hours")}
    want = {k: v for k, v in day_rows(hours).items() if any(v)}
    assert len(want) > 20 and not any(k[2] == "gone" for k in want)
    assert {(d, day, k, m): list(sums) for d, day, k, m, sums in _sql(
        pg_dsn, "SELECT dim, day, key, model, sums FROM agent_strace.usage_days")} == want
    st = PgStorage(pg_dsn)
    try:
        assert st.applied == [5, 6] and st.version == 6
        for table in ("usage_buckets", "usage_hours", "usage_days", "session_hours", "session_days"):
            assert _sql(pg_dsn, f"SELECT count(*) FROM agent_strace.{table}") == [(0,)], table
    finally:
        st.close()


def test_a_newer_schema_is_refused_and_collectors_migrate_together(pg_dsn):
    procs = [subprocess.Popen([sys.executable, "-m", "agent_trace", "server", "--migrate-only", "--storage", pg_dsn],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert _sql(pg_dsn, "SELECT version FROM agent_strace.schema_migrations ORDER BY 1") == [(v,) for v in range(1, 7)]
    _sql(pg_dsn, "INSERT INTO agent_strace.schema_migrations (version, name) VALUES (7, 'from the future')")
    for args in (["server", "--port", "0"], ["server", "--migrate-only"]):
        r = run_cli(*args, "--storage", pg_dsn, timeout=60)
        assert r.returncode == 2, r
        assert b"schema is version 7, newer than this agent-strace" in r.stderr
        assert b"upgrade agent-strace" in r.stderr


def test_bad_storage_urls_fail_with_one_line(tmp_path, postgres_cluster):
    url = f"postgresql://postgres:s3cr3t-pw@127.0.0.1:{postgres_cluster.port}/no_such_db"
    r = run_cli("server", "--port", "0", "--storage", url, timeout=60)
    assert r.returncode == 1 and r.stderr.count(b"\n") == 1, r.stderr
    assert b"no_such_db" in r.stderr and b"s3cr3t-pw" not in r.stderr and b"***" in r.stderr
    r = run_cli("server", "export-to", str(tmp_path / "x"), "--storage", str(tmp_path))
    assert r.returncode == 2 and b"postgresql://" in r.stderr


# -- ingest --------------------------------------------------------------------
def test_ingest_exactly_once_redacted_capped_and_rejects_counted(pg_dsn):
    secret = "sk-ant-api03-" + "Q" * 90
    with Server(pg_dsn) as srv:
        events = [ev.make_event(ev.USER_PROMPT, "s-1", "claude-code", data={"prompt": f"use {secret} please"}),
                  ev.make_event(ev.TOOL_CALL, "s-1", "claude-code", tool="Write", tool_use_id="w",
                                data={"tool_input": {"content": "z" * 2_000_000}})]
        body = b"".join(json.dumps(e).encode() + b"\n" for e in events)
        import gzip

        zipped = gzip.compress(body)
        for expect in ({"accepted": 2, "duplicates": 0, "rejected": 0},
                       {"accepted": 0, "duplicates": 2, "rejected": 0}):
            req = urllib.request.Request(
                srv.url + "/v1/events", data=zipped, method="POST",
                headers={"Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"})
            with urllib.request.urlopen(req) as r:
                assert json.loads(r.read()) == expect
        bad = [b'{"v":1,"id":"torn', b"\x00\xff binary", b'{"session":"s-1","type":"tool.call"}',
               json.dumps({"v": 1, "id": "n", "session": "nul\u0000session", "type": "tool.call"}).encode(),
               json.dumps({"v": 1, "id": "x" * 5000, "session": "s-1", "type": "tool.call"}).encode(),
               json.dumps({"v": 1, "id": "lone", "session": "s-\udc80", "type": "tool.call"}).encode(),
               json.dumps({"v": 1, "id": "no-ts", "session": "s-1", "type": "tool.call", "tool": "Read",
                           "ts": "not a time"}).encode(),  # the same event checks as the file ingest
               json.dumps({"v": 1, "id": "ok-1", "session": "s-1", "type": "tool.call", "tool": "Read",
                           "ts": "2026-01-01T00:00:00Z", "sender": "mallory"}).encode()]
        code, out, _ = status_of(srv.url, "/v1/events", b"\n".join(bad) + b"\n")
        assert code == 200 and json.loads(out) == {"accepted": 1, "duplicates": 0, "rejected": 7}
    lines = [json.loads(r[0]) for r in _sql(pg_dsn, "SELECT line FROM agent_strace.events ORDER BY seq")]
    assert [e["type"] for e in lines] == ["user.prompt", "tool.call", "tool.call"]
    assert secret not in json.dumps(lines) and "[REDACTED]" in lines[0]["data"]["prompt"]
    assert lines[1]["truncated"] and len(lines[1]["data"]["tool_input"]["content"]) < 2_000_000
    assert "sender" not in lines[2]  # the shared/no-token path attributes nothing, whatever the client says
    assert _sql(pg_dsn, "SELECT events, tool_calls, next_seq FROM agent_strace.sessions") == [(3, 2, 4)]


def test_group_commit_stores_concurrent_overlapping_batches_once(pg_dsn):
    """Requests arriving together share transactions: 16 threads send
    overlapping batches of 6 sessions (each event by two threads); every
    event is stored once, the answers add up, and each session's summary
    and usage agree with its events."""
    from agent_trace.server.pg import PgStorage

    events = [ev.make_event(ev.TOOL_CALL, f"g-{i % 6}", "codex", tool="Bash", tool_use_id=f"t{i}",
                            data={"tool_input": {"command": f"echo {i}"}}) for i in range(960)]
    shares = [[e for k, e in enumerate(events) if k % 8 == t % 8][(t // 8) * 20:] for t in range(16)]
    st = PgStorage(pg_dsn)
    try:
        answers, errors = [], []

        def send(share):
            try:
                for i in range(0, len(share), 15):
                    answers.append(st.ingest([dict(e) for e in share[i:i + 15]], None))
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(e)

        threads = [threading.Thread(target=send, args=(share,)) for share in shares]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sum(a["accepted"] for a in answers) == 960
        assert sum(a["accepted"] + a["duplicates"] for a in answers) == sum(map(len, shares))
        assert _sql(pg_dsn, "SELECT count(*), count(DISTINCT id) FROM agent_strace.events") == [(960, 960)]
        assert _sql(pg_dsn, "SELECT session, events, tool_calls FROM agent_strace.sessions ORDER BY 1") == [
            (f"g-{i}", 160, 160) for i in range(6)]
        _hours_match_buckets(pg_dsn)
        _days_match_hours(pg_dsn)
    finally:
        st.close()


def test_group_commit_isolates_a_refused_batch_and_fails_all_while_the_database_is_down():
    """A group the database refuses is retried batch by batch (one bad
    request cannot fail the others); while the database is down every
    request of the group gets the 503 error; each answer comes only after
    its group's store returned."""
    from agent_trace.server.pg.group_commit import GroupCommit
    from agent_trace.server.storage import StorageUnavailable

    groups, down, gate = [], threading.Event(), threading.Event()

    def store_group(batches):
        gate.wait(5)
        groups.append(len(batches))
        if down.is_set():
            raise StorageUnavailable("database unavailable: test")
        if len(batches) > 1 and any(b.get("bad") for b in batches):
            raise ValueError("refused")
        if batches[0].get("bad"):
            raise ValueError("refused alone")
        return [b["n"] for b in batches]

    gc = GroupCommit(store_group, writers=1)
    for phase in ("refused", "down"):
        if phase == "down":
            down.set()
        gate.clear()
        out: dict = {}

        def send(i, out=out, bad=phase == "refused"):
            try:
                out[i] = gc.submit({"n": i, "bad": bad and i == 3}, 1)
            except Exception as e:  # noqa: BLE001
                out[i] = type(e).__name__

        threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        assert out == {}  # nothing answered before its group is stored
        gate.set()
        for t in threads:
            t.join()
        if phase == "refused":
            assert out == {0: 0, 1: 1, 2: 2, 3: "ValueError", 4: 4, 5: 5}
            assert max(groups) > 1  # the five queued behind the first writer went as one group
        else:
            assert out == {i: "StorageUnavailable" for i in range(6)}


def test_same_answers_as_the_file_backend(pg_dsn, tmp_path, demo_events):
    files = str(tmp_path / "files")
    team = team_sessions()
    tokens = {}
    with Server(files) as fsrv, Server(pg_dsn) as psrv:
        for name in ("alice", "bob"):
            tokens[(fsrv.url, name)] = _token(files, name)
            tokens[(psrv.url, name)] = _token(pg_dsn, name)
        for url in (fsrv.url, psrv.url):
            post(url, demo_events, tokens[(url, "alice")])
            for (who, _s), events in team.items():
                post(url, events[: len(events) // 2], tokens[(url, who)])  # in two batches, one repeated
                post(url, events, tokens[(url, who)])
        a, b = (get(u, "/api/sessions", tokens[(u, "alice")]) for u in (fsrv.url, psrv.url))
        assert a["total"] == b["total"] == 4 and a["users"] == b["users"] == ["alice", "bob"]
        assert a["projects"] == b["projects"] and "shop" in a["projects"] and "api" in a["projects"]
        rows_a = {r["session"]: r for r in a["sessions"]}
        rows_b = {r["session"]: r for r in b["sessions"]}
        for k in rows_a:
            diff = {f: (rows_a[k].get(f), rows_b[k].get(f)) for f in set(rows_a[k]) | set(rows_b[k])
                    if rows_a[k].get(f) != rows_b[k].get(f) or (f in rows_a[k]) != (f in rows_b[k])}
            assert rows_a[k] == rows_b[k], diff
        assert rows_a["bob-api-1"]["status"] == "stopped" and rows_a["alice-shop-1"]["status"] == "ended"
        assert rows_a["alice-shop-2"]["tool_calls"] == 9 and rows_a["alice-shop-2"]["tool_errors"] == 3
        for query in ("?user=bob", "?project=shop&status=idle", "?min_cost=0.05", "?q=checkout",
                      "?agent=codex", "?since=2d", "?until=2d", "?status=stopped", "?limit=1"):
            fa = get(fsrv.url, "/api/sessions" + query, tokens[(fsrv.url, "bob")])
            fb = get(psrv.url, "/api/sessions" + query, tokens[(psrv.url, "bob")])
            assert [r["session"] for r in fa["sessions"]] == [r["session"] for r in fb["sessions"]], query
            assert fa["matched"] == fb["matched"], query
        fa_tok, pa_tok = tokens[(fsrv.url, "alice")], tokens[(psrv.url, "alice")]
        for sid in rows_a:
            va = get(fsrv.url, f"/api/sessions/{sid}", fa_tok)
            vb = get(psrv.url, f"/api/sessions/{sid}", pa_tok)
            vb["summary"].pop("project")
            for k in ("summary", "subagents", "llm_series"):
                assert va[k] == vb[k], (sid, k)
            ea = get(fsrv.url, f"/api/sessions/{sid}/events?from=0&limit=5000", fa_tok)["events"]
            eb = get(psrv.url, f"/api/sessions/{sid}/events?from=0&limit=5000", pa_tok)["events"]
            assert ea == eb
        for by in ("user", "project", "model", "agent"):
            for extra in ("", "&tz=America/New_York", "&tz=Asia/Kolkata", "&user=alice", "&project=shop&days=2"):
                ta = get(fsrv.url, f"/api/trends?days=7&by={by}{extra}", fa_tok)
                tb = get(psrv.url, f"/api/trends?days=7&by={by}{extra}", pa_tok)
                assert ta == tb, (by, extra)
        t = get(psrv.url, "/api/trends?days=7&by=user", pa_tok)
        assert {g["key"] for g in t["groups"]} == {"alice", "bob"} and t["unpriced"] == ["house-model-7"]
        assert t["totals"]["tool_errors"] == sum(r["tool_errors"] for r in rows_a.values())
        assert t["totals"]["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows_a.values()), abs=1e-5)
        assert t["totals"]["input"] == sum(r["tokens"]["input"] for r in rows_a.values())
        for q in ("rm -rf", '"rm -rf"', "payment-form.tsx", "timeouterror", "shard 3", "notes.txt", "zzzz-none"):
            sa = get(fsrv.url, "/api/search?q=" + urllib.parse.quote(q), fa_tok)
            sb = get(psrv.url, "/api/search?q=" + urllib.parse.quote(q), pa_tok)
            key = lambda h: (h["session"], h["id"], h["snippet"], h["sender"], h["project"])  # noqa: E731
            assert sorted(map(key, sa["hits"])) == sorted(map(key, sb["hits"])), q
        hits = get(psrv.url, "/api/search?q=%22rm+-rf%22", pa_tok)["hits"]
        assert {h["session"] for h in hits} == {"bob-api-1", "alice-shop-2"}
        assert get(psrv.url, "/api/search?q=%22rm+-rf%22&user=bob", pa_tok)["hits"][0]["sender"] == "bob"
        ca = get(fsrv.url, "/api/compare?a=alice-shop-1&b=alice-shop-2", fa_tok)
        cb = get(psrv.url, "/api/compare?a=alice-shop-1&b=alice-shop-2", pa_tok)
        assert ca == cb and cb["verdict"] == "regressed"
    r = run_cli("--trace-dir", files, "compare", "alice-shop-1", "alice-shop-2", "--json")
    cli = json.loads(r.stdout)
    assert cli["verdict"] == cb["verdict"] and cli["reasons"] == cb["reasons"]


def test_git_branch_and_commit_filters_as_the_file_backend(pg_dsn, tmp_path):
    """``branch`` (a glob) and ``commit`` (a prefix of the start, end or any
    commit made) filter the list on both backends alike."""
    sha = {k: (k * 40)[:40] for k in ("a", "b", "c", "d", "e")}
    notes = {"on-main": [("start", "main", sha["a"], []), ("end", "main", sha["b"], [sha["b"]])],
             "on-feature": [("start", "feature/x", sha["c"], []), ("end", "feature/x", sha["d"], [sha["d"]])],
             "no-branch": [("start", None, sha["e"], [])]}
    events = [ev.make_event(ev.SESSION_START, "no-git", "codex", data={"cwd": "/w/plain"})]
    for sid, phases in notes.items():
        events.append(ev.make_event(ev.SESSION_START, sid, "claude-code", data={"cwd": "/w/repo"}))
        for phase, branch, head, commits in phases:
            events.append(ev.make_event(ev.ANNOTATION, sid, "claude-code", name="git", data={
                "phase": phase, "branch": branch, "head": head, "commits": commits, "diff": ["x.py"]}))
    files = str(tmp_path / "files")
    with Server(files) as fsrv, Server(pg_dsn) as psrv:
        for url in (fsrv.url, psrv.url):
            post(url, events)
        for query, want in (("branch=main", ["on-main"]), ("branch=feat*", ["on-feature"]),
                            ("branch=*", ["on-feature", "on-main"]), ("commit=" + sha["b"][:8], ["on-main"]),
                            ("commit=" + sha["c"][:6].upper(), ["on-feature"]), ("commit=" + sha["e"][:12],
                                                                               ["no-branch"]),
                            ("commit=abc", []), ("branch=main&commit=" + sha["c"][:8], []),
                            ("branch=*&limit=1", None)):
            fa = get(fsrv.url, "/api/sessions?" + query)
            fb = get(psrv.url, "/api/sessions?" + query)
            assert [r["session"] for r in fa["sessions"]] == [r["session"] for r in fb["sessions"]], query
            assert fa["matched"] == fb["matched"], query
            if want is not None:
                assert sorted(r["session"] for r in fb["sessions"]) == want, query
                assert all("diff" not in r["git"] for r in fb["sessions"])
        assert get(psrv.url, "/api/sessions?branch=*&limit=1")["matched"] == 2


def test_tokens_attribute_events_and_revocation_takes_effect(pg_dsn, tmp_path):
    for storage in (str(tmp_path / "files"), pg_dsn):
        carol = _token(storage, "carol")
        r = run_cli("server", "token", "add", "carol", "--storage", storage)
        assert r.returncode == 2 and b"exists" in r.stderr
        assert run_cli("server", "token", "add", "bad name!", "--storage", storage).returncode == 2
        with Server(storage, token="shared-secret") as srv:
            e = ev.make_event(ev.TOOL_CALL, "c-1", "claude-code", tool="Bash", tool_use_id="1")
            e["sender"] = "mallory"  # a client cannot choose who it is
            assert post(srv.url, [e], carol)["accepted"] == 1
            assert post(srv.url, [ev.make_event(ev.TOOL_CALL, "c-2", "claude-code", tool="Bash")],
                        "shared-secret")["accepted"] == 1
            assert status_of(srv.url, "/api/sessions")[0] == 401
            assert status_of(srv.url, "/api/sessions", token="ast_wrong")[0] == 401
            rows = get(srv.url, "/api/sessions?user=carol", carol)["sessions"]
            assert [r["session"] for r in rows] == ["c-1"] and rows[0]["user"] == "carol"
            assert get(srv.url, "/api/sessions/c-1/events", carol)["events"][0]["sender"] == "carol"
            listed = json.loads(run_cli("server", "token", "list", "--json", "--storage", storage).stdout)
            assert [t["name"] for t in listed["tokens"]] == ["carol"] and "sha256" not in listed["tokens"][0]
            assert carol not in json.dumps(listed)
            r = run_cli("server", "token", "revoke", "carol", "--storage", storage)
            assert r.returncode == 0
            deadline = time.time() + 10
            while status_of(srv.url, "/api/sessions", token=carol)[0] != 401:
                assert time.time() < deadline, "a revoked token still works"
                time.sleep(0.2)
            assert status_of(srv.url, "/api/sessions", token="shared-secret")[0] == 200
        assert run_cli("server", "token", "revoke", "carol", "--storage", storage).returncode == 3
    tokens_file = tmp_path / "files" / "tokens.json"
    assert oct(tokens_file.stat().st_mode & 0o777) == "0o600" and carol not in tokens_file.read_text()


def test_a_named_token_is_enough_to_listen_beyond_loopback(tmp_path):
    storage = str(tmp_path / "files")
    r = run_cli("server", "--host", "0.0.0.0", "--port", "0", "--storage", storage,
                env={**os.environ, "AGENT_STRACE_TOKEN": ""})
    assert r.returncode == 2 and b"needs a token" in r.stderr
    _token(storage, "ci-runner")
    with Server(storage, extra=["--host", "0.0.0.0"]) as srv:
        assert status_of(srv.url, "/api/sessions")[0] == 401
        assert status_of(srv.url, "/healthz")[0] == 200


def test_live_updates_reach_a_dashboard_on_another_collector(pg_dsn):
    import http.client

    with Server(pg_dsn) as a, Server(pg_dsn) as b:
        post(a.url, [ev.make_event(ev.SESSION_START, "live-1", "claude-code", data={"cwd": "/w"})])
        conn = http.client.HTTPConnection("127.0.0.1", b.port, timeout=20)
        conn.request("GET", "/api/sessions/live-1/live?from=1")
        resp = conn.getresponse()
        assert resp.status == 200
        got: list[dict] = []

        def read():
            for raw in resp:
                if raw.startswith(b"data: "):
                    got.extend(json.loads(raw[6:])["events"])
                    if len(got) >= 3:
                        return

        t = threading.Thread(target=read, daemon=True)
        t.start()
        time.sleep(0.5)
        for i in range(3):  # to collector A, one by one
            post(a.url, [ev.make_event(ev.TOOL_CALL, "live-1", "claude-code", tool="Bash", tool_use_id=f"t{i}")])
            time.sleep(0.1)
        t.join(15)
        conn.close()
        assert [e["tool_use_id"] for e in got] == ["t0", "t1", "t2"]


def test_database_down_gives_503_and_nothing_is_acknowledged(postgres_cluster, pg_dsn):
    with Server(pg_dsn) as srv:
        assert post(srv.url, [ev.make_event(ev.TOOL_CALL, "d-1", "sdk", tool="Bash")])["accepted"] == 1
        postgres_cluster.stop("immediate")
        try:
            body = json.dumps(ev.make_event(ev.TOOL_CALL, "d-1", "sdk", tool="Read", id="while-down")).encode()
            code, out, headers = status_of(srv.url, "/v1/events", body + b"\n")
            assert code == 503 and headers.get("Retry-After") == "1", out
            assert b"database" in out
            assert status_of(srv.url, "/api/sessions")[0] == 503
            assert status_of(srv.url, "/healthz")[0] == 200
        finally:
            postgres_cluster.start()
        code, out, _ = status_of(srv.url, "/v1/events", body + b"\n")
        assert code == 200 and json.loads(out)["accepted"] == 1
        assert [r["session"] for r in get(srv.url, "/api/sessions")["sessions"]] == ["d-1"]


def test_otlp_logs_into_postgres(pg_dsn):
    log = {"resourceLogs": [{"resource": {"attributes": []}, "scopeLogs": [{"logRecords": [{
        "timeUnixNano": str(int(time.time() * 1e9)), "body": {"stringValue": "claude_code.user_prompt"},
        "attributes": [{"key": "event.name", "value": {"stringValue": "user_prompt"}},
                       {"key": "session.id", "value": {"stringValue": "otel-1"}},
                       {"key": "prompt", "value": {"stringValue": "explain the otlp path"}}]}]}]}]}
    with Server(pg_dsn) as srv:
        for _ in range(2):
            req = urllib.request.Request(
                srv.url + "/v1/logs", data=json.dumps(log).encode(), method="POST",
                headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req) as r:
                assert r.status == 200
        rows = get(srv.url, "/api/sessions")["sessions"]
        assert [(r["session"], r["prompts"]) for r in rows] == [("otel-1", 1)]
        assert get(srv.url, "/api/search?q=otlp+path")["hits"][0]["type"] == "user.prompt"


def test_retention_and_export_to_the_file_layout(pg_dsn, tmp_path):
    from agent_trace.store.paths import Store
    from agent_trace.store.reader import iter_events

    team = team_sessions()
    old = [ev.make_event(ev.TOOL_CALL, "ancient", "claude-code", tool="Bash", ts="2020-01-01T00:00:00.000001Z")]
    for storage in (pg_dsn, str(tmp_path / "files")):
        with Server(storage) as srv:
            for (_who, _s), events in team.items():
                post(srv.url, events)
            post(srv.url, old)
            assert get(srv.url, "/api/sessions")["total"] == 4
        with Server(storage, extra=["--retain", "2d"]) as srv:
            deadline = time.time() + 20
            while {r["session"] for r in get(srv.url, "/api/sessions")["sessions"]} != {"alice-shop-2", "bob-api-1"}:
                assert time.time() < deadline, get(srv.url, "/api/sessions")
                time.sleep(0.2)
            assert get(srv.url, "/api/trends?days=30")["totals"]["tool_calls"] == 10
            post(srv.url, [ev.make_event(ev.TOOL_CALL, "bob-api-1", "codex", tool="Read")])  # still there: appends
    _hours_match_buckets(pg_dsn)  # the deleted sessions' sums are gone from the hourly ones too
    _days_match_hours(pg_dsn)  # and from the daily ones
    assert _sql(pg_dsn, "SELECT count(*) FROM agent_strace.events WHERE session = 'ancient'") == [(0,)]
    _token(pg_dsn, "dana")
    out = tmp_path / "exported"
    r = run_cli("server", "export-to", str(out), "--storage", pg_dsn, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"sessions": 2, "events": len(team[("alice", "alice-shop-2")]) +
                                    len(team[("bob", "bob-api-1")]) + 1, "tokens": 1}
    store = Store(str(out))
    for sid in ("alice-shop-2", "bob-api-1"):
        lines = [r[0] for r in _sql(pg_dsn, "SELECT line FROM agent_strace.events WHERE session = %s ORDER BY seq",
                                    (sid,))]
        with open(store.path_for(sid), encoding="utf-8") as f:
            assert f.read().splitlines() == lines
        assert len(list(iter_events(store.path_for(sid)))) == len(lines)
    listed = json.loads(run_cli("--trace-dir", str(out), "list", "--json").stdout)
    assert sorted(s["session"] for s in listed) == ["alice-shop-2", "bob-api-1"]
    assert "dana" in (out / "tokens.json").read_text()
    with Server(str(out)) as srv:  # the exported store serves with the same tokens
        assert status_of(srv.url, "/api/sessions")[0] == 401


# -- trends cost: priced per request, as the local usage reports -------------
def _priced_events(base: int) -> dict[str, list[dict]]:
    """Four days of three sessions by sender: many ordinary requests a day
    whose input adds up past the long-context threshold (200k), a few
    requests over it on their own (Sonnet 4.5 and Gemini 2.5 Pro have a
    long-context tier), 1-hour cache writes, a model without that tier and
    tool calls."""
    out: dict[str, list[dict]] = {"alice": [], "bob": []}
    n = 0

    def llm(session, source, t, model, u, w1h=0):
        nonlocal n
        n += 1
        data = {"message_id": f"msg-{n}"}
        if w1h:
            data["usage"] = {"cache_creation": {"ephemeral_1h_input_tokens": w1h,
                                                "ephemeral_5m_input_tokens": u["cache_write"] - w1h}}
        return ev.make_event(ev.LLM_RESPONSE, session, source, ts=ev.now_iso(t), model=model, usage=u, data=data)

    out["alice"].append(ev.make_event(ev.SESSION_START, "cost-shop", "claude-code", ts=ev.now_iso(base),
                                      data={"cwd": "/w/shop"}))
    out["bob"].append(ev.make_event(ev.SESSION_START, "cost-api", "gemini", ts=ev.now_iso(base),
                                    data={"cwd": "/w/api"}))
    out["bob"].append(ev.make_event(ev.SESSION_START, "cost-codex", "codex", ts=ev.now_iso(base),
                                    data={"cwd": "/w/api"}))
    for day in range(4):
        for i in range(6):
            t = base + day * 86400 + 3600 * (2 + 3 * i) + 60
            out["alice"].append(llm("cost-shop", "claude-code", t, "claude-sonnet-4-5-20250929",
                                    {"input": 60_000, "output": 900, "cache_read": 20_000, "cache_write": 4_000},
                                    w1h=3_000 if i % 2 else 0))
            out["alice"].append(ev.make_event(ev.TOOL_CALL, "cost-shop", "claude-code", ts=ev.now_iso(t + 5),
                                              tool="Bash", tool_use_id=f"tu-{day}-{i}"))
            out["bob"].append(llm("cost-api", "gemini", t + 600, "gemini-2.5-pro",
                                  {"input": 55_000, "output": 700, "cache_read": 1_000, "cache_write": 0}))
            out["bob"].append(llm("cost-codex", "codex", t + 900, "gpt-4o",
                                  {"input": 90_000, "output": 500, "cache_read": 30_000, "cache_write": 0}))
        # one request over the threshold on its own, per long-context model
        out["alice"].append(llm("cost-shop", "claude-code", base + day * 86400 + 23 * 3600, "claude-sonnet-4-5",
                                {"input": 150_000, "output": 2_000, "cache_read": 60_000, "cache_write": 8_000},
                                w1h=8_000))
        out["bob"].append(llm("cost-api", "gemini", base + day * 86400 + 23 * 3600 + 60, "gemini-2.5-pro",
                              {"input": 230_000, "output": 1_500, "cache_read": 0, "cache_write": 0}))
    return out


def _assert_costs_as_local_usage(trends_of, zones=("UTC", "America/New_York", "Asia/Tokyo")) -> float:
    """Trends (``trends_of(params)``) give, day by day and model by model,
    the cost ``usage daily --json`` gives over the same events (to the
    cent), whatever the dimension; returns the total."""
    total = None
    for tz in zones:
        r = run_cli("usage", "daily", "--json", "--no-import", "--timezone", tz)
        assert r.returncode == 0, r.stderr
        local = {d["date"]: d for d in json.loads(r.stdout)["daily"]}
        assert len(local) >= 4, local
        for by in ("user", "project", "model", "agent"):
            t = trends_of({"days": "10", "by": by, "tz": tz})
            days = {d["date"]: d for d in t["daily"] if d["llm_calls"]}
            assert sorted(days) == sorted(local), (tz, by)
            for date, want in local.items():
                got = days[date]
                assert (got["input"], got["cache_write"]) == (want["input"], want["cache_write"]), (tz, by, date)
                assert round(got["cost_usd"], 2) == round(want["cost_usd"], 2), (tz, by, date, got, want)
                for model, m in want["models"].items():
                    assert round(got["models"][model]["cost_usd"], 2) == round(m["cost_usd"], 2), (tz, date, model)
            assert round(t["totals"]["cost_usd"], 2) == round(sum(d["cost_usd"] for d in local.values()), 2)
            total = t["totals"]["cost_usd"]
    assert total is not None
    return total


def test_trends_cost_is_what_the_local_usage_report_gives(pg_dsn, trace_dir):
    """The collector's trends price each request as the local ``usage``
    reports do: long-context requests at the long-context rates (and only
    those: a day's added-up input past the threshold is not one request),
    1-hour cache writes at their own price.  Both backends, any time zone
    and dimension, and the sessions' own costs add up to the same."""
    from agent_trace.server.file_storage import FileStorage
    from agent_trace.server.pg import PgStorage
    from agent_trace.store.paths import Store

    base = (int(time.time()) // 86400 - 5) * 86400
    events = _priced_events(base)
    files = FileStorage(Store(str(trace_dir)))
    st = PgStorage(pg_dsn)
    try:
        for who, evs in events.items():
            for i in range(0, len(evs), 7):  # in several batches
                assert st.ingest([dict(e) for e in evs[i:i + 7]], who)["accepted"] == len(evs[i:i + 7])
                files.ingest([dict(e) for e in evs[i:i + 7]], who)
        total = _assert_costs_as_local_usage(st.trends)
        assert _assert_costs_as_local_usage(files.trends, ("UTC",)) == pytest.approx(total, abs=1e-6)
        sessions = st.sessions({})["sessions"]
        assert total == pytest.approx(sum(s["cost_usd"] for s in sessions), abs=1e-6)
        _hours_match_buckets(pg_dsn)
        _days_match_hours(pg_dsn)
        assert {g for (g,) in _sql(pg_dsn, "SELECT DISTINCT long FROM agent_strace.usage_days")} == {True, False}
    finally:
        st.close()


def test_migration_5_rebuilds_the_sums_from_the_events(pg_dsn, trace_dir):
    """A database at version 4 holding sessions and events, with the sums
    version 4 kept (long-context requests added in with the others, no
    1-hour cache writes), migrates to version 5: its sums are then exactly
    those ingest keeps for the same events in a new database, and its trends
    cost what the local usage report gives, in time zones east and west of
    UTC, read from the daily or the hourly sums."""
    from agent_trace.analysis import trends
    from agent_trace.server.pg import PgStorage, migrations, queries
    from agent_trace.server.pg.ingest import day_rows
    from agent_trace.server.query_params import TrendParams
    from agent_trace.store.paths import Store
    from agent_trace.store.sink import FileSink

    base = (int(time.time()) // 86400 - 5) * 86400
    events = _priced_events(base)
    FileSink(Store(str(trace_dir))).emit_many([e for evs in events.values() for e in evs])
    fresh = PgStorage(pg_dsn)
    try:
        for who, evs in events.items():
            fresh.ingest([dict(e) for e in evs], who)
    finally:
        fresh.close()
    old = pg_dsn + "_v4"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{old.rsplit("/", 1)[1]}"')
    v4 = "llm_calls, input, output, cache_read, cache_write, tool_calls, tool_errors"
    with psycopg.connect(old) as conn, psycopg.connect(pg_dsn) as src:
        assert migrations.migrate(conn, target=4) == [1, 2, 3, 4]
        conn.execute("SET search_path = agent_strace")
        src.execute("SET search_path = agent_strace")
        for table in ("sessions", "events", "tokens"):  # (migration 5 leaves these as they are)
            cur = src.execute(f"SELECT * FROM {table}")
            cols = [d.name for d in cur.description]
            rows = cur.fetchall()
            with conn.cursor() as c, c.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        # version 4's sums: the same tokens, long-context rows added in
        sums = ", ".join(f"sum({c})::bigint" for c in v4.split(", "))
        conn.cursor().executemany(f"INSERT INTO usage_buckets (session, bucket, model, sender, {v4}) "
                         "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         src.execute(f"SELECT session, bucket, model, sender, {sums} FROM usage_buckets "
                                     "GROUP BY 1, 2, 3, 4").fetchall())
        hours = src.execute(f"SELECT hour, sender, project, agent, model, {sums} FROM usage_hours "
                            "GROUP BY 1, 2, 3, 4, 5").fetchall()
        conn.cursor().executemany(f"INSERT INTO usage_hours (hour, sender, project, agent, model, {v4}) "
                         "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", hours)
        days = day_rows({(h.timestamp(), *k): c for h, *k, c0, c1, c2, c3, c4, c5, c6 in hours
                         for c in [[c0, c1, c2, c3, c4, c5, c6]]})
        conn.cursor().executemany("INSERT INTO usage_days (dim, day, key, model, sums) VALUES (%s, %s, %s, %s, %s)",
                         [(*k, v) for k, v in days.items()])
        conn.cursor().executemany("INSERT INTO session_hours VALUES (%s, %s, %s)",
                         src.execute("SELECT * FROM session_hours").fetchall())
        conn.commit()
    st = PgStorage(old)
    try:
        assert st.applied == [5, 6] and st.version == 6
        for table, key in (("usage_buckets", "session, bucket, model, sender, long"),
                           ("usage_hours", "hour, sender, project, agent, model, long"),
                           ("usage_days", "dim, day, key, model, long"), ("session_hours", "session, hour, sender"),
                           ("session_days", "session, day")):
            q = f"SELECT * FROM agent_strace.{table} ORDER BY {key}"
            assert _sql(old, q) == _sql(pg_dsn, q), table
        assert _sql(old, "SELECT count(*) FROM agent_strace.usage_days WHERE long") != [(0,)]
        _days_match_hours(old)
        _assert_costs_as_local_usage(st.trends, ("UTC", "America/New_York", "Asia/Tokyo", "Pacific/Auckland"))
        _trends_by_day_match(st, ("UTC", "America/New_York", "Asia/Tokyo", "Pacific/Auckland"))
        for tz in ("UTC", "America/Los_Angeles"):  # the report itself is the same through either path
            p = TrendParams({"days": "10", "by": "project", "tz": tz})
            rows, per_day = st.pool.run(lambda c, p=p: queries._trends_by_hour(c, p))
            via_hours = trends.report(rows, trends.day_range(p.since_date, p.until_date), p.by, per_day, **p.meta())
            via_days = st.trends({"days": "10", "by": "project", "tz": tz})
            assert via_days == via_hours and via_days["totals"]["tool_calls"] > 0
    finally:
        st.close()


def test_migration_6_counts_each_days_sessions_from_the_session_hours(pg_dsn):
    """A database at version 5 whose sessions were active in hours across
    several UTC days (one session in two senders' names in one hour, one
    past midnight) migrates to version 6: each session's day rows are its
    hours as masks, and unfiltered trends count every day's sessions as the
    session hours do, in time zones east and west of UTC.  New usage then
    adds to the masks."""
    from agent_trace.server.pg import PgStorage, migrations, queries
    from agent_trace.server.query_params import TrendParams

    base = (int(time.time()) // 86400 - 4) * 86400
    active = [("s1", base + 3600 * h, "alice") for h in (0, 1, 23, 24, 25, 47)] + \
        [("s1", base + 3600, "bob"), ("s2", base + 3600 * 22, ""), ("s2", base + 3600 * 50, "bob"),
         ("s3", base + 3600 * 71, "carol")]
    with psycopg.connect(pg_dsn) as conn:
        assert migrations.migrate(conn, target=5) == [1, 2, 3, 4, 5]
        conn.cursor().executemany("INSERT INTO agent_strace.session_hours VALUES (%s, to_timestamp(%s), %s)", active)
        conn.commit()
    st = PgStorage(pg_dsn)
    try:
        assert st.applied == [6] and st.version == 6
        assert _sql(pg_dsn, "SELECT session, day - %s::date, hours FROM agent_strace.session_days ORDER BY 1, 2",
                    (time.strftime("%Y-%m-%d", time.gmtime(base)),)) == [
            ("s1", 0, 1 | 2 | 1 << 23), ("s1", 1, 1 | 2 | 1 << 23), ("s2", 0, 1 << 22), ("s2", 2, 1 << 2),
            ("s3", 2, 1 << 23)]
        _session_days_match_hours(pg_dsn)
        for tz in ("UTC", "America/New_York", "Asia/Tokyo", "Pacific/Auckland"):
            p = TrendParams({"days": "7", "tz": tz})
            counted = st.pool.run(lambda c, p=p: queries._sessions_by_day(c, p))
            assert counted == st.pool.run(lambda c, p=p: queries._sessions_per_day(c, p)), tz
            assert sum(counted.values()) >= 4, (tz, counted)
            assert {d["date"]: d["sessions"] for d in st.trends({"days": "7", "tz": tz})["daily"]
                    if d["sessions"]} == counted, tz
        st.ingest([ev.make_event(ev.LLM_RESPONSE, "s3", "codex", ts=ev.now_iso(base + 3600 * 70 + 60),
                                 model="gpt-4o", usage={"input": 5, "output": 1})], "carol")
        _session_days_match_hours(pg_dsn)
        assert _sql(pg_dsn, "SELECT hours FROM agent_strace.session_days WHERE session = 's3'") == [
            (1 << 22 | 1 << 23,)]
    finally:
        st.close()
