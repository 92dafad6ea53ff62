"""``setup --transport http``: HTTP hooks into the daemon, the secret kept out
of project files, round trips, and the hook path staying lean."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

from conftest import run_cli
from support.daemon import PrivateDaemon

OTHER = {"type": "command", "command": "/usr/local/bin/someone-elses-hook"}


def _hooks(settings: dict) -> dict[str, list[dict]]:
    return {event: [h for g in groups for h in g["hooks"]] for event, groups in settings["hooks"].items()}


def test_http_transport_round_trip(tmp_path, monkeypatch):
    d = PrivateDaemon(tmp_path, monkeypatch)
    home = tmp_path / "home"
    project = tmp_path / "proj"
    (project / ".claude").mkdir(parents=True)
    hooks_file = project / ".claude" / "settings.local.json"  # per user, like the daemon: the default scope
    original = {"model": "x", "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [OTHER]}]}}
    hooks_file.write_text(json.dumps(original))
    env = {"HOME": str(home)}
    args = ("setup", "--transport", "http", "--project", str(project))

    r = run_cli(*args, env=env)
    assert r.returncode == 0, r.stderr
    settings = json.loads(hooks_file.read_text())
    hooks = _hooks(settings)
    secret = (d.dir / "secret").read_text().strip()
    assert secret and secret not in hooks_file.read_text()  # never beside the hooks in a project folder
    # SessionStart: a quick synchronous check that starts the daemon when none runs,
    # and the asynchronous command hook that records the start and registers the session
    ensure, record = hooks["SessionStart"]
    assert ensure["type"] == "command" and "flock -n" in ensure["command"] and "daemon start" in ensure["command"]
    assert "async" not in ensure
    assert record["async"] is True and " hook --daemon session-start" in record["command"]
    # PreToolUse: fails closed when the daemon cannot be asked; other people's hooks kept
    pre = [h for h in hooks["PreToolUse"] if h.get("type") == "http"]
    assert OTHER in hooks["PreToolUse"] and len(pre) == 1
    assert pre[0]["onFailure"] == "block" and pre[0]["timeout"] == 30
    assert pre[0]["url"] == f"http://127.0.0.1:{d.port}/agent-strace/hook/claude/pre-tool-use"
    assert pre[0]["headers"] == {"Authorization": "Bearer ${AGENT_STRACE_SECRET}", "X-Agent-Strace-Env": "1",
                                 "X-Agent-Trace-Dir": "${AGENT_TRACE_DIR}",
                                 "X-Agent-Strace-Rules": "${AGENT_STRACE_RULES}", "X-Agent-Home": "${HOME}"}
    assert pre[0]["allowedEnvVars"] == ["AGENT_STRACE_SECRET", "AGENT_TRACE_DIR", "AGENT_STRACE_RULES", "HOME"]
    for event in ("PostToolUse", "Stop", "SubagentStop", "SessionEnd", "UserPromptSubmit"):
        (h,) = hooks[event]
        assert h["type"] == "http" and "onFailure" not in h and "async" not in h, event
    # the secret: in the user's settings env, private
    user_file = home / ".claude" / "settings.json"
    assert json.loads(user_file.read_text())["env"] == {"AGENT_STRACE_SECRET": secret}
    assert stat.S_IMODE(os.stat(user_file).st_mode) == 0o600
    assert json.loads((d.dir / "config.json").read_text()) == {"port": d.port}

    first = hooks_file.read_text()
    r = run_cli(*args, env=env)
    assert r.returncode == 0 and b"already up to date" in r.stdout
    assert hooks_file.read_text() == first

    # switching back to command hooks replaces ours, keeps the other hook
    r = run_cli("setup", "--scope", "local", "--project", str(project), env=env)
    assert r.returncode == 0
    hooks = _hooks(json.loads(hooks_file.read_text()))
    assert not any(h.get("type") == "http" for hs in hooks.values() for h in hs)
    r = run_cli("setup", "--scope", "local", "--uninstall", "--project", str(project), env=env)
    assert r.returncode == 0
    assert json.loads(hooks_file.read_text())["hooks"] == original["hooks"]


def test_user_scope_keeps_the_secret_beside_the_hooks_and_uninstall_takes_both(tmp_path, monkeypatch):
    PrivateDaemon(tmp_path, monkeypatch)
    home = tmp_path / "home"
    env = {"HOME": str(home)}
    r = run_cli("setup", "--transport", "http", "--scope", "user", env=env)
    assert r.returncode == 0, r.stderr
    user_file = home / ".claude" / "settings.json"
    settings = json.loads(user_file.read_text())
    assert "AGENT_STRACE_SECRET" in settings["env"] and "PreToolUse" in settings["hooks"]
    r = run_cli("setup", "--uninstall", "--scope", "user", env=env)
    assert r.returncode == 0
    assert not user_file.exists()  # setup had created it: nothing of ours, not even the secret, remains


def test_enforce_command_keeps_pre_tool_use_a_command_hook(tmp_path, monkeypatch):
    PrivateDaemon(tmp_path, monkeypatch)
    r = run_cli("setup", "--transport", "http", "--enforce", "command", "--project", str(tmp_path),
                env={"HOME": str(tmp_path / "home")})
    assert r.returncode == 0, r.stderr
    hooks = _hooks(json.loads((tmp_path / ".claude" / "settings.local.json").read_text()))
    (pre,) = hooks["PreToolUse"]
    assert pre["type"] == "command" and pre["command"].endswith(" hook pre-tool-use")
    assert hooks["PostToolUse"][0]["type"] == "http"


def test_print_writes_nothing_and_bad_choices_are_refused(tmp_path, monkeypatch):
    d = PrivateDaemon(tmp_path, monkeypatch)
    env = {"HOME": str(tmp_path / "home")}
    r = run_cli("setup", "--transport", "http", "--print", "--project", str(tmp_path), env=env)
    assert r.returncode == 0 and b'"type": "http"' in r.stdout
    assert not (tmp_path / ".claude").exists() and not d.dir.exists()
    r = run_cli("setup", "--transport", "http", "--cli", "codex", "--project", str(tmp_path), env=env)
    assert r.returncode == 2 and b"for Claude Code" in r.stderr
    r = run_cli("setup", "--transport", "http", "--port", "70000", "--project", str(tmp_path), env=env)
    assert r.returncode == 2


def test_session_start_with_a_running_daemon_stays_lean(tmp_path, monkeypatch, trace_dir):
    import subprocess
    import sys

    d = PrivateDaemon(tmp_path, monkeypatch)
    d.start()
    try:
        code = (
            "import sys, io;"
            "sys.stdin = io.TextIOWrapper(io.BytesIO(b'{\"session_id\":\"s\",\"hook_event_name\":\"SessionStart\","
            "\"cwd\":\"/tmp\"}'));"
            "from agent_trace.cli import main; main(['hook', '--daemon', 'session-start']);"
            "print(sorted(m for m in ('argparse','re','json','socket','subprocess','http.client','hashlib',"
            "'agent_trace.daemon.server','agent_trace.analysis.summary') if m in sys.modules))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, **d.env, "AGENT_TRACE_DIR": str(trace_dir)})
        assert out.stdout.strip() == "[]", out
        assert (d.dir / "sessions" / "s.json").exists()
    finally:
        d.stop()


def test_project_scope_is_allowed_with_a_warning_and_stays_portable(tmp_path, monkeypatch):
    PrivateDaemon(tmp_path, monkeypatch)
    r = run_cli("setup", "--transport", "http", "--scope", "project", "--project", str(tmp_path),
                env={"HOME": str(tmp_path / "home")})
    assert r.returncode == 0 and b"consider --scope local" in r.stdout
    hooks = _hooks(json.loads((tmp_path / ".claude" / "settings.json").read_text()))
    ensure, record = hooks["SessionStart"]
    assert "exec agent-strace hook --daemon session-start" in record["command"]  # PATH lookup, no machine path
    assert "agent-strace daemon start" in ensure["command"] and sys.executable not in ensure["command"]
    assert hooks["PostToolUse"][0]["type"] == "http"


def test_the_session_start_check_starts_a_daemon_only_when_none_runs(tmp_path, monkeypatch):
    """The synchronous SessionStart hook, run by a shell as Claude Code runs it."""
    from agent_trace.setup.http_hooks import ensure_command

    d = PrivateDaemon(tmp_path, monkeypatch)
    cmd = ensure_command(None, portable=False)
    env = {**os.environ, **d.env}
    try:
        r = subprocess.run(["sh", "-c", cmd], env=env, capture_output=True, timeout=60)
        assert r.returncode == 0 and r.stdout == b"" and d.running()
        first = d.pid
        t = time.monotonic()
        r = subprocess.run(["sh", "-c", cmd], env=env, capture_output=True, timeout=60)
        assert r.returncode == 0 and r.stdout == b"" and d.pid == first
        quick = time.monotonic() - t
        t = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], env=env)
        assert quick < 2 * (time.monotonic() - t) + 0.05  # no Python started while the daemon runs
    finally:
        d.stop()
    # no flock(1) on PATH: the hook falls back to Python, which checks the lock itself
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("sh", "true"):
        os.symlink(subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip(),
                   bare / tool)
    try:
        r = subprocess.run(["sh", "-c", cmd], env={**env, "PATH": str(bare)}, capture_output=True, timeout=60)
        assert r.returncode == 0 and d.running()
    finally:
        d.stop()
