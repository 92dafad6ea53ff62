import json
import os
import shutil
import subprocess
import sys

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
    ours = [c for c in commands if "agent-strace hook" in c]
    assert len(ours) >= 7
    assert not any(sys.executable in c for c in ours)  # project scope: no machine paths
    backup = path.parent / (path.name + ".agent-strace.bak")
    assert backup.read_text() == json.dumps(original, indent=2)

    r = run_cli(*args)
    assert r.returncode == 0 and b"already up to date" in r.stdout
    assert path.read_text() == first  # idempotent
    # installing again with another interpreter does not put our hooks in the backup
    assert run_cli(*args, "--python", "/opt/other/python").returncode == 0
    assert backup.read_text() == json.dumps(original, indent=2)

    r = run_cli(*args, "--uninstall")
    assert r.returncode == 0 and b"restored as it was before setup" in r.stdout, r.stdout
    assert path.read_text() == json.dumps(original, indent=2)  # byte for byte, switches included
    assert not backup.exists()
    r = run_cli(*args, "--uninstall")
    assert r.returncode == 0 and b"no agent-strace hooks" in r.stdout and b"up to date" not in r.stdout


@pytest.mark.parametrize("cli", ["claude", "codex", "gemini"])
def test_uninstall_after_setup_created_the_file_leaves_nothing(tmp_path, cli):
    path = settings_for(cli, tmp_path)
    args = ("setup", "--cli", cli, "--scope", "project", "--project", str(tmp_path))
    old = os.umask(0o022)
    try:
        assert run_cli(*args).returncode == 0
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # a normal file, not a 0600 temp file
    assert not (path.parent / (path.name + ".agent-strace.bak")).exists()
    r = run_cli(*args, "--uninstall")
    assert r.returncode == 0 and b"setup had created it" in r.stdout, r.stdout
    assert not path.exists() and not path.parent.exists()  # .claude/.codex/.gemini gone too
    assert list(tmp_path.iterdir()) == []


def test_uninstall_keeps_changes_made_since_setup(tmp_path):
    path = settings_for("claude", tmp_path)
    args = ("setup", "--scope", "project", "--project", str(tmp_path))
    path.parent.mkdir()
    path.write_text('{"model": "x"}')
    run_cli(*args)
    data = json.loads(path.read_text())
    data["theme"] = "dark"  # the user changed something after setup
    path.write_text(json.dumps(data))
    r = run_cli(*args, "--uninstall")
    assert r.returncode == 0
    assert json.loads(path.read_text()) == {"model": "x", "theme": "dark"}


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
    assert (home / ".codex" / "config.toml").read_text() == "[features]\nhooks = true\n"
    assert b"enabled hooks" in r.stdout and b"--trust" in r.stdout


def test_broken_settings_file_is_not_overwritten(tmp_path):
    p = tmp_path / ".claude" / "settings.json"
    p.parent.mkdir()
    p.write_text("{ this is not json")
    r = run_cli("setup", "--project", str(tmp_path))
    assert r.returncode == 1 and b"not valid JSON" in r.stderr
    assert p.read_text() == "{ this is not json"


