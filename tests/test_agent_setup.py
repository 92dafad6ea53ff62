"""Setup for Codex, Gemini CLI and OpenCode without the agents: TOML edits
that keep every byte, Codex's trust hash, Gemini's folder trust, the
OpenCode plugin file, apply_patch paths, Gemini call pairing, doctor."""

from __future__ import annotations

import json
import sys

import pytest

from agent_trace import event as ev
from agent_trace.analysis.patch_paths import patch_paths
from agent_trace.capture import gemini_calls
from agent_trace.capture.hooks import events_from_hook
from agent_trace.setup import codex_trust, gemini, opencode, toml_edit
from agent_trace.store import Store

from conftest import run_cli


def test_codex_trust_hash_is_the_one_codex_computes():
    # key and hash as `codex app-server` hooks/list reported them (Codex 0.171)
    h = codex_trust.hook_hash("PreToolUse", None, {"type": "command", "command": "/tmp/cx/logger.sh PreToolUse",
                                                   "timeout": 30})
    assert h == "sha256:1496c833aa37bf0687a023971c77298cec4a7d909617ac0228659fec5026a9c7"
    # SessionEnd is clamped to 3 s before hashing, as Codex does
    assert codex_trust.hook_hash("SessionEnd", None, {"command": "x", "timeout": 30}) == \
        codex_trust.hook_hash("SessionEnd", None, {"command": "x", "timeout": 3})
    assert codex_trust.label("PostModelRequest") == "post_model_request"
    entries = codex_trust.hook_entries("/p/.codex/hooks.json", {"hooks": {"Stop": [
        {"hooks": [{"type": "command", "command": "theirs"}]},
        {"hooks": [{"type": "command", "command": "agent-strace hook --cli codex stop"}]}]}},
        lambda c: "agent-strace" in c)
    assert [k for k, _h, _c in entries] == ["/p/.codex/hooks.json:stop:1:0"]


def test_toml_edits_keep_every_other_byte():
    base = 'model = "o3"  # mine\n\n[projects."/a b"]\ntrust_level = "untrusted"\n# keep\n\n[x]\ny = 1\n'
    a = toml_edit.set_key(base, ("projects", "/a b"), "trust_level", "trusted")
    assert a == base.replace('"untrusted"', '"trusted"')
    b = toml_edit.set_key(a, ("hooks", "state", "/p/h.json:stop:0:0"), "trusted_hash", "sha256:ab")
    c = toml_edit.set_key(b, ("features",), "hooks", True)
    assert c.startswith(a) and c.endswith('[features]\nhooks = true\n')
    d = toml_edit.remove_key(toml_edit.remove_key(c, ("features",), "hooks"),
                             ("hooks", "state", "/p/h.json:stop:0:0"), "trusted_hash")
    assert d == a
    # a table defined inline is not rewritten: the caller asks for a hand edit
    assert toml_edit.set_key('projects = { "/x" = { trust_level = "no" } }\n', ("projects", "/x"),
                             "trust_level", "trusted") is None
    assert toml_edit.set_key("this is [ not toml", ("a",), "b", 1) is None
    assert toml_edit.set_key("", ("k",), "v", 'quote " and \\ back') == '[k]\nv = "quote \\" and \\\\ back"\n'


def test_codex_setup_trust_and_uninstall_leave_config_as_it_was(tmp_path):
    home, proj = tmp_path / "home", tmp_path / "proj"
    (home / ".codex").mkdir(parents=True)
    proj.mkdir()
    cfg = home / ".codex" / "config.toml"
    original = 'model = "gpt-5.5"\n\n[projects."/elsewhere"]\ntrust_level = "trusted"\n'
    cfg.write_text(original)
    env = {"HOME": str(home), "CODEX_HOME": ""}
    r = run_cli("setup", "--cli", "codex", "--project", str(proj), "--trust", env=env)
    assert r.returncode == 0, r.stderr
    import tomllib

    data = tomllib.loads(cfg.read_text())
    assert data["projects"][str(proj)]["trust_level"] == "trusted"
    hooks = json.loads((proj / ".codex" / "hooks.json").read_text())["hooks"]
    assert sorted(hooks) == sorted(("SessionStart", "SessionEnd", "UserPromptSubmit", "PreToolUse",
                                    "PermissionRequest", "PostToolUse", "PreCompact", "PostCompact", "Stop",
                                    "SubagentStart", "SubagentStop", "Interrupt", "PreModelRequest",
                                    "PostModelRequest"))
    assert hooks["SessionEnd"][0]["hooks"][0]["timeout"] == 3
    assert sys.executable not in json.dumps(hooks)  # committable: a PATH lookup, no machine path
    assert len(data["hooks"]["state"]) == 14
    assert run_cli("setup", "--cli", "codex", "--project", str(proj), "--uninstall", env=env).returncode == 0
    assert cfg.read_text() == original and not (proj / ".codex").exists()


