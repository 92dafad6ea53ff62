"""The pytest plugin, run as a user would: pytest in a subprocess on a test
file using the real openai SDK, first recording, then replaying in CI mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support.openai_stub import OpenAIStub

TEST_FILE = '''
import os
import pytest
import openai

def ask(text):
    c = openai.OpenAI(base_url=os.environ["STUB_URL"], api_key="sk-test-not-a-real-key-000000000000",
                      max_retries=0)
    return c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])

@pytest.mark.agent_cassette
def test_weather():
    assert ask("QUESTION").choices[0].message.content.startswith("Hello")

@pytest.mark.agent_cassette("shared.json", ignore=["body.json.temperature"])
def test_named(agent_cassette):
    assert agent_cassette.mode in ("once", "none")
    ask("named")
'''


def run_pytest(folder, env_extra, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder), *args],
                          capture_output=True, text=True, env=env, cwd=folder, timeout=120)


def test_plugin_records_next_to_the_test_then_ci_replays_and_catches_drift(tmp_path):
    (tmp_path / "test_agent.py").write_text(TEST_FILE.replace("QUESTION", "weather?"))
    with OpenAIStub() as up:
        r = run_pytest(tmp_path, {"STUB_URL": up.url})
        assert r.returncode == 0, r.stdout + r.stderr
        assert len(up.requests) == 2
    recorded = tmp_path / "cassettes" / "test_agent" / "test_weather.json"
    assert recorded.exists() and (tmp_path / "cassettes" / "shared.json").exists()
    assert json.loads(recorded.read_text())["entries"][0]["request"]["path"] == "/v1/chat/completions"

    dead = {"STUB_URL": "http://127.0.0.1:9/v1", "CI": "true"}  # CI never records, and nothing listens
    r = run_pytest(tmp_path, dead)
    assert r.returncode == 0, r.stdout + r.stderr

    (tmp_path / "test_agent.py").write_text(TEST_FILE.replace("QUESTION", "weather today?"))
    r = run_pytest(tmp_path, dead)
    assert r.returncode == 1
    assert "CassetteDivergence" in r.stdout and "matches no recording" in r.stdout and "weather today?" in r.stdout

    recorded.unlink()
    r = run_pytest(tmp_path, dead, "-k", "test_weather")
    assert r.returncode == 1 and "no such cassette" in r.stdout
    # an explicit mode wins over the CI default
    with OpenAIStub() as up:
        r = run_pytest(tmp_path, {**dead, "STUB_URL": up.url}, "--agent-cassette-mode", "new_episodes",
                       "-k", "test_weather")
        assert r.returncode == 0, r.stdout + r.stderr
    assert recorded.exists()
    assert "--agent-cassette-mode" in run_pytest(tmp_path, {}, "--help").stdout
