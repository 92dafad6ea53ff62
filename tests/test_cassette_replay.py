"""Replay servers and cassette tools, with real peers: a real Claude Code
run recorded through ``run``, replayed offline against ``serve --llm`` in
another folder, by a newer Claude Code, with a changed prompt (the error),
and forked onto a live scripted model then graded and compared; the openai
SDK against ``serve --llm``, the MCP SDK client against ``serve --mcp``;
``cassette from-session`` and ``diff``."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from types import SimpleNamespace

import pytest
from conftest import read_session, run_cli
from support.anthropic_stub import Stub
from support.claude_code import NEXT_VERSION, VERSION, claude_bin, claude_env, run_claude
from support.openai_stub import OpenAIStub
from support.processes import Background, free_port, wait_port

from agent_trace import event as ev
from agent_trace.cassette import use_cassette

openai = pytest.importorskip("openai", reason="the openai SDK is in the [dev] extra")
PROMPT = "write the notes and show them"
KEY = "sk-test-not-a-real-key-000000000000"


def _tool_uses(trace_dir, session) -> list:
    out = []
    for e in read_session(trace_dir, session):
        if e["type"] == ev.LLM_RESPONSE and e["source"] == "llm-proxy":
            msg = e["data"].get("message") or e["data"].get("body") or {}
            out += [(b["name"], b["input"]) for b in msg.get("content", []) if b.get("type") == "tool_use"]
    return out


def _claude_under_run(project, home, base_url, trace_dir, version=VERSION, prompt=PROMPT, check=True):
    env = claude_env(home, base_url, {"AGENT_TRACE_DIR": str(trace_dir)})
    r = subprocess.run([sys.executable, "-m", "agent_trace", "run", "--", claude_bin(version), "-p", prompt,
                        "--output-format", "json", "--allowedTools", "Write,Bash"],
                       cwd=project, env=env, capture_output=True, timeout=180)
    if check:
        assert r.returncode == 0, r.stderr[-2000:]
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise AssertionError(f"claude exited {r.returncode}: {r.stdout[-1000:]!r} {r.stderr[-1000:]!r}") from None


def _scripted(project):
    notes = project / "notes.txt"
    return {PROMPT: [[{"tool": "Write", "input": {"file_path": str(notes), "content": "replayed line\n"}}],
                     [{"tool": "Bash", "input": {"command": "cat notes.txt", "description": "show"}}],
                     [{"text": f"All done: {notes} says 'replayed line'."}]]}


def _folders(base, who):
    project, home = base / who / "checkout" / "proj", base / who / "home"
    project.mkdir(parents=True)
    home.mkdir()
    return project, home


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One real Claude Code run through `agent-strace run` against the
    scripted API, in alice's folder, turned into a cassette."""
    base = tmp_path_factory.mktemp("recorded")
    project, home = _folders(base, "alice")
    trace = base / "t-alice"
    with Stub(_scripted(project)) as stub:
        first = _claude_under_run(project, home, stub.url, trace)
    cassette = base / "claude.json"
    r = run_cli("--trace-dir", str(trace), "cassette", "from-session", first["session_id"], "-o", str(cassette))
    assert r.returncode == 0, r.stderr
    assert f"workspace {project}".encode() in r.stdout
    (project / "notes.txt").unlink()  # a replay elsewhere must not write here
    return SimpleNamespace(base=base, project=project, home=home, trace=trace, session=first["session_id"],
                           result=first["result"], tools=_tool_uses(trace, first["session_id"]), cassette=cassette)


class _Serve(Background):
    def __init__(self, *args, trace_dir=None):
        self.port = free_port()
        self.err = tempfile.TemporaryFile()
        pre = ["--trace-dir", str(trace_dir)] if trace_dir else []
        super().__init__([sys.executable, "-m", "agent_trace", *pre, "serve", "--port", str(self.port), *args],
                         stderr=self.err)
        wait_port(self.port, proc=self.proc)
        self.url = f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        self.err.seek(0)
        return self.err.read().decode()