def test_gemini_folder_trust(tmp_path):
    folders = {"/a": "TRUST_FOLDER", "/b/c": "TRUST_PARENT", "/a/no": "DO_NOT_TRUST"}
    assert gemini.folder_trusted(folders, "/a/x/y") is True
    assert gemini.folder_trusted(folders, "/b/d") is True  # TRUST_PARENT on /b/c trusts /b
    assert gemini.folder_trusted(folders, "/a/no") is False
    assert gemini.folder_trusted(folders, "/z") is None
    home, proj = tmp_path / "home", tmp_path / "proj"
    home.mkdir()
    proj.mkdir()
    env = {"HOME": str(home), "GEMINI_CLI_HOME": "", "GEMINI_CLI_TRUSTED_FOLDERS_PATH": ""}
    r = run_cli("setup", "--cli", "gemini", "--project", str(proj), "--trust", env=env)
    assert r.returncode == 0 and json.loads((home / ".gemini" / "trustedFolders.json").read_text()) == {
        str(proj): "TRUST_FOLDER"}
    settings = json.loads((proj / ".gemini" / "settings.json").read_text())
    assert "AfterModel" not in settings["hooks"] and "PreCompress" not in settings["hooks"]
    run_cli("setup", "--cli", "gemini", "--project", str(proj), "--uninstall", env=env)
    assert not (home / ".gemini" / "trustedFolders.json").exists()


def test_opencode_plugin_file(tmp_path):
    proj = tmp_path / "p"
    proj.mkdir()
    r = run_cli("setup", "--cli", "opencode", "--project", str(proj))
    assert r.returncode == 0
    path = proj / ".opencode" / "plugin" / "agent-strace.js"
    text = path.read_text()
    assert opencode.is_ours(text) and "agent-strace hook --cli opencode pre-tool-use" in text
    assert "tool.execute.before" in text and "throw new Error" in text
    assert run_cli("setup", "--cli", "opencode", "--project", str(proj)).stdout.endswith(b"already up to date\n")
    path.write_text("// someone else's\n")
    assert run_cli("setup", "--cli", "opencode", "--project", str(proj)).returncode == 1
    assert path.read_text() == "// someone else's\n"
    path.unlink()
    run_cli("setup", "--cli", "opencode", "--project", str(proj))
    assert run_cli("setup", "--cli", "opencode", "--project", str(proj), "--uninstall").returncode == 0
    assert not (proj / ".opencode").exists()


def test_opencode_events_map_to_the_same_model():
    def one(payload):
        (e,) = events_from_hook({"session_id": "ses_1", **payload}, None, "opencode")
        return e

    resp = one({"hook_event_name": "ModelResponse", "message": {
        "id": "msg_1", "role": "assistant", "modelID": "m", "tokens": {"input": 800, "output": 20, "reasoning": 10,
                                                                       "cache": {"read": 100, "write": 0}}}})
    assert resp["type"] == ev.LLM_RESPONSE and resp["usage"] == {"input": 800, "output": 30, "cache_read": 100}
    assert resp["id"] == ev.derived_id("ses_1", "llm.response", "msg_1")
    bad = one({"hook_event_name": "PostToolUse", "tool_name": "bash", "tool_use_id": "c1",
               "tool_response": {"output": "nope\n", "metadata": {"exit": 2, "truncated": True}}})
    assert bad["type"] == ev.TOOL_ERROR and bad["error"]["exit_code"] == 2
    assert bad["truncated"] == [{"path": "data.tool_response.output", "by": "opencode"}]
    fail = one({"hook_event_name": "PostToolUseFailure", "tool_name": "write", "tool_use_id": "c2",
                "error": "blocked"})
    assert fail["type"] == ev.TOOL_ERROR and fail["error"]["message"] == "blocked"


def test_apply_patch_paths():
    patch = ("*** Begin Patch\n*** Add File: a/new.txt\n+*** Add File: content-not-a-path\n*** Update File: b.py\n"
             "*** Move to: c.py\n@@\n *** Delete File: context-not-a-path\n-x\n+y\n*** Delete File: secrets/k\n"
             "*** End Patch\n")
    assert patch_paths(patch) == ["a/new.txt", "b.py", "c.py", "secrets/k"]
    assert patch_paths("no patch here") == [] and patch_paths(None) == []


