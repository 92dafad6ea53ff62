"""pytest plugin (registered automatically when agent-strace is installed).

    @pytest.mark.agent_cassette                 # cassettes/<module>/<test>.json next to the test
    def test_agent(): run_my_agent()

    @pytest.mark.agent_cassette("weather.json", ignore=["body.json.temperature"])
    def test_weather(agent_cassette): ...     # the fixture gives the Cassette

Options (named so they never collide with pytest-recording's ``--record-mode``):
``--agent-cassette-mode once|new_episodes|none|all`` and
``--agent-cassette-dir DIR``.  The default mode is ``once`` on a workstation
and ``none`` when the ``CI`` environment variable is set: CI never records,
so a missing or outdated cassette fails the test instead of calling out.
"""

from __future__ import annotations

import os
import re

import pytest

from .core import MODES, Cassette

CI_VARS = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL", "TF_BUILD")


def default_mode() -> str:
    return "none" if any(os.environ.get(v) for v in CI_VARS) else "once"


def pytest_addoption(parser):
    g = parser.getgroup("agent-strace", "agent-strace cassettes")
    g.addoption("--agent-cassette-mode", choices=MODES, default=None,
                help="record mode for @pytest.mark.agent_cassette (default: once; none when $CI is set)")
    g.addoption("--agent-cassette-dir", default=None, metavar="DIR",
                help="where cassettes live (default: a cassettes/ folder next to each test file)")


def pytest_configure(config):
    config.addinivalue_line("markers", "agent_cassette(path=None, mode=None, **options): record/replay the "
                                       "test's LLM calls and traced functions with an agent-strace cassette")


def _path(request, given) -> str:
    node = request.node
    name = re.sub(r"[^\w.-]+", "_", node.name).strip("_")
    folder = request.config.getoption("--agent-cassette-dir") or os.path.join(os.path.dirname(str(node.fspath)),
                                                                               "cassettes")
    module = os.path.splitext(os.path.basename(str(node.fspath)))[0]
    if given:
        return given if os.path.isabs(given) else os.path.join(folder, given)
    return os.path.join(folder, module, name + ".json")


@pytest.fixture
def agent_cassette(request):
    marker = request.node.get_closest_marker("agent_cassette")
    args = marker.args if marker else ()
    options = dict(marker.kwargs) if marker else {}
    path = _path(request, options.pop("path", None) or (args[0] if args else None))
    mode = options.pop("mode", None) or request.config.getoption("--agent-cassette-mode") or default_mode()
    with Cassette(path, mode, **options) as cassette:
        yield cassette


@pytest.fixture(autouse=True)
def _agent_cassette_marker(request):
    if request.node.get_closest_marker("agent_cassette") and "agent_cassette" not in request.fixturenames:
        request.getfixturevalue("agent_cassette")
    yield
