"""Which ancestor is the agent: its program, never words elsewhere on its command line."""

from agent_trace.control.agent_process import is_agent


def test_agents_by_executable_or_script():
    assert is_agent(["/usr/local/bin/claude", "-p", "hi"])
    assert is_agent(["codex", "exec", "x"])
    assert is_agent(["/home/u/.opencode/bin/opencode", "run"])
    assert is_agent(["node", "/x/node_modules/@google/gemini-cli/dist/index.js", "-p", "hi"])
    assert is_agent(["/usr/bin/node", "--no-warnings", "/c/node_modules/@anthropic-ai/claude-code/cli.js"])


def test_a_test_runner_or_shell_mentioning_an_agent_is_not_one():
    assert not is_agent(["/w/.venv/bin/python", "-m", "pytest", "--ignore=tests/test_integrations_claude_sdk.py"])
    assert not is_agent(["bash", "-c", "codex exec hi"])
    assert not is_agent(["/w/.venv/bin/python", "-m", "agent_trace", "hook", "--cli", "codex"])
    assert not is_agent(["/w/.venv/bin/agent-strace", "hook", "--cli", "gemini"])
    assert not is_agent([])
