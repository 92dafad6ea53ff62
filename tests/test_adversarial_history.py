"""Hostile input on the whole-history surfaces: ``import --all`` / ``import
PATH`` over a fake HOME, ``usage``, ``search``, ``statusline`` and ``prices
update``.

What every test holds the CLI to (the project's standards): bad input costs a
clear one-line message and nothing else; readers skip and count what they
cannot use and never print a Python traceback; capture never hangs; memory
stays flat (an import well under ~300 MB even with a huge line); no secret
reaches anything under the user's data folder.

Every command runs as a real process (``python -m agent_trace`` through a
small wrapper that reports the process's peak memory), with HOME and
XDG_DATA_HOME in the test's own folder.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

MAIN = FIXTURES / "transcript-main.jsonl"
LINES = MAIN.read_text().splitlines()
CODEX_FIX = Path(__file__).parent / "fixtures" / "codex-0.171" / "rollout.jsonl"
GEMINI_FIX = Path(__file__).parent / "fixtures" / "gemini-0.61" / "chat-session.jsonl"
CODEX_SESSION = "01a2333f-e54c-7d01-9642-0ad828850087"
GEMINI_SESSION = "ea217351-26f1-4feb-8237-aa819df95b8b"
OLD = 1_700_000_000  # long finished: imported to the end
MB = 1 << 20
FLAT_KB = 300 * 1024  # "an import stays well under ~300 MB"

# The fixture's lines by role (indexes into LINES)
FIRST_PROMPT, FIRST_TOOL_USE, FIRST_TOOL_RESULT, LAST_PROMPT, LAST_ASSISTANT, LAST_SYSTEM = 2, 18, 21, 55, 58, 59

# Runs the CLI and reports the process's peak RSS on stderr (last line).
_WRAPPER = (
    "import atexit, resource, runpy, sys\n"
    "atexit.register(lambda: sys.stderr.write('\\nMAXRSS_KB=%d\\n' % "
    "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    "sys.argv = ['agent-strace'] + sys.argv[1:]\n"
    "runpy.run_module('agent_trace', run_name='__main__', alter_sys=True)\n"
)


class Result:
    def __init__(self, rc: int, out: str, err: str, rss_kb: int):
        self.rc, self.out, self.err, self.rss_kb = rc, out, err, rss_kb

    def json(self):
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"Result(rc={self.rc}, rss={self.rss_kb} KB, out={self.out[-800:]!r}, err={self.err[-1500:]!r})"


def mutate(idx: int, path: tuple, raw: str, lines=LINES) -> list[str]:
    """The fixture with one value of line ``idx`` replaced by the raw JSON text ``raw``."""
    entry = json.loads(lines[idx])
    obj = entry
    for k in path[:-1]:
        obj = obj[k]
    obj[path[-1]] = "\x00HOLE\x00"
    line = json.dumps(entry, separators=(",", ":")).replace(json.dumps("\x00HOLE\x00"), raw)
    return lines[:idx] + [line] + lines[idx + 1:]


class Home:
    """A fake HOME with agent logs, and the user data folder the CLI writes."""

    def __init__(self, base: Path):
        self.base = base
        self.home = base / "home"
        self.xdg = base / "xdg"
        self.config = base / "config"
        self.home.mkdir(parents=True, exist_ok=True)

    @property
    def history(self) -> Path:
        return self.xdg / "agent-strace" / "history"

    def claude(self, name: str, lines: list[str] | bytes, project: str = "-w-demo") -> Path:
        folder = self.home / ".claude" / "projects" / project
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode())
        os.utime(path, (OLD, OLD))
        return path

    def subagent(self, session: str, agent: str, lines: list[str], meta: bytes | None = None,
                 project: str = "-w-demo") -> Path:
        folder = self.home / ".claude" / "projects" / project / session / "subagents"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"agent-{agent}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        os.utime(path, (OLD, OLD))
        if meta is not None:
            (folder / f"agent-{agent}.meta.json").write_bytes(meta)
        return path

    def codex(self, text: str, name: str = f"rollout-2026-12-01T20-15-55-{CODEX_SESSION}.jsonl") -> Path:
        folder = self.home / ".codex" / "sessions" / "2026" / "12" / "01"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(text)
        os.utime(path, (OLD, OLD))
        return path

    def gemini(self, text: str, name: str = "session-2026-12-01T20-16-ea217351.jsonl") -> Path:
        folder = self.home / ".gemini" / "tmp" / "proj" / "chats"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(text)
        os.utime(path, (OLD, OLD))
        return path

    def env(self, store: bool = False, **extra) -> dict:
        env = dict(os.environ)
        for k in ("AGENT_TRACE_DIR", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "AGENT_TRACE_HISTORY", "AGENT_TRACE_PRICES",
                  "AGENT_TRACE_MAX_FIELD"):
            env.pop(k, None)
        env.update(HOME=str(self.home), XDG_DATA_HOME=str(self.xdg), XDG_CONFIG_HOME=str(self.config))
        if store:
            env["AGENT_TRACE_DIR"] = str(self.history)
        env.update(extra)
        return env

    def cli(self, *args: str, input: bytes | None = None, timeout: float = 60, store: bool = False,
            max_memory: int | None = None, **extra_env) -> Result:
        """Run the CLI; ``store``: the history store is the current store;
        ``max_memory``: an address-space limit (bytes), so a runaway read fails
        instead of taking the machine down."""
        if args and args[0] == "statusline":
            self.no_background_refresh()

        def limit():
            if max_memory:
                resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))

        try:
            p = subprocess.run([sys.executable, "-c", _WRAPPER, *args], input=input, capture_output=True,
                               env=self.env(store, **extra_env), cwd=str(self.base), timeout=timeout,
                               preexec_fn=limit)
        except subprocess.TimeoutExpired:
            pytest.fail(f"agent-strace {' '.join(a[:40] for a in args)} hung (no answer in {timeout}s)")
        err = p.stderr.decode("utf-8", "replace")
        rss = 0
        if "MAXRSS_KB=" in err:
            err, _, tail = err.rpartition("\nMAXRSS_KB=")
            rss = int(tail.strip())
        return Result(p.returncode, p.stdout.decode("utf-8", "replace"), err, rss)

    def no_background_refresh(self) -> None:
        """The status line starts ``statusline --refresh`` in the background
        when its figures are old; a fresh spawn marker keeps it from doing so
        (no detached process outlives a test)."""
        d = self.xdg / "agent-strace"
        d.mkdir(parents=True, exist_ok=True)
        (d / "statusline.spawn").touch()

    def data_files(self):
        for root, dirs, files in os.walk(self.xdg):
            for n in dirs + files:
                yield os.path.join(root, n)

    def leaks(self, *needles: str) -> list[str]:
        """Files (or file names) under the data folder holding one of ``needles``."""
        hits = []
        for path in self.data_files():
            if any(n in os.path.basename(path) for n in needles):
                hits.append(f"name: {path}")
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    data = f.read()
                hits += [f"{n[:12]}... in {path}" for n in needles if n.encode() in data]
        return hits


@pytest.fixture
def home(tmp_path):
    return Home(tmp_path)


def clean(r: Result) -> None:
    """No traceback; a failure says one line."""
    assert "Traceback" not in r.err, r
    if r.rc not in (0,):
        assert len(r.err.strip().splitlines()) == 1, r


def imported(r: Result) -> dict:
    clean(r)
    assert r.rc == 0, r
    totals = r.json()
    assert "not imported" not in r.err, r
    return totals


def readers_work(home: Home, *extra: list[str]) -> None:
    """Every reader over the history store answers without a traceback."""
    for cmd in (["usage", "daily"], ["usage", "session", "--json"], ["usage", "blocks"], ["list"],
                ["search", "file"], *extra):
        r = home.cli(*cmd, store=True)
        clean(r)
        assert r.rc == 0, (cmd, r)


def session_events(home: Home, name: str = "s1") -> list[dict]:
    out = []
    with open(home.history / "sessions" / f"{name}.jsonl", "rb") as f:
        for line in f:
            out.append(json.loads(line))
    return out


def secret_strings() -> dict[str, str]:
    rnd = random.Random(20261202)

    def rs(n, alphabet=string.ascii_letters + string.digits):
        return "".join(rnd.choice(alphabet) for _ in range(n))

    return {"anthropic": "sk-ant-api03-" + rs(60), "aws": "AKIA" + rs(16, string.ascii_uppercase + string.digits),
            "github": "ghp_" + rs(36), "password": "hunter2xyz" + rs(8), "url": "s3cr3tPass" + rs(8)}


# -- import: wrong-typed and hostile values in Claude Code transcripts ------------------------------

WRONG_TYPED = [
    # (id, line, path, raw JSON): every one of these is one bad value in one line of a good transcript
    ("type-list", FIRST_PROMPT, ("type",), "[1]"),
    ("type-object", FIRST_TOOL_USE, ("type",), '{"a":1}'),
    ("tool-name-list", FIRST_TOOL_USE, ("message", "content", 0, "name"), "[1]"),
    ("tool-name-number", FIRST_TOOL_USE, ("message", "content", 0, "name"), "5"),
    ("tool-name-object", FIRST_TOOL_USE, ("message", "content", 0, "name"), '{"a":null}'),
    ("tokens-10**400", FIRST_TOOL_USE, ("message", "usage", "input_tokens"), "1" + "0" * 400),
    ("tool-id-lone-surrogate", FIRST_TOOL_USE, ("message", "content", 0, "id"), '"\\ud800"'),
    ("prompt-id-lone-surrogate", LAST_PROMPT, ("promptId",), '"\\udc00"'),
    ("timestamp-lone-surrogate", LAST_SYSTEM, ("timestamp",), '"\\ud800"'),
    ("model-lone-surrogate", FIRST_TOOL_USE, ("message", "model"), '"\\ud800"'),
    ("cwd-lone-surrogate", FIRST_PROMPT, ("cwd",), '"\\ud800"'),
    # these already cost only their line (kept as regressions)
    ("message-null", FIRST_TOOL_USE, ("message",), "null"),
    ("content-number", FIRST_PROMPT, ("message", "content"), "5"),
    ("content-nested-lists", FIRST_PROMPT, ("message", "content"), "[[[]],{},null,1e999]"),
    ("usage-string", FIRST_TOOL_USE, ("message", "usage"), '"lots"'),
    ("tokens-nan", FIRST_TOOL_USE, ("message", "usage", "output_tokens"), "NaN"),
    ("tokens-negative-float", FIRST_TOOL_USE, ("message", "usage", "output_tokens"), "-1e308"),
    ("timestamp-list", FIRST_PROMPT, ("timestamp",), "[1]"),
    ("tool-input-infinity", FIRST_TOOL_USE, ("message", "content", 0, "input"), "-Infinity"),
    ("result-is-error-string", FIRST_TOOL_RESULT, ("message", "content", 0, "is_error"), '"yes"'),
    ("result-content-nul", FIRST_TOOL_RESULT, ("message", "content", 0, "content"), '"a\\u0000b"'),
    ("stop-reason-dict", FIRST_TOOL_USE, ("message", "stop_reason"), '{"x":1}'),
    ("compact-metadata-list", LAST_SYSTEM, ("compactMetadata",), "[1]"),
]


@pytest.mark.parametrize("idx,path,raw", [pytest.param(*c[1:], id=c[0]) for c in WRONG_TYPED])
def test_a_wrong_typed_value_costs_its_line_never_the_log_nor_the_readers(home, idx, path, raw):
    home.claude("s1.jsonl", mutate(idx, path, raw))
    totals = imported(home.cli("import", "--all", "--json"))
    assert totals["files"] == 1 and totals["failed"] == 0, totals
    assert totals["events"] >= 25, totals  # the rest of the session is there
    again = imported(home.cli("import", "--all", "--json"))
    assert again["unchanged"] == 1, again  # done once, not failing again on every run
    readers_work(home)


GEMINI_LINES = GEMINI_FIX.read_text().splitlines()
CODEX_LINES = CODEX_FIX.read_text().splitlines()
OTHER_AGENTS = [
    ("gemini-toolCalls-number", "gemini", 6, ("toolCalls",), "5"),
    ("gemini-toolCalls-true", "gemini", 6, ("toolCalls",), "true"),
    ("gemini-functionResponse-string", "gemini", 6, ("toolCalls", 0, "result", 0, "functionResponse"), '"x"'),
    ("gemini-functionResponse-list", "gemini", 6, ("toolCalls", 0, "result", 0, "functionResponse"), "[1]"),
    ("gemini-tokens-10**400", "gemini", 4, ("tokens", "input"), "1" + "0" * 400),
    ("gemini-model-lone-surrogate", "gemini", 4, ("model",), '"\\ud800"'),
    ("codex-tokens-10**400", "codex", 10, ("payload", "usage", "input_tokens"), "1" + "0" * 400),
    ("codex-model-lone-surrogate", "codex", 5, ("payload", "model"), '"\\ud800"'),
    ("codex-cwd-lone-surrogate", "codex", 0, ("payload", "cwd"), '"\\ud800"'),
    # already fine (regressions)
    ("gemini-toolCalls-string", "gemini", 6, ("toolCalls",), '"abc"'),
    ("gemini-tokens-string", "gemini", 4, ("tokens",), '"many"'),
    ("codex-payload-list", "codex", 10, ("payload",), "[1]"),
    ("codex-arguments-not-json", "codex", 9, ("payload", "arguments"), '"{oops"'),
]


@pytest.mark.parametrize("agent,idx,path,raw", [pytest.param(*c[1:], id=c[0]) for c in OTHER_AGENTS])
def test_a_wrong_typed_value_in_a_codex_or_gemini_log_costs_its_line(home, agent, idx, path, raw):
    if agent == "gemini":
        home.gemini("\n".join(mutate(idx, path, raw, GEMINI_LINES)) + "\n")
    else:
        home.codex("\n".join(mutate(idx, path, raw, CODEX_LINES)) + "\n")
    totals = imported(home.cli("import", "--all", "--json"))
    assert totals["files"] == 1 and totals["failed"] == 0 and totals["events"] >= 5, totals
    readers_work(home)


def test_a_line_nested_10k_deep_is_skipped_as_corrupt(home):
    deep = '{"type":"user","message":{"role":"user","content":' + "[" * 10000 + "]" * 10000 + "}}"
    home.claude("s1.jsonl", LINES[:5] + [deep] + LINES[5:])
    totals = imported(home.cli("import", "--all", "--json"))
    assert totals["files"] == 1 and totals["events"] >= 29 and totals["skipped"]["corrupt"] == 1, totals


def test_damaged_bytes_are_skipped_and_counted(home):
    raw = "\r\n".join(LINES[:10]).encode() + b"\r\n"  # CRLF
    raw += b'{"type":"user","message":{"role":"user","content":"a\x00b"}}\n'  # raw NUL: not JSON
    raw += b"\x00\x00\x00\n"
    raw += b'{"type":"user","message":{"role":"user","content":"bad \xff\xfe \xc3"}}\n'  # not UTF-8
    raw += ("\n".join(LINES[10:]) + "\n").encode()
    raw += b'{"type":"user","message":{"role":"us'  # torn by a crash
    home.claude("s1.jsonl", raw)
    totals = imported(home.cli("import", "--all", "--json"))
    assert totals["events"] == 29 and totals["skipped"] == {"corrupt": 3, "torn": 1, "unknown": 0}, totals
    readers_work(home)


def test_text_that_is_not_valid_unicode_prints_everywhere(home):
    home.claude("s1.jsonl", mutate(FIRST_PROMPT, ("message", "content"), '"findme \\ud800 and \\udcff"'))
    imported(home.cli("import", "--all", "--json"))
    for cmd in (["search", "findme"], ["list"], ["replay", "s1"], ["search", "findme", "--json"]):
        r = home.cli(*cmd, store=True)
        clean(r)
        assert r.rc == 0 and "findme" in r.out or cmd[0] == "list" and r.rc == 0, (cmd, r)


def test_a_log_folder_whose_name_is_not_utf8(home):
    folder = os.path.join(bytes(home.home), b".claude/projects/-w-caf\xe9")
    os.makedirs(folder)
    for name in (b"s\xfe1.jsonl", b"good.jsonl"):
        p = os.path.join(folder, name)
        with open(p, "w") as f:
            f.write("\n".join(LINES) + "\n")
        os.utime(p, (OLD, OLD))
    totals = imported(home.cli("import", "--all", "--json"))
    assert totals["files"] == 2 and totals["failed"] == 0, totals
    assert imported(home.cli("import", "--all", "--json"))["unchanged"] == 2
    readers_work(home)
    leftovers = [p for p in home.data_files() if p.endswith(".tmp")]
    assert not leftovers, leftovers


@pytest.mark.parametrize("newline", [True, False], ids=["line-with-newline", "last-line-without-newline"])
def test_a_150mb_line_keeps_import_memory_flat(home, newline):
    path = home.claude("s1.jsonl", LINES)
    with open(path, "ab") as f:
        f.write(b'{"type":"user","promptId":"pbig","message":{"role":"user","content":"')
        chunk = b"abcdefghij" * (MB // 10)
        for _ in range(150):
            f.write(chunk)
        if newline:
            f.write(b'"}}\n')
            f.write(("\n".join(LINES[2:4]) + "\n").encode())
    os.utime(path, (OLD, OLD))
    r = home.cli("import", "--all", "--json", "-j", "1", timeout=120)
    totals = imported(r)
    assert totals["events"] >= 29, totals
    assert r.rss_kb < FLAT_KB, f"peak memory {r.rss_kb // 1024} MB importing a 150 MB line"


def test_session_end_is_kept_when_a_read_chunk_ends_at_the_last_line(home):
    # a transcript is read 32 MiB at a time; here the chunk's last line is the file's last line
    home.claude("s1.jsonl", LINES + ['{"type":"user","promptId":"p-last","message":{"role":"user","content":"'
                                     + "a" * (34 * MB) + '"}}'])
    imported(home.cli("import", "--all", "--json", timeout=120))
    types = [e["type"] for e in session_events(home)]
    assert "session.end" in types, types[-5:]


FIFO_PLACES = {
    "claude-main": lambda h: h.home / ".claude" / "projects" / "-w-demo" / "fifo.jsonl",
    "claude-subagent": lambda h: h.home / ".claude" / "projects" / "-w-demo" / "s1" / "subagents" / "agent-f.jsonl",
    "codex-rollout": lambda h: h.home / ".codex" / "sessions" / "2026" / "rollout-fifo.jsonl",
    "gemini-chat": lambda h: h.home / ".gemini" / "tmp" / "proj" / "chats" / "session-fifo.jsonl",
}


@pytest.mark.parametrize("where", list(FIFO_PLACES))
def test_a_fifo_where_a_log_goes_never_hangs_the_import(home, where):
    home.claude("s1.jsonl", LINES)
    fifo = FIFO_PLACES[where](home)
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    totals = imported(home.cli("import", "--all", "--json", timeout=6))
    assert totals["events"] >= 29, totals


def test_a_fifo_as_a_subagents_meta_never_hangs_the_import(home):
    home.claude("s1.jsonl", LINES)
    home.subagent("s1", "a1", LINES[2:20])
    os.mkfifo(home.home / ".claude" / "projects" / "-w-demo" / "s1" / "subagents" / "agent-a1.meta.json")
    totals = imported(home.cli("import", "--all", "--json", timeout=6))
    assert totals["files"] == 2, totals


def test_a_device_as_a_subagents_meta_is_not_read_without_end(home):
    home.claude("s1.jsonl", LINES)
    home.subagent("s1", "a1", LINES[2:20])
    os.symlink("/dev/zero", home.home / ".claude" / "projects" / "-w-demo" / "s1" / "subagents" / "agent-a1.meta.json")
    r = home.cli("import", "--all", "--json", timeout=30, max_memory=1 << 30)
    totals = imported(r)
    assert totals["files"] == 2 and totals["failed"] == 0, totals


@pytest.mark.parametrize("meta", [b"[" * 50000 + b"]" * 50000, b'{"a":' * 50000 + b"1" + b"}" * 50000,
                                  b"[1,2]", b"null", b'{"agentType":[1],"description":{"a":1},"finished":"yes"}',
                                  b'{"agentType":NaN,"toolUseId":1e999}', b"\xff\xfe", b""],
                         ids=["deep-list", "deep-object", "list", "null", "wrong-types", "nan", "not-utf8", "empty"])
def test_a_hostile_subagent_meta_costs_nothing(home, meta):
    home.claude("s1.jsonl", LINES)
    home.subagent("s1", "a1", LINES[2:20], meta=meta)
    totals = imported(home.cli("import", "--all", "--json"))
    assert totals["files"] == 2 and totals["failed"] == 0, totals
    assert any(e["type"] == "subagent.start" for e in session_events(home))


@pytest.mark.parametrize("loop", ["self-loop-log", "self-loop-project"])
def test_a_symlink_loop_costs_one_line_and_the_rest_is_imported(home, loop):
    home.claude("s1.jsonl", LINES)
    projects = home.home / ".claude" / "projects"
    if loop == "self-loop-log":
        os.symlink("loop.jsonl", projects / "-w-demo" / "loop.jsonl")
    else:
        os.symlink("selfproj", projects / "selfproj")
    r = home.cli("import", "--all", "--json")
    totals = imported(r)
    assert totals["events"] >= 29, totals
    assert len(r.err.strip().splitlines()) <= 1, r
    r = home.cli("usage", "daily", "--json")  # the readers import first: they must not fail either
    clean(r)
    assert r.rc == 0 and r.json()["daily"], r


def test_odd_entries_beside_the_logs_are_passed_over(home):
    proj = home.claude("s1.jsonl", LINES).parent
    (proj / "x.jsonl").mkdir()
    (proj / "s1" / "subagents" / "agent-d.jsonl").mkdir(parents=True)
    os.symlink("/dev/zero", proj / "zero.jsonl")
    os.symlink("/dev/null", proj / "null.jsonl")
    os.symlink(proj, proj / "self")
    os.symlink("..", proj / "up")
    codex = home.home / ".codex" / "sessions" / "a"
    (codex / "rollout-dir.jsonl").mkdir(parents=True)
    os.symlink("..", codex / "loop")
    os.symlink("/dev/zero", codex / "rollout-zero.jsonl")
    r = home.cli("import", "--all", "--json", timeout=30, max_memory=1 << 30)
    clean(r)
    assert r.rc == 0 and r.json()["events"] >= 29, r


def test_a_codex_rollout_whose_first_line_is_over_64k_is_imported(home):
    lines = CODEX_FIX.read_text().splitlines()
    meta = json.loads(lines[0])
    meta["payload"]["base_instructions"]["text"] += "\n# AGENTS.md\n" + "Keep the tests green. " * 4000
    lines[0] = json.dumps(meta, separators=(",", ":"))
    assert len(lines[0]) > 1 << 16
    home.codex("\n".join(lines) + "\n")
    totals = imported(home.cli("import", "--all", "--json"))
    assert totals["files"] == 1 and totals["events"] > 5, totals


def test_a_log_modified_in_the_future_is_finished_once(home):
    path = home.claude("s1.jsonl", LINES)
    os.utime(path, (4_102_444_800, 4_102_444_800))  # 2100: a restored backup, a wrong clock
    imported(home.cli("import", "--all", "--json"))
    assert imported(home.cli("import", "--all", "--json"))["unchanged"] == 1
    assert "session.end" in [e["type"] for e in session_events(home)]


def test_many_unknown_entry_types_do_not_flood_stderr(home):
    home.claude("s1.jsonl", LINES + [json.dumps({"type": f"hologram-{i}"}) for i in range(5000)])
    r = home.cli("import", "--all")
    clean(r)
    assert r.rc == 0
    assert len(r.err.splitlines()) <= 50, f"{len(r.err.splitlines())} lines on stderr"


def test_unknown_types_spread_over_many_logs_do_not_flood_stderr(home):
    for i in range(60):
        sid = f"{i:08d}-0000-4000-8000-000000000000"
        home.claude(f"s{i}.jsonl", [line.replace("e8f720b7-94ae-4a8c-bae2-3ba0f907bf8b", sid) for line in LINES[:3]]
                    + [json.dumps({"type": f"hologram-{i}"})])
    r = home.cli("import", "--all", "--json")
    clean(r)
    assert r.rc == 0 and len(r.json()["unknown_types"]) == 60
    named = [x for x in r.err.splitlines() if "hologram-" in x]
    assert len(named) == 20 and "more entry types" in r.err and len(r.err.splitlines()) <= 25, r.err


@pytest.mark.parametrize("sid", ["../../../../tmp/adv-escape", "/etc/passwd", "a/b", "a\x00b", ".", "..", "-rf",
                                 "x" * 5000, "\u202eevil", " ", "\n", "con"])
def test_session_ids_from_logs_never_leave_the_store(home, sid):
    home.codex(CODEX_FIX.read_text().replace(json.dumps(CODEX_SESSION), json.dumps(sid)))
    home.gemini(GEMINI_FIX.read_text().replace(json.dumps(GEMINI_SESSION), json.dumps(sid)))
    totals = imported(home.cli("import", "--all", "--json"))
    assert totals["files"] == 2, totals
    sessions = home.history / "sessions"
    names = os.listdir(sessions)
    assert names and all("/" not in n and n.endswith(".jsonl") and not n.startswith(".") for n in names), names
    for p in home.base.rglob("*"):
        assert not p.is_symlink()
    assert not list(Path("/tmp").glob("adv-escape*"))
    readers_work(home)


def test_the_session_flag_cannot_escape_the_store(home, tmp_path):
    path = home.codex(CODEX_FIX.read_text())
    for sid in ("../../../outside", "/abs/path", "..", "a\\b"):
        r = home.cli("import", str(path), "--session", sid, "--json")
        imported(r)
    assert {p.parent for p in home.history.rglob("*.jsonl")} <= {home.history / "sessions"}
    assert not (tmp_path / "outside.jsonl").exists()


def test_thousands_of_tiny_logs(home):
    small = "\n".join([LINES[FIRST_PROMPT], LINES[FIRST_TOOL_USE]]) + "\n"
    proj = home.home / ".claude" / "projects" / "-w-many"
    proj.mkdir(parents=True)
    for i in range(1500):
        p = proj / f"s{i:05d}.jsonl"
        p.write_text(small)
        os.utime(p, (OLD, OLD))
    r = home.cli("import", "--all", "--json", timeout=120)
    totals = imported(r)
    assert totals["files"] == 1500 and totals["sessions"] == 1500, totals
    assert r.rss_kb < FLAT_KB, r.rss_kb
    assert imported(home.cli("import", "--all", "--json"))["unchanged"] == 1500


def _nobody_python() -> list[str] | None:
    """A command prefix running a Python 3.11+ as an unprivileged user, when
    this test runs as root (permission tests mean nothing to root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    for python in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if not setpriv or not os.path.exists(python):
            continue
        cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", python]
        try:
            r = subprocess.run([*cmd, "-c", "import sys; assert sys.version_info >= (3, 11)"], capture_output=True,
                               timeout=20, cwd="/")
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return cmd
    return None


def test_unreadable_logs_and_folders_cost_one_line_each():
    import tempfile

    prefix = _nobody_python()
    if prefix is None:
        pytest.skip("running as root with no way to drop privileges: permissions cannot be tested")
    base = Path(tempfile.mkdtemp(prefix="adv-perm-"))
    try:
        os.chmod(base, 0o777)
        h = Home(base)
        proj = h.claude("good.jsonl", LINES).parent
        h.claude("locked.jsonl", LINES)
        h.claude("x.jsonl", LINES, project="locked-project")
        h.subagent("good", "a1", LINES[2:20])
        h.codex(CODEX_FIX.read_text())
        if prefix:
            subprocess.run(["chown", "-R", "65534:65534", str(base)], check=True)
        os.chmod(proj / "locked.jsonl", 0)
        os.chmod(proj.parent / "locked-project", 0)
        os.chmod(proj / "good" / "subagents", 0)
        env = h.env()
        src = str(Path(__file__).resolve().parent.parent / "src")
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
        p = subprocess.run([*(prefix or [sys.executable]), "-m", "agent_trace", "import", "--all", "--json"],
                           capture_output=True, env=env, timeout=60, cwd="/")
        err = p.stderr.decode()
        assert p.returncode == 0 and "Traceback" not in err, err
        totals = json.loads(p.stdout)
        assert totals["files"] == 2 and totals["events"] == 29 + 8, totals  # the good session and the rollout
        assert len(err.strip().splitlines()) == 3, err  # one line per thing it could not read
        assert all("Permission denied" in line for line in err.strip().splitlines()), err
    finally:
        subprocess.run(["chmod", "-R", "u+rwx", str(base)])
        shutil.rmtree(base, ignore_errors=True)


# -- secrets ---------------------------------------------------------------------------------------

def test_secrets_in_transcript_content_never_reach_the_data_folder(home):
    s = secret_strings()
    texts = [s["anthropic"], s["aws"], s["github"], "password=" + s["password"],
             f"https://bob:{s['url']}@db.example.com/x"]
    lines = list(LINES)
    places = [(FIRST_PROMPT, ("message", "content")), (FIRST_TOOL_USE, ("message", "content", 0, "input", "content")),
              (FIRST_TOOL_RESULT, ("message", "content", 0, "content")), (FIRST_PROMPT, ("cwd",)),
              (FIRST_PROMPT, ("gitBranch",)), (FIRST_TOOL_USE, ("message", "model")),
              (FIRST_TOOL_USE, ("requestId",)), (FIRST_PROMPT, ("promptId",)), (FIRST_TOOL_USE, ("message", "id"))]
    for n, (idx, path) in enumerate(places):
        lines = mutate(idx, path, json.dumps(f"{texts[n % len(texts)]} [{n}]"), lines)
    home.claude("s1.jsonl", lines)
    home.subagent("s1", "a1", LINES[2:20], meta=json.dumps(
        {"agentType": texts[0], "description": texts[3], "toolUseId": texts[1], "finished": True}).encode())
    imported(home.cli("import", "--all", "--json"))
    readers_work(home)
    assert home.leaks(*s.values()) == []


def test_secrets_in_ids_of_an_unfinished_turn_never_reach_the_data_folder(home):
    # the state a resumed parse needs (open tool calls, the current prompt, the last
    # timestamp) is saved beside the store: it must hold no secret either
    s = secret_strings()
    lines = mutate(LAST_PROMPT, ("promptId",), json.dumps(s["anthropic"]))
    lines = mutate(LAST_SYSTEM, ("timestamp",), json.dumps("password=" + s["password"]), lines)
    lines.append(json.dumps({"type": "assistant", "timestamp": "2026-11-21T19:02:30.000Z", "message": {
        "id": "msg_open", "role": "assistant", "model": "claude-opus-5-5", "stop_reason": "tool_use",
        "usage": {"input_tokens": 1}, "content": [{"type": "tool_use", "id": s["github"], "name": s["aws"],
                                                   "input": {}}]}}, separators=(",", ":")))
    home.claude("s1.jsonl", lines)
    imported(home.cli("import", "--all", "--json"))
    assert home.leaks(*s.values()) == []


@pytest.mark.parametrize("where", ["claude-file-name", "codex-session-id", "gemini-session-id"])
def test_a_session_id_that_is_a_secret_is_not_written_out(home, where):
    secret = secret_strings()["anthropic"]
    if where == "claude-file-name":
        home.claude(f"{secret}.jsonl", LINES)
    elif where == "codex-session-id":
        home.codex(CODEX_FIX.read_text().replace(CODEX_SESSION, secret))
    else:
        home.gemini(GEMINI_FIX.read_text().replace(GEMINI_SESSION, secret))
    imported(home.cli("import", "--all", "--json"))
    readers_work(home)
    assert home.leaks(secret) == []


def test_the_status_line_cache_holds_no_secret(home):
    s = secret_strings()
    lines = mutate(LAST_ASSISTANT, ("message", "model"), json.dumps(s["anthropic"]))
    lines = mutate(LAST_ASSISTANT, ("message", "id"), json.dumps(s["github"]), lines)
    lines = mutate(LAST_ASSISTANT, ("message", "usage", "service_tier"), json.dumps("password=" + s["password"]),
                   lines)
    path = home.claude("s1.jsonl", lines)
    r = home.cli("statusline", input=json.dumps({"session_id": "s1", "transcript_path": str(path)}).encode())
    assert r.rc == 0 and "session $" in r.out, r
    assert home.leaks(*s.values()) == []


# -- usage ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags", [
    ["--since", "99999999d"], ["--since", "999999999999d"], ["--until", "9" * 30 + "w"],
    ["--since", "2026-13-45"], ["--since", "x" * 10000], ["--since", "²d"], ["--timezone", "../../etc/passwd"],
    ["--timezone", "Not/AZone"], ["--timezone", "x" * 10000], ["--timezone", "/etc/localtime"],
    ["--timezone", "zone.tab"],
], ids=lambda f: f"{f[0]}={f[1][:16]}")
def test_usage_with_a_bad_flag_says_one_line(home, flags):
    home.claude("s1.jsonl", LINES)
    for report in ("daily", "blocks"):
        r = home.cli("usage", report, *flags)
        clean(r)
        assert r.rc == 2 and r.err.startswith("agent-strace usage: error:"), r


