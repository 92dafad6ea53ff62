import json
import os
import subprocess

import pytest

from conftest import run_cli

OTHER_HOOK = {"type": "command", "command": "/usr/local/bin/someone-elses-hook"}


def settings_for(cli, root):
    return {"claude": root / ".claude" / "settings.json",
            "codex": root / ".codex" / "hooks.json",
            "gemini": root / ".gemini" / "settings.json"}[cli]


@pytest.mark.parametrize("cli", ["claude", "codex", "gemini"])
def test_round_trip_install_twice_then_uninstall(tmp_path, cli):
    path = settings_for(cli, tmp_path)
    path.parent.mkdir(parents=True)
    original = {"model": "x", "hooks": {"PreToolUse" if cli != "gemini" else "BeforeTool": [
        {"matcher": "Bash", "hooks": [OTHER_HOOK]}]}}
    path.write_text(json.dumps(original, indent=2))
    args = ("setup", "--cli", cli, "--scope", "project", "--project", str(tmp_path))

    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    first = path.read_text()
    data = json.loads(first)
    assert data["model"] == "x"
    commands = [h["command"] for groups in data["hooks"].values() if isinstance(groups, list)
                for g in groups for h in g["hooks"]]
    assert OTHER_HOOK["command"] in commands
    ours = [c for c in commands if "agent_trace" in c]
    assert len(ours) >= 8
    assert (path.parent / (path.name + ".agent-strace.bak")).read_text() == json.dumps(original, indent=2)

    r = run_cli(*args)
    assert r.returncode == 0 and b"already up to date" in r.stdout
    assert path.read_text() == first  # idempotent

    r = run_cli(*args, "--uninstall")
    assert r.returncode == 0
    after = json.loads(path.read_text())
    assert after["hooks"] == original["hooks"] and after["model"] == "x"
    if cli == "gemini":  # the enable switches stay for other people's hooks
        assert after["hooksConfig"] == {"enabled": True}


def test_print_shows_the_change_and_writes_nothing(tmp_path):
    r = run_cli("setup", "--print", "--project", str(tmp_path))
    assert r.returncode == 0 and b'+  "hooks": {' in r.stdout and b"PreToolUse" in r.stdout
    assert not (tmp_path / ".claude").exists()


def test_scopes_pick_the_right_files(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home)}
    run_cli("setup", "--scope", "local", "--project", str(tmp_path), env=env)
    assert (tmp_path / ".claude" / "settings.local.json").exists()
    run_cli("setup", "--scope", "user", "--project", str(tmp_path), env=env)
    assert (home / ".claude" / "settings.json").exists()
    r = run_cli("setup", "--cli", "codex", "--scope", "user", env=env)
    assert (home / ".codex" / "hooks.json").exists()
    assert "codex_hooks = true" in (home / ".codex" / "config.toml").read_text()
    assert b"enabled codex_hooks" in r.stdout


def test_broken_settings_file_is_not_overwritten(tmp_path):
    p = tmp_path / ".claude" / "settings.json"
    p.parent.mkdir()
    p.write_text("{ this is not json")
    r = run_cli("setup", "--project", str(tmp_path))
    assert r.returncode == 1 and b"not valid JSON" in r.stderr
    assert p.read_text() == "{ this is not json"


def test_installed_command_works_without_the_virtualenv_on_path(tmp_path, trace_dir):
    run_cli("setup", "--project", str(tmp_path))
    data = json.loads((tmp_path / ".claude" / "settings.json").read_text())
    cmd = data["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    assert data["hooks"]["PreToolUse"][0]["hooks"][0].get("async") is None
    assert data["hooks"]["PostToolUse"][0]["hooks"][0]["async"] is True
    env = {"PATH": "/usr/bin:/bin", "AGENT_TRACE_DIR": str(trace_dir)}
    payload = json.dumps({"session_id": "venvless", "hook_event_name": "PreToolUse", "tool_name": "Bash"})
    r = subprocess.run(["/bin/sh", "-c", cmd], input=payload.encode(), env=env, capture_output=True)
    assert r.returncode == 0 and r.stdout == b"", r.stderr
    assert os.path.exists(trace_dir / "sessions" / "venvless.jsonl")


def test_codex_feature_flag_left_alone_when_features_table_exists(tmp_path):
    from agent_trace.setup.codex import feature_flag_fix

    assert feature_flag_fix("[features]\ncodex_hooks = true\n") == (None, None)
    new, advice = feature_flag_fix("[features]\nother = 1\n")
    assert new is None and "codex_hooks" in advice
    new, advice = feature_flag_fix('model = "o3"')
    assert advice is None and new.endswith("[features]\ncodex_hooks = true\n")


def test_setup_mcp_wraps_stdio_servers_and_undoes_exactly(tmp_path):
    cfg = {"mcpServers": {
        "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
               "env": {"A": "1"}},
        "bare": {"command": "my-server"},
        "web": {"type": "http", "url": "https://example.invalid/mcp"}},
        "other": True}
    p = tmp_path / ".mcp.json"
    p.write_text(json.dumps(cfg))
    r = run_cli("setup", "mcp", "--project", str(tmp_path))
    assert r.returncode == 0 and b"URL server not wrapped" in r.stdout
    data = json.loads(p.read_text())
    fs = data["mcpServers"]["fs"]
    assert fs["env"] == {"A": "1"} and fs["args"][fs["args"].index("--") + 1:] == [
        "npx", "-y", "@modelcontextprotocol/server-filesystem", "/tmp"]
    assert data["mcpServers"]["web"] == cfg["mcpServers"]["web"] and data["other"] is True
    first = p.read_text()
    assert b"already up to date" in run_cli("setup", "mcp", "--project", str(tmp_path)).stdout
    assert p.read_text() == first
    assert run_cli("setup", "mcp", "--uninstall", "--project", str(tmp_path)).returncode == 0
    assert json.loads(p.read_text()) == cfg


def test_setup_mcp_missing_file_is_an_error(tmp_path):
    r = run_cli("setup", "mcp", "--project", str(tmp_path))
    assert r.returncode == 1 and b"no such file" in r.stderr