def test_real_claude_code_replays_offline_in_another_folder(recorded, tmp_path):
    assert [t[0] for t in recorded.tools] == ["Write", "Bash"]
    doc = json.loads(recorded.cassette.read_text())
    assert doc["workspace"] == {"root": str(recorded.project), "home": str(recorded.home)}
    assert "sk-ant-test-dummy" not in recorded.cassette.read_text()
    project, home = _folders(tmp_path, "bob")  # another user's clone: other paths, other home
    with _Serve("--llm", str(recorded.cassette), "--strict") as srv:  # the scripted API is gone
        second = _claude_under_run(project, home, srv.url, tmp_path / "t-bob")
        with urllib.request.urlopen(f"{srv.url}/healthz", timeout=5) as resp:
            health = json.loads(resp.read())
    assert second["result"] == recorded.result.replace(str(recorded.project), str(project))
    tools = _tool_uses(tmp_path / "t-bob", second["session_id"])
    assert tools == [("Write", {"file_path": str(project / "notes.txt"), "content": "replayed line\n"}),
                     recorded.tools[1]]
    assert (project / "notes.txt").read_text() == "replayed line\n"  # the replayed calls ran, in bob's folder
    assert not (recorded.project / "notes.txt").exists()
    assert health["unplayed"] == 0
    assert "matches no recording" not in srv.stderr()


def test_a_newer_claude_code_replays_a_cassette_recorded_with_the_older(recorded, tmp_path):
    project, home = _folders(tmp_path, "carol")
    with _Serve("--llm", str(recorded.cassette), "--strict") as srv:
        out = _claude_under_run(project, home, srv.url, tmp_path / "t-carol", version=NEXT_VERSION)
    assert out["result"] == recorded.result.replace(str(recorded.project), str(project))
    assert (project / "notes.txt").read_text() == "replayed line\n"
    log = srv.stderr()
    # its system prompt and tool schemas differ from the recording; its decisions do not
    assert "the agent's decisions are the same; tolerated changes: system prompt" in log, log
    assert "matches no recording" not in log


def test_strict_replay_of_a_changed_run_says_which_request_changed_and_how(recorded, tmp_path):
    project, home = _folders(tmp_path, "dave")
    with _Serve("--llm", str(recorded.cassette), "--strict") as srv:
        out = _claude_under_run(project, home, srv.url, tmp_path / "t-dave", prompt=PROMPT + " twice", check=False)
    log = srv.stderr()
    # every request is refused (Claude Code retries a 400 with a lighter request, then gives up)
    assert "plays recording" not in log and "played 0 of 3 recordings" in log, log
    assert "call #1 POST /v1/messages matches no recording" in log
    assert f"first difference at conversation.turns.0.text (user text): recorded {PROMPT} / now {PROMPT} twice" \
        in log, log
    # and the agent shows it to its user
    assert out.get("api_error_status") == 400 and "first difference at conversation.turns.0.text" in out["result"]
    assert not (project / "notes.txt").exists()