def test_rules_deny_apply_patch_and_heredoc_patches(tmp_path, trace_dir):
    (tmp_path / ".agent-strace").mkdir()
    (tmp_path / ".agent-strace" / "rules.toml").write_text('[[deny]]\npaths = ["secrets/**"]\n')
    for tool, inp in (("apply_patch", {"command": "*** Begin Patch\n*** Update File: x\n*** Move to: secrets/y\n"
                                                  "*** End Patch\n"}),
                      ("Bash", {"command": "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: secrets/z\n+1\n"
                                           "*** End Patch\nEOF"})):
        payload = {"session_id": "cx", "turn_id": "t", "cwd": str(tmp_path), "hook_event_name": "PreToolUse",
                   "tool_name": tool, "tool_use_id": f"c-{tool}", "tool_input": inp}
        r = run_cli("hook", "--cli", "codex", input=json.dumps(payload).encode())
        out = json.loads(r.stdout)
        assert out["hookSpecificOutput"]["permissionDecision"] == "deny" and "continue" not in out, out


def test_gemini_pairing_counts_each_call_once_in_any_order(tmp_path):
    store = Store(str(tmp_path / "s"))

    def hook(name, tool, inp):
        (e,) = events_from_hook({"session_id": "g", "hook_event_name": name, "tool_name": tool, "tool_input": inp,
                                 "tool_response": {"llmContent": "x"}}, None, "gemini")
        gemini_calls.assign(store, e)
        return e

    c1, c2 = hook("BeforeTool", "read_file", {"p": 1}), hook("BeforeTool", "read_file", {"p": 2})
    r2, r1 = hook("AfterTool", "read_file", {"p": 2}), hook("AfterTool", "read_file", {"p": 1})  # parallel, swapped
    assert (c1["tool_use_id"], c2["tool_use_id"]) == ("read_file#1", "read_file#2")
    assert (r1["tool_use_id"], r2["tool_use_id"]) == ("read_file#1", "read_file#2")
    assert c1["id"] != r1["id"] and r1["id"] == ev.derived_id("g", "tool.result", "read_file#1")
    # a denied call is closed: the next call with the same input pairs with its own result
    c3 = hook("BeforeTool", "read_file", {"p": 1})
    gemini_calls.close(store, c3)
    c4 = hook("BeforeTool", "read_file", {"p": 1})
    assert hook("AfterTool", "read_file", {"p": 1})["tool_use_id"] == c4["tool_use_id"] == "read_file#4"


def test_codex_stop_is_sticky_for_the_turn(tmp_path, trace_dir):
    (tmp_path / ".agent-strace").mkdir()
    (tmp_path / ".agent-strace" / "rules.toml").write_text('[[deny]]\ncommands = ["touch x*"]\naction = "stop"\n')

    def pre(cmd, turn, call):
        payload = {"session_id": "cx2", "turn_id": turn, "cwd": str(tmp_path), "hook_event_name": "PreToolUse",
                   "tool_name": "Bash", "tool_use_id": call, "tool_input": {"command": cmd}}
        r = run_cli("hook", "--cli", "codex", input=json.dumps(payload).encode())
        return json.loads(r.stdout) if r.stdout.strip() else None

    first = pre("touch x", "t1", "c1")
    assert first["hookSpecificOutput"]["permissionDecision"] == "deny" and set(first) == {"hookSpecificOutput"}
    assert "the turn was stopped" in pre("echo fine", "t1", "c2")["hookSpecificOutput"]["permissionDecisionReason"]
    assert pre("echo fine", "t2", "c3") is None  # a new turn runs again


@pytest.mark.parametrize("broken", ["[[deny]\n", '[limits]\ntool_calls = "x"\n'])
def test_doctor_finds_what_would_lose_events(tmp_path, broken):
    proj, home = tmp_path / "proj", tmp_path / "home"
    proj.mkdir()
    home.mkdir()
    env = {"HOME": str(home), "CODEX_HOME": "", "PATH": "/usr/bin:/bin"}
    r = run_cli("doctor", "--project", str(proj), env=env)
    assert r.returncode == 0, r.stdout  # nothing set up, nothing broken
    (proj / ".agent-strace").mkdir()
    (proj / ".agent-strace" / "rules.toml").write_text(broken)
    r = run_cli("doctor", "--project", str(proj), "--json", env=env)
    findings = json.loads(r.stdout)
    assert r.returncode == 4 and any(f["level"] == "fail" and f["agent"] == "rules" and f["fix"].startswith(
        "agent-strace rules check") for f in findings)
    (proj / ".agent-strace" / "rules.toml").unlink()
    # project-scope hooks with agent-strace missing from PATH, and a Codex install nobody trusted
    assert run_cli("setup", "--cli", "codex", "--project", str(proj), env=env).returncode == 0
    r = run_cli("doctor", "--cli", "codex", "--project", str(proj), env=env)
    text = r.stdout.decode()
    assert r.returncode == 4 and "not on PATH" in text and "not reviewed yet" in text and "not trusted" in text
    assert all(" -> " in line for line in text.splitlines() if line.startswith("FAIL"))
