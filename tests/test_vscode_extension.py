"""The VS Code extension: its unit tests (node's test runner, `vscode`
stubbed), the .vsix build, and the extension in a real VS Code (code-server)
driven by headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import time

import pytest
from conftest import run_cli
from support.browser import finish, start_script
from support.code_server import code_server_bin, env_with_node24
from support.npm import REPO
from support.processes import Background, free_port, wait_port

from agent_trace import event as ev
from agent_trace.store.sink import FileSink
from agent_trace.store.paths import Store

EXT = REPO / "vscode-extension"
VSIX = EXT / "agent-strace.vsix"
CLI = str(REPO / ".venv" / "bin" / "agent-strace") if (REPO / ".venv" / "bin" / "agent-strace").exists() \
    else shutil.which("agent-strace")


def _npm(*args, env=None, timeout=600):
    if not shutil.which("npm"):
        pytest.skip("npm is not installed")
    r = subprocess.run(["npm", *args], cwd=EXT, capture_output=True, text=True, env=env, timeout=timeout)
    assert r.returncode == 0, f"npm {' '.join(args)}: {r.stdout[-2000:]} {r.stderr[-2000:]}"
    return r


@pytest.fixture(scope="module")
def built():
    """npm ci (cached by the lockfile), compile, package the .vsix."""
    stamp = EXT / "node_modules" / ".lock-stamp"
    lock = (EXT / "package-lock.json").read_text()
    if not stamp.exists() or stamp.read_text() != lock:
        _npm("ci", "--no-audit", "--no-fund")
        stamp.write_text(lock)
    _npm("run", "compile")
    if VSIX.exists():
        VSIX.unlink()
    _npm("run", "package")
    assert VSIX.exists() and VSIX.stat().st_size > 5000
    return VSIX


def test_unit_tests_with_vscode_stubbed(built):
    assert CLI, "agent-strace is not installed"
    shutil.rmtree(EXT / "out")  # as on a fresh clone: `npm test` compiles first (pretest)
    r = _npm("test", env={**os.environ, "AGENT_STRACE_CLI": CLI})
    out = r.stdout
    assert "# fail 0" in out and "# skipped 0" in out, out[-3000:]
    assert int(out.split("# pass ")[1].split()[0]) >= 13


def test_event_lines_match_the_cli_replay(built, tmp_path):
    """The extension's event stream prints each event as `replay` does: the
    same session through both, line for line (clocks aside)."""
    demo = tmp_path / "demo"
    assert run_cli("demo", "--dir", str(demo), env={"AGENT_TRACE_DIR": ""}).returncode == 0
    store = str(demo / ".agent-traces")
    cli = run_cli("--trace-dir", store, "replay").stdout.decode().splitlines()
    events = tmp_path / "events.jsonl"
    events.write_bytes(run_cli("--trace-dir", store, "replay", "--json").stdout)
    script = (
        f"const {{ eventLine }} = require({json.dumps(str(EXT / 'out' / 'format.js'))});"
        f"const text = require('fs').readFileSync({json.dumps(str(events))}, 'utf8');"
        "const calls = new Map(); let cwd;"
        "for (const raw of text.split(String.fromCharCode(10)).filter(Boolean)) {"
        "  const e = JSON.parse(raw);"
        "  if (e.type === 'session.start' && e.data) cwd = e.data.cwd;"
        "  if (e.type === 'tool.call' && e.tool_use_id) calls.set(e.tool_use_id, e);"
        "  const l = eventLine(e, cwd, calls.get(e.tool_use_id));"
        "  if (l) console.log((l.agent ? '  [agent ' + l.agent.slice(0, 8) + '] ' : '') + l.text);"
        "}"
    )
    r = subprocess.run(["node", "-e", script], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    ext = r.stdout.splitlines()
    assert [x[13:] for x in cli] == ext
    assert len(ext) > 20


def test_vsix_contents(built):
    import zipfile

    names = zipfile.ZipFile(built).namelist()
    assert "extension/out/extension.js" in names and "extension/media/read.svg" in names
    assert not any(n.startswith("extension/src/") or "node_modules" in n for n in names)
    manifest = json.loads(zipfile.ZipFile(built).read("extension/package.json"))
    assert "workspaceContains:.agent-traces/sessions" in manifest["activationEvents"]


def test_extension_in_real_vscode(built, tmp_path):
    exe = code_server_bin()
    env = env_with_node24()
    ws = tmp_path / "ws"
    r = run_cli("demo", "--dir", str(ws))
    assert r.returncode == 0
    store = ws / ".agent-traces"
    inspect = json.loads(run_cli("--trace-dir", str(store), "inspect", "latest", "--json").stdout)
    (ws / "notes.txt").write_text("edited line\n")  # the file the session wrote, then edited
    (ws / ".vscode").mkdir()
    (ws / ".vscode" / "settings.json").write_text(json.dumps({
        "agentStrace.cli": CLI, "workbench.startupEditor": "none", "security.workspace.trust.enabled": False,
        "chat.disableAIFeatures": True, "workbench.secondarySideBar.defaultVisibility": "hidden"}))
    ext_dir, data_dir = tmp_path / "extensions", tmp_path / "data"
    common = ["--extensions-dir", str(ext_dir), "--user-data-dir", str(data_dir)]
    r = subprocess.run([str(exe), *common, "--install-extension", str(built)], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0 and "successfully installed" in r.stdout, r.stdout + r.stderr
    port = free_port()
    cmd = [str(exe), "--auth", "none", "--bind-addr", f"127.0.0.1:{port}", "--disable-telemetry",
           "--disable-update-check", "--disable-workspace-trust", *common, str(ws)]
    with Background(cmd, env={**env, "HOME": str(tmp_path / "home")}) as srv:  # its own process group
        wait_port(port, timeout=120, proc=srv.proc)
        cost = f"${inspect['cost_usd']:.4f}"
        flag = store / "control" / f"paused-{inspect['session']}"  # what `agent-strace pause SESSION` sets
        proc = start_script("vscode.cjs", f"http://127.0.0.1:{port}", str(ws), str(inspect["tool_calls"]), cost,
                            str(flag))
        ready = proc.stdout.readline()
        if not ready.startswith("{"):
            finish(proc)
        sink = FileSink(Store(str(store)))
        t0 = time.time()
        sink.emit(ev.make_event(ev.TOOL_CALL, inspect["session"], "claude-code", tool="LiveTool",
                                tool_use_id="live-1", data={"tool_input": {"command": "echo live"}}))
        sink.emit(ev.make_event(ev.TOOL_RESULT, inspect["session"], "claude-code", tool="LiveTool",
                                tool_use_id="live-1", status="ok", duration_ms=3))
        result = finish(proc, timeout=180)
    assert result["flag_while_paused"] and not result["flag_after_resume"]
    assert "paused" in result["paused_status"]
    assert "do the scripted task" in result["tree_row"]
    assert any(f"{n} tools" in result["tree_row"] for n in (inspect["tool_calls"], inspect["tool_calls"] + 1))
    assert f"{inspect['tool_calls']} tools" in result["status"] and cost in result["status"]
    assert f"{inspect['tool_errors']} err" in result["status"]
    assert "read by Read" in " ".join(result["inline"]) and "changed by Edit" in " ".join(result["inline"])
    assert result["gutter"] >= 1
    for line in ("Write(notes.txt) = ok", "Edit(notes.txt) = ok", "Bash(ls WS && echo listed) = ERROR (exit 2"):
        assert line in result["panel"], result["panel"][:2000]
    assert f"{inspect['tool_calls'] + 1} tools" in result["live_status"]
    assert "LiveTool(echo live) = ok" in result["live_panel"]
    print(f"status bar: {result['status']!r}; live update after {result['live_ms']} ms "
          f"(append at +{time.time() - t0:.1f}s)")