def test_real_claude_code_forks_onto_a_live_model_and_both_runs_are_graded(recorded, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(recorded.trace, store)  # the recorded session and the fork side by side
    project, home = _folders(tmp_path, "erin")
    live_steps = {PROMPT: [[{"text": "not asked: the first call is played from the cassette"}],
                           [{"tool": "Bash", "input": {"command": "echo forked >> notes.txt && cat notes.txt",
                                                       "description": "go on differently"}}],
                           [{"text": "Forked run done."}]]}
    new_cassette = tmp_path / "forked.json"
    with Stub(live_steps, first_id=500) as live:
        with _Serve("--llm", str(recorded.cassette), "--fork-at", "1", "--upstream", live.url, "--session",
                    "forked-run", "--record", str(new_cassette), trace_dir=store) as srv:
            out = run_claude(project, home, srv.url, PROMPT, "Write,Bash")
            srv.stop()
        live_requests = list(live.requests)
    assert out["_returncode"] == 0 and out["result"] == "Forked run done.", out
    assert (project / "notes.txt").read_text() == "replayed line\nforked\n"
    assert len(live_requests) == 2  # calls 2 and 3; call 1 came from the cassette
    sent = live_requests[0]["body"]["messages"]
    assert any(b.get("type") == "tool_use" and b["id"] == "toolu_stub00001" and
               b["input"] == {"file_path": str(project / "notes.txt"), "content": "replayed line\n"}
               for m in sent if isinstance(m["content"], list) for b in m["content"])
    assert "forked at call #1" not in srv.stderr() and "forked at call #2" in srv.stderr()

    # the new cassette: the played call as played (in erin's folder), then the live ones
    doc = json.loads(new_cassette.read_text())
    assert doc["workspace"]["root"] == str(project) and len(doc["entries"]) == 3
    played = "".join(doc["entries"][0]["response"]["stream"])
    assert '"name": "Write"' in played and str(recorded.project) not in played
    assert "toolu_stub0050" in "".join(doc["entries"][1]["response"]["stream"])

    # the new session: every call, the played one marked, opened by the fork note
    events = read_session(store, "forked-run")
    assert events[0]["type"] == ev.ANNOTATION and events[0]["name"] == "fork"
    assert events[0]["data"]["fork_at"] == "1" and events[0]["data"]["upstream"] == live.url
    reqs = [e for e in events if e["type"] == ev.LLM_REQUEST]
    assert len(reqs) == 3 and reqs[0]["data"]["replayed_from"] == str(recorded.cassette)
    assert all("replayed_from" not in e["data"] for e in reqs[1:])
    assert reqs[0]["data"]["cwd"] == str(project)

    # grade both runs with one verify command, in each run's own folder
    (recorded.project / "notes.txt").write_text("replayed line\n")  # what the recorded run left there
    check = 'test "$(cat notes.txt)" = "replayed line"'
    r = run_cli("--trace-dir", str(store), "grade", recorded.session, "--verify", check)
    assert r.returncode == 0 and b"grade: PASS" in r.stdout, r.stdout + r.stderr
    r = run_cli("--trace-dir", str(store), "grade", "forked-run", "--verify", check)
    assert r.returncode == 4 and b"grade: FAIL (exit 1)" in r.stdout, r.stdout + r.stderr
    grade = [e for e in read_session(store, "forked-run") if e["type"] == ev.ANNOTATION][-1]
    assert grade["name"] == "grade" and grade["status"] == "error"
    assert grade["data"]["cwd"] == str(project) and grade["data"]["exit_code"] == 1

    r = run_cli("--trace-dir", str(store), "compare", recorded.session, "forked-run", "--json")
    cmp = json.loads(r.stdout)
    assert cmp["verdict"] == "regressed" and cmp["reasons"][0] == f"`{check}`: PASS -> FAIL (exit 1)"
    assert [g["passed"] for g in cmp["grades"]["a"]] == [True] and [g["passed"] for g in cmp["grades"]["b"]] == [False]
    assert cmp["sequences"] == {"a": ["Write", "Bash"], "b": ["Write", "Bash"]}
    assert cmp["files"]["changed_only_a"] == cmp["files"]["changed_only_b"] == []  # notes.txt in both folders
    assert cmp["forks"]["b"]["fork_at"] == "1" and cmp["forks"]["a"] is None
    r = run_cli("--trace-dir", str(store), "compare", recorded.session, "forked-run")
    assert b"FAIL (exit 1)" in r.stdout and b"B is a fork of" in r.stdout and b"verdict: REGRESSED" in r.stdout


def test_openai_sdk_against_serve_llm_streams_and_all(tmp_path):
    cassette = tmp_path / "oa.json"

    def calls(url):
        c = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
        one = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "a"}])
        two = [x.model_dump() for x in c.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "b"}], stream=True,
            stream_options={"include_usage": True})]
        return one.model_dump(), two

    with OpenAIStub() as up, use_cassette(cassette):
        live = calls(up.url)
    port = free_port()
    with Background([sys.executable, "-m", "agent_trace", "serve", "--llm", str(cassette), "--port", str(port),
                     "--strict"]) as srv:
        wait_port(port, proc=srv.proc)
        assert calls(f"http://127.0.0.1:{port}/v1") == live
        c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0)
        with pytest.raises(openai.APIStatusError) as err:  # strict: a new call is an error naming the closest
            c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "zzz"}])
        assert err.value.status_code == 400 and "already played" in str(err.value)


