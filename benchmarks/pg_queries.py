"""The collector's queries over a large PostgreSQL store: the sessions list,
full-text search and 90-day trends, timed through the same code the
dashboard's JSON API runs (SQL plus the Python around it).

The data: ``--events`` (default 10 million) events in ``--sessions``
sessions (default 20,000) of 12 users in 30 projects over 90 days, shaped
like coding-agent sessions (prompts, Bash/Edit/Read/Grep calls with their
results, failures with error messages, LLM responses with usage on four
models).  They are generated with the real encoder and search-text code,
loaded with COPY (indexes built after the load, with the migrations' own
definitions), and each session's summary and usage buckets are computed by
the same code ingest uses.  Generating is a benchmark step, never a test.

    python benchmarks/pg_queries.py [--events 10000000] [--sessions 20000] [--runs 15] [--keep DIR]

``--keep DIR`` keeps the cluster in DIR (and reuses it on the next run:
only the queries are timed again).  Figures are wall-clock p50/p90 of
``--runs`` runs per query, after one warm-up run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

USERS = ["alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "trent"]
PROJECTS = [f"{a}-{b}" for a in ("shop", "api", "auth", "billing", "search", "infra") for b in
            ("web", "svc", "lib", "cli", "jobs")]
MODELS = [("claude-sonnet-4-5-20250929", 0.55), ("claude-opus-4-1", 0.1), ("gpt-4o-2024-08-06", 0.25),
          ("gemini-2.5-pro", 0.1)]
MODULES = ["cart", "checkout", "payment", "user", "session", "router", "store", "cache", "queue", "worker",
           "schema", "migrate", "auth", "token", "search", "index", "report", "export", "config", "logger"]
EXTS = ["py", "ts", "tsx", "go", "rs", "md", "json", "yaml"]
VERBS = ["add", "fix", "refactor", "rename", "test", "document", "speed up", "remove", "split", "review"]
NOUNS = ["the checkout flow", "a retry on timeouts", "the flaky test", "pagination", "the login page",
         "rate limiting", "the cache layer", "error handling", "the CSV export", "dark mode", "the webhook handler",
         "input validation", "the billing job", "logging", "the search index"]
COMMANDS = ["npm test", "npm run build", "pytest -q", "go test ./...", "cargo test", "git status", "git diff",
            "ls -la src", "make lint", "rm -rf build", "docker compose up -d", "curl -s localhost:8080/health"]
ERRORS = ["Exit code 1\nAssertionError: expected 200 got 500", "Exit code 1\nTimeoutError: test timed out after 5000ms",
          "ENOENT: no such file or directory", "Exit code 2\nerror[E0308]: mismatched types",
          "Permission denied (publickey)", "Exit code 1\nModuleNotFoundError: No module named 'requests'"]
RARE = ("zebracorn", 40)  # a word in about 40 events: rare
MEDIUM = ("flakyshard", 20000)  # a word in about 20,000 events


def files(rng, n=2000):
    return [f"src/{rng.choice(MODULES)}/{rng.choice(MODULES)}_{i}.{rng.choice(EXTS)}" for i in range(n)]


def pick_model(rng):
    x = rng.random()
    for m, p in MODELS:
        if x < p:
            return m
        x -= p
    return MODELS[0][0]


def session_events(rng, sid: str, n: int, start: float, paths: list[str], cwd: str, rare: tuple[float, float]):
    """``n`` events of one session from ``start`` (epoch s); ``rare``: the
    chances of a tool call holding the rare and the medium word."""
    from agent_trace import event as ev

    t = start
    out = [ev.make_event(ev.SESSION_START, sid, "claude-code", ts=ev.now_iso(t), data={"cwd": cwd})]
    call = 0
    while len(out) < n - 1:
        t += rng.uniform(1, 20)
        r = rng.random()
        if r < 0.04:
            prompt = f"{rng.choice(VERBS)} {rng.choice(NOUNS)} in {rng.choice(paths)}"
            out.append(ev.make_event(ev.USER_PROMPT, sid, "claude-code", ts=ev.now_iso(t), data={"prompt": prompt}))
        elif r < 0.30:
            u = {"input": rng.randint(200, 9000), "output": rng.randint(20, 1500),
                 "cache_read": rng.randint(0, 60000), "cache_write": rng.randint(0, 3000)}
            out.append(ev.make_event(ev.LLM_RESPONSE, sid, "claude-code", ts=ev.now_iso(t), model=pick_model(rng),
                                     usage=u, duration_ms=rng.randint(400, 9000), data={"stop_reason": "tool_use"}))
        else:
            call += 1
            tid = f"toolu_{sid[-6:]}_{call}"
            kind = rng.random()
            if kind < 0.4:
                tool, inp = "Bash", {"command": rng.choice(COMMANDS) + (f" {rng.choice(paths)}" if rng.random() < .5
                                                                         else "")}
            elif kind < 0.7:
                tool, inp = "Edit", {"file_path": f"{cwd}/{rng.choice(paths)}", "old_string": "return x",
                                     "new_string": "return y"}
            elif kind < 0.9:
                tool, inp = "Read", {"file_path": f"{cwd}/{rng.choice(paths)}"}
            else:
                tool, inp = "Grep", {"pattern": rng.choice(MODULES) + "Error", "path": "src"}
            x = rng.random()
            if x < rare[0]:
                inp["description"] = RARE[0]
            elif x < rare[0] + rare[1]:
                inp["description"] = f"retry the {MEDIUM[0]} run"
            out.append(ev.make_event(ev.TOOL_CALL, sid, "claude-code", ts=ev.now_iso(t), tool=tool, tool_use_id=tid,
                                     data={"tool_input": inp}))
            t += rng.uniform(0.05, 8)
            if rng.random() < 0.06:
                out.append(ev.make_event(ev.TOOL_ERROR, sid, "claude-code", ts=ev.now_iso(t), tool=tool,
                                         tool_use_id=tid, status="error", duration_ms=rng.randint(5, 60000),
                                         error={"message": rng.choice(ERRORS)}))
            else:
                res = {"stdout": f"ok {rng.choice(paths)}\n{rng.randint(1, 400)} passed", "exit_code": 0} \
                    if tool == "Bash" else {"ok": True, "lines": rng.randint(1, 900)}
                out.append(ev.make_event(ev.TOOL_RESULT, sid, "claude-code", ts=ev.now_iso(t), tool=tool,
                                         tool_use_id=tid, status="ok", duration_ms=rng.randint(5, 30000),
                                         data={"tool_response": res}))
    out.append(ev.make_event(ev.SESSION_END, sid, "claude-code", ts=ev.now_iso(t + 5), data={"reason": "exit"}))
    return out


def _plain_encode(e: dict) -> bytes:
    """The stored line of an event made here: what ``encode_event`` writes for
    an event with no secret and no oversized field, without the scan for them
    (10 million times)."""
    from agent_trace.event.fastjson import dumps

    return (dumps(e) + "\n").encode("utf-8")


def _generate_part(args) -> list:
    """One worker's share of the sessions (every ``parts``-th), COPYed to the
    staging table on its own connection; returns their rollups."""
    import psycopg

    from agent_trace.analysis.summary import SessionSummary
    from agent_trace.analysis.trends import Rollup
    from agent_trace.server.pg import ingest as ing

    dsn, seed, part, parts, n_events, n_sessions, now = args
    rng = random.Random(seed * 1000 + part)
    paths = files(random.Random(seed))
    per = n_events // n_sessions
    calls = n_events * 0.7 / 1.7  # tool calls among the events (see session_events)
    rare = (RARE[1] / calls, MEDIUM[1] / calls)
    out, total, t0 = [], 0, time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, \
            cur.copy("COPY agent_strace.events_load FROM STDIN") as cp:
        for i in range(part, n_sessions, parts):
            sid = f"{rng.getrandbits(64):016x}-{i:05d}"
            user, project = rng.choice(USERS), rng.choice(PROJECTS)
            cwd = f"/home/{user}/src/{project}"
            n = max(3, int(rng.gauss(per, per / 3)))
            start = now - rng.uniform(0, 90) * 86400 - 7200
            events = session_events(rng, sid, n, start, paths, cwd, rare)
            for e in events:
                e["sender"] = user
            prepared, _ = ing.prepare(events, encode=_plain_encode)
            roll = Rollup(SessionSummary(sid))
            size = 0
            for seq, p in enumerate(prepared[sid], 1):
                roll.add(p.obj)
                size += p.size
                cp.write_row((sid, seq, p.id, ing.timestamp(events[seq - 1].get("ts")), p.type, p.line,
                              p.doc or None))
            total += len(prepared[sid])
            out.append((sid, roll.to_dict(), len(prepared[sid]) + 1, size))
            if len(out) % 1000 == 0:
                print(f"  worker {part}: {len(out)} sessions, {total:,} events, {time.perf_counter() - t0:.0f} s",
                      flush=True)
    return out


def generate(dsn: str, n_events: int, n_sessions: int, seed: int = 7, workers: int = 2) -> dict:
    import multiprocessing

    import psycopg

    from agent_trace.analysis.trends import Rollup
    from agent_trace.server.pg import PgStorage
    from agent_trace.server.pg import ingest as ing

    PgStorage(dsn).close()  # the schema, by the migrations
    t0 = time.perf_counter()
    with psycopg.connect(dsn, options="-c search_path=agent_strace") as conn:
        idx = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'agent_strace' AND "
                           "tablename = 'events' AND indexname NOT LIKE '%pkey' AND indexname <> 'events_once'"
                           ).fetchall()
        for name, _ in idx:
            conn.execute(f"DROP INDEX {name}")
        conn.execute("ALTER TABLE events DROP CONSTRAINT events_pkey, DROP CONSTRAINT events_once")
        # COPY gives no way to call to_tsvector: the rows go to a staging table first
        conn.execute("CREATE UNLOGGED TABLE events_load (session text, seq bigint, id text, ts timestamptz, "
                     "type text, line text, doc text)")
        conn.commit()
        now = time.time()
        with multiprocessing.Pool(workers) as pool:
            parts = pool.map(_generate_part, [(dsn, seed, k, workers, n_events, n_sessions, now)
                                              for k in range(workers)])
        generated = time.perf_counter() - t0
        conn.execute("INSERT INTO events (session, seq, id, ts, type, line, doc) SELECT session, seq, id, ts, type, "
                     "line, CASE WHEN doc IS NOT NULL THEN to_tsvector('simple', doc) END FROM events_load")
        conn.execute("DROP TABLE events_load")
        conn.commit()
        loaded = time.perf_counter() - t0
        t1 = time.perf_counter()
        conn.execute("ALTER TABLE events ADD PRIMARY KEY (session, seq), "
                     "ADD CONSTRAINT events_once UNIQUE (session, id)")
        for _name, definition in idx:
            conn.execute(definition)
        conn.commit()
        indexed = time.perf_counter() - t1
        t2 = time.perf_counter()
        total = 0
        with conn.pipeline():
            for part in parts:
                for sid, state, next_seq, size in part:
                    roll = Rollup.from_dict(state)
                    conn.execute(ing._CREATE, ([sid],))
                    ing._add_usage(conn, sid, roll)
                    ing._write_session(conn, sid, roll.summary, next_seq, size)
                    total += next_seq - 1
        conn.commit()
        summarized = time.perf_counter() - t2
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("VACUUM ANALYZE")
    return {"events": total, "sessions": n_sessions, "generate_s": round(generated), "load_s": round(loaded),
            "index_s": round(indexed), "summaries_s": round(summarized)}


def timed(fn, runs: int) -> dict:
    fn()  # warm-up
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000)
    ts.sort()
    return {"p50_ms": round(statistics.median(ts), 1), "p90_ms": round(ts[int(len(ts) * 0.9) - 1], 1),
            "max_ms": round(ts[-1], 1)}


def _trends_from_hours(conn, params: dict) -> dict:
    from agent_trace.analysis import trends
    from agent_trace.server.pg import queries as q
    from agent_trace.server.query_params import TrendParams

    p = TrendParams(params)
    rows, per_day = q._trends_by_hour(conn, p)
    return trends.report(rows, trends.day_range(p.since_date, p.until_date), p.by, per_day, **p.meta())


def queries(dsn: str, runs: int) -> dict:
    from agent_trace.server.pg import PgStorage

    st = PgStorage(dsn, pool_size=2)
    out: dict = {}
    lists = [{}, {"user": "carol"}, {"project": "billing-jobs"}, {"status": "ended", "limit": "100"},
             {"min_cost": "5"}, {"since": "7d"}, {"q": "checkout"}, {"agent": "claude-code", "user": "dan"}]
    for p in lists:
        out["list " + (json.dumps(p) if p else "(no filter, 500 rows)")] = timed(lambda p=p: st.sessions(p), runs)
    searches = {"rare word": {"q": RARE[0]}, "medium word": {"q": MEDIUM[0]}, "common word": {"q": "npm"},
                "phrase": {"q": '"rm -rf build"'}, "file name": {"q": files(random.Random(7))[17].split("/")[-1]},
                "error text": {"q": '"timed out"'}, "two words + user": {"q": "permission denied", "user": "erin"},
                "word + last 7 days": {"q": "migrate", "since": "7d"}}
    for name, p in searches.items():
        hits = len(st.search(p)["hits"])
        out[f"search {name} ({p['q']}, {hits} shown)"] = timed(lambda p=p: st.search(p), runs)
    for by in ("user", "project", "model"):
        out[f"trends 90 days by {by}"] = timed(lambda by=by: st.trends({"days": "90", "by": by}), runs)
    # a zone whose days are two parts of UTC days (added up in SQL)
    out["trends 90 days by project, America/New_York"] = timed(
        lambda: st.trends({"days": "90", "by": "project", "tz": "America/New_York"}), runs)
    for by in ("user", "project", "model"):  # the same reports from the hourly sums (the path before usage_days)
        out[f"trends 90 days by {by}, from the hourly sums"] = timed(lambda by=by: st.pool.run(
            lambda conn: _trends_from_hours(conn, {"days": "90", "by": by})), runs)
    sid = st.sessions({"limit": "1"})["sessions"][0]["session"]
    out["one session page (view)"] = timed(lambda: st.session(sid), max(3, runs // 3))
    st.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--sessions", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--keep", metavar="DIR", help="keep (and reuse) the database cluster in DIR")
    ap.add_argument("--workers", type=int, default=2, help="processes generating the data (default 2)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from support.postgres import Postgres

    settings = {"shared_buffers": "2GB", "work_mem": "64MB", "maintenance_work_mem": "1GB",
                "effective_cache_size": "8GB", "max_wal_size": "8GB", "random_page_cost": "1.1"}
    pg = Postgres(fsync=False, settings=settings, root=args.keep)
    try:
        dsn = pg.dsn("bench")
        import psycopg

        with psycopg.connect(pg.dsn(), autocommit=True) as c:
            exists = c.execute("SELECT 1 FROM pg_database WHERE datname = 'bench'").fetchone()
        gen = None
        if not exists:
            pg.create_db("bench")
            print(f"generating {args.events:,} events in {args.sessions:,} sessions ...", flush=True)
            gen = generate(dsn, args.events, args.sessions, workers=args.workers)
            print(f"  generated in {gen['generate_s']} s, loaded in {gen['load_s']} s, indexed in "
                  f"{gen['index_s']} s, summaries in {gen['summaries_s']} s", flush=True)
        with psycopg.connect(dsn) as c:
            n = c.execute("SELECT count(*) FROM agent_strace.events").fetchone()[0]
            size = c.execute("SELECT pg_size_pretty(pg_database_size('bench'))").fetchone()[0]
        res = queries(dsn, args.runs)
        if args.json:
            print(json.dumps({"events": n, "database_size": size, "generate": gen, "queries": res}))
            return
        print(f"{n:,} events, database {size}; p50 / p90 / max over {args.runs} runs (ms):")
        for k, v in res.items():
            print(f"  {k:<64} {v['p50_ms']:>8} {v['p90_ms']:>8} {v['max_ms']:>8}")
    finally:
        if args.keep:
            pg.stop()
        else:
            pg.close()


if __name__ == "__main__":
    main()