def test_local_scope_command_works_without_the_virtualenv_on_path(tmp_path, trace_dir):
    run_cli("setup", "--scope", "local", "--project", str(tmp_path))
    data = json.loads((tmp_path / ".claude" / "settings.local.json").read_text())
    cmd = data["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    assert cmd.startswith(sys.executable)  # a machine path: only in local and user scopes
    env = {"PATH": "/usr/bin:/bin", "AGENT_TRACE_DIR": str(trace_dir)}
    payload = json.dumps({"session_id": "venvless", "hook_event_name": "PreToolUse", "tool_name": "Bash"})
    r = subprocess.run(["/bin/sh", "-c", cmd], input=payload.encode(), env=env, capture_output=True)
    assert r.returncode == 0 and r.stdout == b"", r.stderr
    assert os.path.exists(trace_dir / "sessions" / "venvless.jsonl")


def test_project_scope_command_finds_agent_strace_on_path(tmp_path, trace_dir):
    run_cli("setup", "--project", str(tmp_path))
    data = json.loads((tmp_path / ".claude" / "settings.json").read_text())
    cmd = data["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    assert data["hooks"]["PreToolUse"][0]["hooks"][0].get("async") is None
    assert data["hooks"]["PostToolUse"][0]["hooks"][0]["async"] is True
    bin_dir = os.path.dirname(shutil.which("agent-strace") or sys.executable)
    assert os.path.exists(os.path.join(bin_dir, "agent-strace"))
    payload = json.dumps({"session_id": "onpath", "hook_event_name": "PreToolUse", "tool_name": "Bash"}).encode()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "AGENT_TRACE_DIR": str(trace_dir), "CLAUDE_PROJECT_DIR": str(tmp_path)}
    r = subprocess.run(["/bin/sh", "-c", cmd], input=payload, env=env, capture_output=True, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == b"", r.stderr
    assert os.path.exists(trace_dir / "sessions" / "onpath.jsonl")

    # a teammate without agent-strace: one clear line, the agent goes on ...
    env["PATH"] = "/usr/bin:/bin"
    r = subprocess.run(["/bin/sh", "-c", cmd], input=payload, env=env, capture_output=True, cwd=tmp_path)
    assert r.returncode == 0 and b"agent-strace is not on PATH" in r.stderr and b"not recorded" in r.stderr
    # ... except that rules which cannot be checked deny the tool call (exit 2 blocks it)
    (tmp_path / ".agent-strace").mkdir()
    (tmp_path / ".agent-strace" / "rules.toml").write_text('[deny]\ncommands = ["rm -rf"]\n')
    r = subprocess.run(["/bin/sh", "-c", cmd], input=payload, env=env, capture_output=True, cwd=tmp_path)
    assert r.returncode == 2 and b"call denied" in r.stderr
    post = data["hooks"]["PostToolUse"][0]["hooks"][0]["command"]
    r = subprocess.run(["/bin/sh", "-c", post], input=payload, env=env, capture_output=True, cwd=tmp_path)
    assert r.returncode == 0  # observation hooks never block


def test_codex_uninstall_removes_the_flag_setup_added(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "CODEX_HOME": ""}
    assert run_cli("setup", "--cli", "codex", "--scope", "user", env=env).returncode == 0
    assert (home / ".codex" / "config.toml").exists()
    r = run_cli("setup", "--cli", "codex", "--scope", "user", "--uninstall", env=env)
    assert r.returncode == 0 and b"removed what setup had added" in r.stdout, r.stdout
    assert not (home / ".codex").exists()
    # a config that was there before keeps everything but what setup added
    (home / ".codex").mkdir()
    (home / ".codex" / "config.toml").write_text('model = "o3"\n# mine\n')
    run_cli("setup", "--cli", "codex", "--scope", "user", "--trust", env=env)
    text = (home / ".codex" / "config.toml").read_text()
    assert "trusted_hash" in text and "hooks = true" in text and text.startswith('model = "o3"\n# mine\n')
    run_cli("setup", "--cli", "codex", "--scope", "user", "--uninstall", env=env)
    assert (home / ".codex" / "config.toml").read_text() == 'model = "o3"\n# mine\n'
    assert not (home / ".codex" / "config.toml.agent-strace.bak").exists()


def test_codex_deprecated_flag_block_is_replaced(tmp_path):
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    cfg = home / ".codex" / "config.toml"
    cfg.write_text('model = "o3"\n\n[features]\ncodex_hooks = true\n')  # what an older setup wrote
    env = {"HOME": str(home), "CODEX_HOME": ""}
    assert run_cli("setup", "--cli", "codex", "--scope", "user", env=env).returncode == 0
    assert cfg.read_text() == 'model = "o3"\n\n[features]\nhooks = true\n'
    cfg.write_text('[features]\nhooks = false\n')
    r = run_cli("setup", "--cli", "codex", "--scope", "user", env=env)
    assert b"hooks = false" in r.stdout and cfg.read_text() == '[features]\nhooks = false\n'


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