@pytest.mark.parametrize("flags", [
    ["--project", "[(*+?"], ["--project", "\\"], ["--agent", "[("], ["--since", "00010101"], ["--until", "99991231"],
    ["--timezone", "Pacific/Kiritimati"], ["--timezone", "Etc/GMT+12"],
    ["--since", "2026-11-21", "--until", "2026-11-01"],
], ids=lambda f: f"{f[0]}={f[1][:16]}")
def test_usage_with_odd_but_valid_flags_answers(home, flags):
    home.claude("s1.jsonl", LINES)
    for report in ("daily", "weekly", "monthly", "session", "project", "blocks"):
        r = home.cli("usage", report, "--json", *flags)
        clean(r)
        assert r.rc == 0 and report in r.json(), r


@pytest.mark.parametrize("ts", ["0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "1970-01-01T00:00:00.000Z"])
def test_usage_over_responses_at_the_edges_of_time(home, ts):
    home.claude("s1.jsonl", mutate(FIRST_TOOL_USE, ("timestamp",), json.dumps(ts)))
    imported(home.cli("import", "--all", "--json"))
    for report in ("daily", "weekly", "monthly", "session", "blocks"):
        for tz in ("UTC", "Pacific/Kiritimati", "Etc/GMT+12"):
            r = home.cli("usage", report, "--timezone", tz, "--no-import", store=True)
            clean(r)
            assert r.rc == 0, (report, tz, r)


# -- search ---------------------------------------------------------------------------------------

def test_search_with_hostile_queries_answers(home):
    home.claude("s1.jsonl", LINES)
    imported(home.cli("import", "--all", "--json"))
    queries = ["\x1f", "\n", "\r\n", "a\x1fb", ".*", "[", "(?i)", "\\", "%s%n", "\x1b[31m", os.fsdecode(b"\xff\xfe"),
               "İ", "ß", "\t", "x" * 120_000]
    for q in queries:
        for extra in ([], ["--json"], ["--tool", q], ["--session", q], ["--project", q], ["-n", "-5"],
                      ["-n", "999999999999999999999"]):
            r = home.cli("search", q, *extra, "--no-import", store=True)
            clean(r)
            assert r.rc in (0, 2), (q[:20], extra, r)


def test_search_text_never_matches_the_index_record_headers(home):
    home.claude("s1.jsonl", LINES)
    imported(home.cli("import", "--all", "--json"))
    # a separator in a query is a space, as in the index's text (tests/test_search.py): "bash\x1f" is a real
    # match of "bash ls ..."; these can only match across header fields
    for q in ("\x1fbash\x1f", "\x1ftool.result\x1f", "\x1f", "ok\x1f\x1f"):
        r = home.cli("search", q, "--json", "--no-import", store=True)
        clean(r)
        assert r.rc == 0 and r.json()["total"] == 0, (q, r)


# -- statusline ------------------------------------------------------------------------------------

@pytest.mark.parametrize("stdin", [
    b"hello", b"[1,2]", b"", b"\x00\x00", b'{"session_id":"\xff"}', b"[" * 100000 + b"]" * 100000,
    b'{"x":"' + b"a" * (20 * MB) + b'"}',
    json.dumps({"session_id": 5, "transcript_path": [1], "model": "x", "cwd": 7, "workspace": "x",
                "context_window": 5}).encode(),
    json.dumps({"session_id": {"a": 1}, "model": [1], "workspace": {"project_dir": 5},
                "context_window": {"used_percentage": "x", "context_window_size": 0,
                                   "current_usage": {"input_tokens": "x"}}}).encode(),
    b'{"session_id":"s","context_window":{"used_percentage":NaN,"context_window_size":1e999}}',
    json.dumps({"session_id": "../../x" * 500, "transcript_path": "/nonexistent/\u202e.jsonl"}).encode(),
], ids=["not-json", "array", "empty", "nuls", "not-utf8", "deep", "20mb", "types-1", "types-2", "nan", "odd-ids"])
def test_statusline_prints_one_line_whatever_it_reads(home, stdin):
    r = home.cli("statusline", input=stdin)
    assert r.rc == 0 and len(r.out.splitlines()) == 1, r
    assert "Traceback" not in r.err, r
    assert r.rss_kb < FLAT_KB, r.rss_kb


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "fifo", "folder", "/proc/self/mem"])
def test_statusline_with_an_odd_transcript_path(home, target):
    if target == "fifo":
        target = str(home.base / "t.jsonl")
        os.mkfifo(target)
    elif target == "folder":
        target = str(home.base / "d.jsonl")
        os.mkdir(target)
    r = home.cli("statusline", input=json.dumps({"session_id": "s1", "transcript_path": target,
                                                 "model": {"display_name": "Opus"}}).encode(), timeout=10)
    assert r.rc == 0 and len(r.out.splitlines()) == 1, r
    assert "Traceback" not in r.err, r


