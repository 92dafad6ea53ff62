"""Every test gets its own store: AGENT_TRACE_DIR points into tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Real Claude Code 2.1.328 captures (a copy of shared/fixtures, see its README).
FIXTURES = REPO / "tests" / "fixtures" / "claude-code-2.1.328"


@pytest.fixture(autouse=True)
def trace_dir(tmp_path, monkeypatch):
    root = tmp_path / ".agent-traces"
    monkeypatch.setenv("AGENT_TRACE_DIR", str(root))
    # the user-level data (history store, registry of stores) is per test too
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("AGENT_TRACE_HISTORY", raising=False)
    monkeypatch.delenv("AGENT_STRACE_ENDPOINT", raising=False)
    monkeypatch.delenv("AGENT_TRACE_MAX_FIELD", raising=False)
    return root


@pytest.fixture(autouse=True)
def _private_daemon_dir(tmp_path, monkeypatch):
    """No test reaches the user's own agent-strace daemon, and no daemon a
    test started (on purpose or through a hook) outlives it."""
    from support.daemon import stop_any
    from support.processes import free_port

    folder = tmp_path / "daemon"
    monkeypatch.setenv("AGENT_STRACE_DAEMON_DIR", str(folder))
    monkeypatch.setenv("AGENT_STRACE_DAEMON_PORT", str(free_port()))
    yield
    stop_any(folder)


def run_cli(*args, input: bytes | None = None, env=None, cwd=None, timeout=120):
    """Run the real CLI in a fresh process (as agents and users do)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "agent_trace", *args],
        input=input, capture_output=True, env=full_env, cwd=cwd, timeout=timeout,
    )


def read_session(root: Path, session: str) -> list[dict]:
    from agent_trace.store import Store
    from agent_trace.store.reader import iter_events

    return list(iter_events(Store(str(root)).path_for(session)))


def fixture_payloads() -> list[dict]:
    with open(FIXTURES / "hook-payloads.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def record_fixture_session(session: str | None = None, project: str = "/w/demo") -> str:
    """The real fixture session in the test's store, re-timed as one coherent
    run (see agent_trace.capture.recorded); returns its id."""
    from agent_trace.capture.recorded import load_capture, replay_capture
    from agent_trace.store import Store

    capture = load_capture(FIXTURES, "/home/dev/demo")
    return replay_capture(capture, Store(os.environ["AGENT_TRACE_DIR"]), project,
                          session=session or capture.session)


@pytest.fixture(scope="session")
def postgres_cluster():
    """One real PostgreSQL server for the session (tests/support/postgres.py);
    each test takes its own database with ``create_db``."""
    from support.postgres import Postgres, missing_reason

    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    pg = Postgres()
    yield pg
    pg.close()


@pytest.fixture
def pg_dsn(postgres_cluster, request):
    """A fresh, empty database on the session's PostgreSQL server."""
    import re

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]
    return postgres_cluster.create_db(name)