def test_mcp_session_from_the_proxy_replays_with_serve_mcp(tmp_path):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    server = [sys.executable, str(os.path.join(os.path.dirname(__file__), "support", "mcp_echo_server.py"))]
    store = tmp_path / "st"

    async def session(cmd, args):
        params = StdioServerParameters(command=cmd, args=args, env={**os.environ, "AGENT_TRACE_DIR": str(store)})
        async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            tools = sorted(t.name for t in (await s.list_tools()).tools)
            ok = (await s.call_tool("echo", {"text": "hello"})).content[0].text
            bad = await s.call_tool("fail", {"reason": "no"})
            bad_flag = getattr(bad, "is_error", None)
            return tools, ok, bool(bad.isError if bad_flag is None else bad_flag), bad.content[0].text

    live = asyncio.run(session(sys.executable, ["-m", "agent_trace", "record", "--session", "mcp-rec", "--",
                                                *server]))
    cassette = tmp_path / "mcp.json"
    r = run_cli("--trace-dir", str(store), "cassette", "from-session", "mcp-rec", "-o", str(cassette))
    assert r.returncode == 0, r.stderr
    replayed = asyncio.run(session(sys.executable, ["-m", "agent_trace", "serve", "--mcp", str(cassette)]))
    assert replayed == live and live[1] == "HELLO" and live[2] is True


def test_cassette_diff_shows_new_dropped_changed_and_tokens(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"

    def chat(url, *texts):
        c = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
        for t in texts:
            c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": t}])

    with OpenAIStub() as up:
        with use_cassette(a):
            chat(up.url, "one", "two")
        with use_cassette(b):
            chat(up.url, "one", "TWO", "three")
    r = run_cli("cassette", "diff", str(a), str(b), "--json")
    out = json.loads(r.stdout)
    assert out["same"] == 1 and len(out["changed"]) == 1 and len(out["new"]) == 1 and out["dropped"] == []
    assert "TWO" in out["changed"][0]["b"]
    assert out["token_delta"] == {"cache_read": 20, "input": 100, "output": 30}
    r = run_cli("cassette", "diff", str(a), str(b), "--fail-on-change")
    assert r.returncode == 4 and b"~ changed" in r.stdout and b"+ new" in r.stdout and b"tokens:" in r.stdout
    assert run_cli("cassette", "diff", str(a), str(a), "--fail-on-change").returncode == 0
    r = run_cli("cassette", "diff", str(a), str(tmp_path / "missing.json"))
    assert r.returncode == 2 and b"no such cassette" in r.stderr


def test_sdk_session_becomes_a_cassette_of_function_calls(tmp_path, trace_dir):
    from agent_trace.cassette import replay
    from agent_trace.sdk import session, trace_tool

    runs = []

    @trace_tool(name="lookup")
    def lookup(city: str) -> dict:
        runs.append(city)
        if city == "Atlantis":
            raise LookupError("no such city")
        return {"city": city, "temp": 21}

    with session("sdk-run", session_id="sdk-run"):
        lookup("Paris")
        with pytest.raises(LookupError):
            lookup("Atlantis")
    cassette = tmp_path / "sdk.json"
    r = run_cli("cassette", "from-session", "sdk-run", "-o", str(cassette))
    assert r.returncode == 0, r.stderr
    assert b"2 function" in r.stdout
    runs.clear()
    with replay(cassette):
        assert lookup("Paris") == {"city": "Paris", "temp": 21}
        with pytest.raises(LookupError, match="no such city"):
            lookup("Atlantis")
    assert runs == []