def test_statusline_memory_stays_flat_on_a_huge_transcript(home):
    path = home.base / "big.jsonl"
    with open(path, "wb") as f:
        f.truncate(512 * MB)  # sparse: costs no disk
    r = home.cli("statusline", input=json.dumps({"session_id": "s-big", "transcript_path": str(path)}).encode(),
                 timeout=60)
    assert r.rc == 0 and len(r.out.splitlines()) == 1, r
    assert r.rss_kb < FLAT_KB, f"peak memory {r.rss_kb // 1024} MB for one status line"


# -- prices update --------------------------------------------------------------------------------

GOOD_TABLE = {"claude-opus-5-5": {"input_cost_per_token": 5e-6, "output_cost_per_token": 2.5e-5, "mode": "chat"}}


def _prices_file(home: Home) -> Path:
    return home.config / "agent-strace" / "prices.json"


@pytest.mark.parametrize("content", [
    b"hello", b"[1,2]", b"", b"null", json.dumps({"m1": {"input_cost_per_token": -1}}).encode(),
    b'{"m1":{"input_cost_per_token":NaN,"output_cost_per_token":Infinity}}',
    b'{"m1":{"input_cost_per_token":1' + b"0" * 400 + b',"output_cost_per_token":1e999}}',
    b'{"m1":{"input_cost_per_token":1' + b"0" * 5000 + b"}}",
    json.dumps({"m1": {"input_cost_per_token": "0.001", "output_cost_per_token": "x"}}).encode(),
    json.dumps({"m1": 5, "m2": [1], "m3": None, "m4": "x"}).encode(),
    json.dumps({"m1": {"input_cost_per_token": True}}).encode(),
    json.dumps({"m1": {"input_cost_per_token": 1e-6, "mode": ["chat"]}}).encode(),
    json.dumps({"m1": {"input_cost_per_token": 1e-6, "mode": {"a": 1}}}).encode(),
    b"[" * 100000 + b"]" * 100000, b'{"m\xff":{"input_cost_per_token":1e-6}}',
], ids=["not-json", "array", "empty", "null", "negative", "nan-inf", "huge", "huge-digits", "strings", "not-objects",
        "bool", "mode-list", "mode-object", "deep", "not-utf8"])
