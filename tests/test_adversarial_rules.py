"""Rules fail closed on every path: a full disk, a read-only or broken store,
an unreadable or invalid rules file, a hostile payload, a forged cache."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_trace.store import Store
from agent_trace.store.reader import ReadStats, iter_events
from conftest import run_cli
from tests.support.adversarial import FAST

DENY_RM = '[[deny]]\ncommands = ["rm -rf*"]\nreason = "no deletes"\n'
STOP_RM = '[[deny]]\ncommands = ["rm -rf*"]\naction = "stop"\n'


def payload(cwd, command="rm -rf /", session="s1", **extra) -> bytes:
    p = {"session_id": session, "hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_use_id": "toolu_1",
         "cwd": str(cwd), "tool_input": {"command": command}, **extra}
    return json.dumps(p).encode()


def project(tmp_path, rules: str | bytes = DENY_RM):
    p = tmp_path / "proj"
    (p / ".agent-strace").mkdir(parents=True, exist_ok=True)
    target = p / ".agent-strace" / "rules.toml"
    target.write_bytes(rules if isinstance(rules, bytes) else rules.encode())
    return p


def hook(data: bytes, store, cwd, wrap: list[str] | None = None, max_file_size: int | None = None):
    cmd = [sys.executable, "-c", "import sys; from agent_trace.cli import main; sys.exit(main())", "hook",
           "pre-tool-use"]
    env = {**os.environ, "AGENT_TRACE_DIR": str(store)}

    def limit():  # RLIMIT_FSIZE: every write past the limit fails (EFBIG), like a full disk
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_size, max_file_size))

    return subprocess.run((wrap or []) + cmd, input=data, capture_output=True, env=env, cwd=cwd, timeout=120,
                          preexec_fn=limit if max_file_size is not None else None)


def denied(r) -> bool:
    """The agent was told no: the JSON deny answer, or exit 2."""
    if r.returncode == 2:
        return True
    if r.returncode != 0 or not r.stdout.strip():
        return False
    out = json.loads(r.stdout)
    return out.get("hookSpecificOutput", {}).get("permissionDecision") == "deny" or out.get("decision") == "deny"


def can_unshare() -> bool:
    if not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt 2>/dev/null || "
                        "mount -t tmpfs -o size=16k tmpfs /tmp"], capture_output=True)
    return r.returncode == 0


# -- the store fails: the decision still reaches the agent ---------------------------------

def test_deny_reaches_the_agent_when_no_file_can_grow(tmp_path):
    proj = project(tmp_path, DENY_RM + "[limits]\ntool_calls = 100\n")
    store = tmp_path / "store"
    r = hook(payload(proj), store, proj, max_file_size=0)  # store, rule state, rules cache: all EFBIG
    assert denied(r) and b"no deletes" in r.stdout, r
    assert b"File too large" in r.stderr and b"Traceback" not in r.stderr
    r = hook(payload(proj, command="ls"), store, proj, max_file_size=0)
    assert r.returncode == 0 and r.stdout.strip() == b"", r


def test_stop_reaches_the_agent_when_no_file_can_grow(tmp_path):
    proj = project(tmp_path, STOP_RM)
    store = tmp_path / "store"
    r = hook(payload(proj), store, proj, max_file_size=0)
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["continue"] is False and "rm -rf*" in out["stopReason"]
    assert b"decision given but not recorded" in r.stderr


def test_a_session_file_that_is_a_device_is_refused_not_read_forever(tmp_path):
    proj = project(tmp_path, DENY_RM + "[budget]\ntokens = 1000\n")
    store = tmp_path / "store"
    (store / "sessions").mkdir(parents=True)
    os.symlink("/dev/full", store / "sessions" / "s1.jsonl")  # writes: ENOSPC; reads: zeros forever
    r = hook(payload(proj), store, proj)
    assert denied(r) and b"no deletes" in r.stdout, r
    r = hook(payload(proj, command="ls"), store, proj)
    assert denied(r) and b"cannot be read" in r.stdout, r  # a budget that cannot be checked denies


def test_deny_reaches_the_agent_when_agent_trace_dir_is_a_file(tmp_path):
    proj = project(tmp_path)
    store = tmp_path / "not-a-dir"
    store.write_text("x")
    r = hook(payload(proj), store, proj)
    assert denied(r) and b"no deletes" in r.stdout, r
    # an allowed call still goes through (the state is a cache; path rules need no log)
    r = hook(payload(proj, command="ls"), store, proj)
    assert r.returncode == 0 and r.stdout.strip() == b"", r


@pytest.mark.skipif(not can_unshare(), reason="needs unshare -rm (user and mount namespaces) for a tmpfs")
@pytest.mark.parametrize("how", ["full", "read-only"])
def test_deny_reaches_the_agent_on_a_full_or_read_only_filesystem(tmp_path, how):
    proj = project(tmp_path, DENY_RM + '[budget]\ntokens = 1000000\n')
    store = tmp_path / "store"
    store.mkdir()
    prep = f"mount -t tmpfs -o size=64k tmpfs {store} && mkdir -p {store}/sessions {store}/state && "
    if how == "full":
        prep += f"(head -c 1000000 /dev/zero > {store}/fill 2>/dev/null; true) && "
    else:
        prep += f"mount -o remount,ro {store} && "
    wrap = ["unshare", "-rm", "sh", "-c", prep + 'exec "$@"', "sh"]
    r = hook(payload(proj), store, proj, wrap)
    assert denied(r) and b"no deletes" in r.stdout, r
    assert b"Traceback" not in r.stderr
    r = hook(payload(proj, command="ls"), store, proj, wrap)
    assert r.returncode == 0 and r.stdout.strip() == b"", r  # budget counted from the (empty) log


def test_unreadable_payload_with_rules_denies(tmp_path, trace_dir):
    proj = project(tmp_path)
    for bad in (b"{not json", b"\xff\xfe", b"[1, 2]", b"{" * 50 + b'"a"'):
        r = hook(bad, trace_dir, proj)
        assert r.returncode == 2 and b"could not be read" in r.stderr, (bad, r)
    r = hook(b"{not json", trace_dir, tmp_path)  # no rules file: capture fails open
    assert r.returncode == 0 and r.stdout == b""


# -- the rules file is broken: deny, one line --------------------------------------------

BROKEN = {
    "non-utf8": b'[[deny]]\ncommands = ["rm\xff"]\n',
    "inf": b"[budget]\nusd = inf\n",
    "nan": b"[limits]\ntool_calls = nan\n",
    "huge duration": b'[limits]\nduration = "' + b"9" * 400 + b's"\n',
    "wrong type": b"[loop]\nthreshold = [1]\n",
    "table for a list": b"[deny]\npaths = 3\n",
    "deep": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "not toml": b"[[deny]\n",
    "empty key": b'[[deny]]\ntools = [""]\n',
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_rules_files_deny_with_one_line(tmp_path, trace_dir, name):
    proj = project(tmp_path, BROKEN[name])
    r = hook(payload(proj, command="ls"), trace_dir, proj)
    assert denied(r), (name, r)
    reason = json.loads(r.stdout)["hookSpecificOutput"]["permissionDecisionReason"]
    assert "rules file is broken" in reason and "\n" not in reason and b"Traceback" not in r.stderr
    c = run_cli("rules", "check", cwd=proj)
    assert c.returncode != 0 and c.stdout == b"" and b"Traceback" not in c.stderr
    assert len(c.stderr.decode().strip().splitlines()) == 1, c.stderr


def test_a_forged_rules_cache_is_not_trusted(tmp_path, trace_dir):
    proj = project(tmp_path)
    assert denied(hook(payload(proj), trace_dir, proj))
    cache = trace_dir / "state" / "rules-cache.json"
    rules = proj / ".agent-strace" / "rules.toml"
    st = os.stat(rules)
    empty = {"budget": None, "limits": None, "loop": None, "deny": [], "allow": [], "pause": None,
             "root": str(proj), "file": str(rules)}
    for key in (f"{os.path.abspath(rules)}|{st.st_size}|{st.st_mtime_ns}", json.loads(cache.read_text())["key"] + "x"):
        cache.write_text(json.dumps({"key": key, "policy": empty}))
        assert denied(hook(payload(proj), trace_dir, proj))
    # the same bytes again: the cache is used and agrees
    assert denied(hook(payload(proj), trace_dir, proj))


def test_a_corrupt_rule_state_is_rebuilt_not_trusted(tmp_path, trace_dir):
    proj = project(tmp_path, '[limits]\ntool_calls = 1\n')
    assert not denied(hook(payload(proj, command="ls"), trace_dir, proj))
    state = next((trace_dir / "state" / "rules").glob("*.json"))
    state.write_text(json.dumps({"policy": "x", "offset": "zz", "summary": [1]}))
    r = hook(payload(proj, command="ls", tool_use_id="toolu_2"), trace_dir, proj)  # a second call
    assert denied(r) and b"tool-call limit" in r.stdout, r


# -- hostile payloads --------------------------------------------------------------------

@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_tool_input_is_parsed_recorded_and_enforced(tmp_path, trace_dir, depth):
    proj = project(tmp_path)
    deep = '{"a":' * depth + "1" + "}" * depth
    data = payload(proj)[:-1] + b', "extra": ' + deep.encode() + b"}"
    r = hook(data, trace_dir, proj)
    assert denied(r) and b"no deletes" in r.stdout, r.stderr[-500:]
    stats = ReadStats()
    events = list(iter_events(Store(str(trace_dir)).path_for("s1"), stats))
    assert stats.corrupt == 0 and [e["type"] for e in events] == ["tool.call", "rule.decision"]
    assert any(c.get("nested") for c in events[0]["truncated"])
    assert events[0]["data"]["tool_input"] == {"command": "rm -rf /"}


def _in_process_hook(monkeypatch, capsys, data: bytes) -> tuple[int, str, str]:
    from agent_trace.cli import hook_cmds

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code = hook_cmds.hook_main(["pre-tool-use"])
    out = capsys.readouterr()
    return code, out.out, out.err


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3),
                           max_leaves=20)


@FAST
@given(extra=st.dictionaries(st.text(max_size=12), json_values, max_size=6), tool_input=json_values)
def test_any_payload_around_a_denied_command_is_denied(tmp_path_factory, monkeypatch, capsys, extra, tool_input):
    tmp = tmp_path_factory.mktemp("h")
    proj = project(tmp)
    monkeypatch.setenv("AGENT_TRACE_DIR", str(tmp / "store"))
    monkeypatch.chdir(proj)
    p = {**extra, "session_id": "s", "hook_event_name": "PreToolUse", "tool_name": "Bash", "cwd": str(proj),
         "tool_input": {"command": "rm -rf /tmp/x", "more": tool_input}}
    code, out, err = _in_process_hook(monkeypatch, capsys, json.dumps(p).encode())
    assert code == 0 and json.loads(out)["hookSpecificOutput"]["permissionDecision"] == "deny", err


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_on_stdin_never_let_a_guarded_call_through_silently(tmp_path_factory, monkeypatch, capsys, raw):
    tmp = tmp_path_factory.mktemp("h")
    proj = project(tmp, '[[deny]]\ntools = ["*"]\n')
    monkeypatch.setenv("AGENT_TRACE_DIR", str(tmp / "store"))
    monkeypatch.chdir(proj)
    code, out, err = _in_process_hook(monkeypatch, capsys, raw)
    assert "Traceback" not in err
    if code == 0:  # a payload that parsed: then it was judged, and every tool is denied
        assert json.loads(out)["hookSpecificOutput"]["permissionDecision"] == "deny"
    else:
        assert code == 2 and out == ""
