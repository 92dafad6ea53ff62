import json
import os

from agent_trace import __version__
from agent_trace import event as ev
from agent_trace.store.sink import FileSink
from agent_trace.store import Store

from conftest import run_cli


def seed(root, session="abc123", n=3):
    sink = FileSink(Store(str(root)))
    sink.emit(ev.make_event(ev.USER_PROMPT, session, "claude-code", data={"prompt": "hello"}))
    for i in range(n):
        sink.emit(ev.make_event(ev.TOOL_CALL, session, "claude-code", tool="Read", tool_use_id=f"t{i}"))


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.decode().strip() == f"agent-strace {__version__}"


def test_list_json_and_text(trace_dir):
    seed(trace_dir)
    r = run_cli("list", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows[0]["session"] == "abc123" and rows[0]["tool_calls"] == 3 and rows[0]["title"] == "hello"
    text = run_cli("list").stdout.decode()
    assert "abc123" in text and "hello" in text


def test_list_empty_store_is_fine(trace_dir):
    r = run_cli("list")
    assert r.returncode == 0 and b"no sessions" in r.stdout
    assert json.loads(run_cli("list", "--json").stdout) == []


def test_export_jsonl_one_event_per_line_and_json_array(trace_dir):
    seed(trace_dir)
    r = run_cli("export", "abc", "--format", "jsonl")
    lines = r.stdout.decode().splitlines()
    assert r.returncode == 0 and len(lines) == 4
    assert [json.loads(x)["type"] for x in lines] == ["user.prompt"] + ["tool.call"] * 3
    arr = json.loads(run_cli("export", "latest", "--format", "json").stdout)
    assert [e["id"] for e in arr] == [json.loads(x)["id"] for x in lines]


def test_inspect_by_prefix_and_latest(trace_dir):
    seed(trace_dir)
    a = json.loads(run_cli("inspect", "abc", "--json").stdout)
    b = json.loads(run_cli("inspect", "latest", "--json").stdout)
    assert a["session"] == b["session"] == "abc123" and a["events"] == 4
    assert b"tools     3 calls" in run_cli("inspect", "abc123").stdout


def test_unknown_and_ambiguous_sessions_exit_3_with_one_line(trace_dir):
    seed(trace_dir, "abc123")
    seed(trace_dir, "abd456")
    r = run_cli("inspect", "zzz")
    assert r.returncode == 3 and r.stderr.decode().count("\n") == 1 and b"no session matches" in r.stderr
    r = run_cli("export", "ab")
    assert r.returncode == 3 and b"matches 2 sessions" in r.stderr


def test_bad_arguments_exit_2_with_one_line():
    for args in (["nosuchcommand"], ["export", "x", "--format", "xml"], ["--bogus"], ["list", "--limit", "x"]):
        r = run_cli(*args)
        assert r.returncode == 2, args
        assert len(r.stderr.decode().strip().splitlines()) == 1, r.stderr


def test_unreadable_store_exits_1(tmp_path):
    bad = tmp_path / "file-not-dir"
    bad.write_text("x")
    r = run_cli("--trace-dir", str(bad), "list")
    assert r.returncode == 1 and b"cannot read store" in r.stderr


def test_trace_dir_flag_after_command(tmp_path):
    other = tmp_path / "other"
    seed(other, "zz1")
    r = run_cli("list", "--json", "--trace-dir", str(other))
    assert [row["session"] for row in json.loads(r.stdout)] == ["zz1"]


def test_reading_cli_does_not_import_other_command_families():
    code = (
        "import sys; from agent_trace.cli import main; main(['list', '--json']);"
        "bad = [m for m in sys.modules if m.startswith('agent_trace.cli.') and m not in "
        "('agent_trace.cli.store_cmds', 'agent_trace.cli.parsing')]; print(bad)"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out


def test_hook_path_imports_no_argparse_or_readers(trace_dir):
    import subprocess
    import sys

    code = (
        "import sys, io;"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(b'{\"session_id\":\"s\",\"hook_event_name\":\"PreToolUse\","
        "\"tool_use_id\":\"t1\"}'));"
        "from agent_trace.cli import main; main(['hook']);"
        "print(sorted(m for m in ('argparse','re','json','dataclasses','uuid','datetime','hashlib',"
        "'agent_trace.analysis.summary','agent_trace.store.reader') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "AGENT_TRACE_DIR": str(trace_dir)})
    assert out.stdout.strip() == "[]", out


def test_list_on_an_empty_store_names_the_store(trace_dir):
    r = run_cli("list")
    assert r.returncode == 0 and str(trace_dir).encode() in r.stdout and b"agent-strace setup" in r.stdout


def test_watch_with_no_session_says_it_is_waiting(trace_dir):
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-m", "agent_trace", "watch"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        first = p.stdout.readline()
    finally:
        p.kill()
        p.wait()
    assert first.startswith(b"waiting for a session to start or resume in ") and str(trace_dir).encode() in first