def test_prices_update_from_a_hostile_table_keeps_the_prices(home, content):
    good = home.base / "good.json"
    good.write_text(json.dumps(GOOD_TABLE))
    assert home.cli("prices", "update", "--from", str(good)).rc == 0
    before = _prices_file(home).read_bytes()
    src = home.base / "table.json"
    src.write_bytes(content)
    r = home.cli("prices", "update", "--from", str(src))
    clean(r)
    if r.rc != 0:
        assert _prices_file(home).read_bytes() == before  # nothing else lost
    assert home.cli("prices", "--json").rc == 0
    clean(home.cli("usage", "daily"))


@pytest.mark.parametrize("source", ["fifo", "/dev/zero", "folder"])
def test_prices_update_from_something_that_is_not_a_file(home, source):
    if source == "fifo":
        source = str(home.base / "t.json")
        os.mkfifo(source)
    elif source == "folder":
        source = str(home.base)
    r = home.cli("prices", "update", "--from", source, timeout=6, max_memory=1 << 30)
    clean(r)
    assert r.rc != 0, r


def test_prices_update_into_a_folder_says_one_line(home):
    good = home.base / "good.json"
    good.write_text(json.dumps(GOOD_TABLE))
    (home.base / "pdir").mkdir()
    r = home.cli("prices", "update", "--from", str(good), AGENT_TRACE_PRICES=str(home.base / "pdir"))
    clean(r)
    r = home.cli("prices", "update", "--from", str(good), AGENT_TRACE_PRICES=str(good) + "/x/prices.json")
    clean(r)


@pytest.mark.parametrize("models", [
    {"claude-opus-5-5": {"input": "abc", "output": 1}}, {"claude-opus-5-5": {"input": [1]}},
    {"claude-opus-5-5": {"input": None, "output": 1}}, {"claude-opus-5-5": {"input": 10 ** 400}},
    {"claude-opus-5-5": {"input": 1, "long_context": {"above": -1, "input": "zz"}}},
], ids=["string", "list", "null", "huge", "long-context-string"])
def test_a_hand_edited_prices_file_never_breaks_the_reports(home, models):
    home.claude("s1.jsonl", LINES)
    imported(home.cli("import", "--all", "--json"))
    user = _prices_file(home)
    user.parent.mkdir(parents=True)
    user.write_text(json.dumps({"models": models}))
    for cmd in (["usage", "daily"], ["usage", "blocks", "--json"], ["list"], ["prices"], ["prices", "--json"]):
        r = home.cli(*cmd, store=True)
        clean(r)
        assert r.rc == 0, (cmd, r)
    r = home.cli("statusline", input=json.dumps({"session_id": "s1", "transcript_path": str(
        home.home / ".claude" / "projects" / "-w-demo" / "s1.jsonl")}).encode())
    assert r.rc == 0 and "session $" in r.out, r
