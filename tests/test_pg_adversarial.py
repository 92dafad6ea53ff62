"""Hostile batches against the collector's PostgreSQL ingest (property-based,
``hypothesis``): whatever a client sends, ingest answers with counts (never
an exception that would make the client retry the same batch forever), a
re-sent batch is all duplicates, the stored summary agrees with the stored
lines, and every read (list, session page, events, search, trends) still
answers."""

from __future__ import annotations

import json

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the dev extra")
psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[postgres]'")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from agent_trace import event as ev  # noqa: E402
from agent_trace.server.ingest import parse_batch  # noqa: E402

TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40) | st.sampled_from(
    ["", "\x00", "\udc80", "sk-ant-api03-" + "A" * 90, "a" * 3000, "rm -rf /", "'; DROP TABLE events; --",
     "%_\\", "2026-02-30T25:61:61Z", "1e309"])
SCALAR = st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | \
    st.floats(allow_nan=False, allow_infinity=False) | TEXT
JSONISH = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                       max_leaves=12)
TYPES = st.sampled_from(sorted(ev.TYPES)) | TEXT


@st.composite
def events(draw):
    e = {"v": draw(st.sampled_from([1, 1, 1, 0, 2, "1", None])), "id": draw(TEXT.filter(bool)),
         "session": draw(st.sampled_from(["s-a", "s-b"]) | TEXT.filter(bool)), "type": draw(TYPES)}
    for k in ("ts", "tool", "tool_use_id", "model", "status", "source", "agent_id", "sender"):
        if draw(st.booleans()):
            e[k] = draw(SCALAR | st.sampled_from([ev.now_iso(), "2020-01-01T00:00:00Z"]))
    if draw(st.booleans()):
        e["usage"] = draw(st.dictionaries(st.sampled_from(["input", "output", "cache_read", "x"]), SCALAR,
                                          max_size=4) | SCALAR)
    if draw(st.booleans()):
        e["error"] = draw(JSONISH)
    e["data"] = draw(st.fixed_dictionaries({}, optional={"prompt": JSONISH, "tool_input": JSONISH,
                                                          "tool_response": JSONISH, "cwd": JSONISH}))
    return e


@pytest.fixture(scope="module")
def pg_store(postgres_cluster):
    from agent_trace.server.pg import PgStorage

    st_ = PgStorage(postgres_cluster.create_db("adversarial"), pool_size=2)
    yield st_
    st_.close()


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(events(), min_size=1, max_size=8))
def test_hostile_batches_are_stored_once_and_every_read_answers(pg_store, batch):
    body = b"".join(json.dumps(e).encode("utf-8", "surrogatepass") + b"\n" for e in batch)
    evs, rejected = parse_batch(body)
    first = pg_store.ingest([dict(e) for e in evs], "fuzz")
    again = pg_store.ingest([dict(e) for e in evs], "fuzz")
    assert again["accepted"] == 0
    assert first["accepted"] + first["duplicates"] + first["rejected"] == len(evs)
    assert again["duplicates"] + again["rejected"] == len(evs)
    listed = pg_store.sessions({"limit": "5000"})
    for row in listed["sessions"][:3]:
        view = pg_store.session(row["session"])
        page = pg_store.events_page(row["session"], 0, 100)
        assert view["summary"]["events"] >= len(page["events"]) - page["skipped"]["unknown_type"]
    pg_store.search({"q": "rm -rf"})
    pg_store.trends({"days": "3", "by": "user"})

    def check(conn):
        return conn.execute("SELECT s.session, s.events, (SELECT count(*) FROM events e WHERE e.session = s.session) "
                            "FROM sessions s").fetchall()

    for _session, summarized, stored in pg_store.pool.run(check):
        assert summarized <= stored  # lines a reader skips (newer version, unknown type) are kept, not counted
