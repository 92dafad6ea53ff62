"""Sessions linked to git: what the hooks record at start and end, and how
list, inspect and the dashboard API show and filter it."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from agent_trace.capture.git_info import clean_remote, git_info, project_name

from conftest import read_session, run_cli


def git(cwd, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.email", "dev@example.com")
    git(r, "remote", "add", "origin", "https://bot:ghp_" + "x" * 36 + "@github.com/acme/widgets.git")
    (r / "a.txt").write_text("a\n")
    (r / "keep.txt").write_text("k\n")
    git(r, "add", ".")
    git(r, "commit", "-qm", "first")
    return r


def test_git_info_reads_branch_head_and_dirty_flag(repo):
    head = git(repo, "rev-parse", "HEAD")
    info = git_info(str(repo))
    assert info["branch"] == "main" and info["head"] == head
    assert info["dirty"] is False and info["changes"] == 0
    assert info["repo"] == "https://github.com/acme/widgets.git"  # the token is dropped
    assert info["project"] == "acme/widgets" and info["user"] == "dev@example.com"
    (repo / "a.txt").write_text("changed\n")
    sub = repo / "sub"
    sub.mkdir()
    info = git_info(str(sub))
    assert info["dirty"] is True and info["root"] == str(repo)


def test_git_info_detached_packed_refs_and_worktrees(repo, tmp_path):
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "feature/x")
    git(repo, "pack-refs", "--all")
    wt = git_info(str(tmp_path / "wt"))
    assert wt["branch"] == "feature/x" and wt["head"] == head and wt["root"] == str(tmp_path / "wt")
    git(repo, "checkout", "-q", "--detach")
    d = git_info(str(repo))
    assert d["branch"] is None and d["head"] == head


def test_git_info_since_a_base_lists_commits_and_every_changed_file(repo):
    base = git(repo, "rev-parse", "HEAD")
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-qm", "second")
    (repo / "a.txt").write_text("edited\n")
    (repo / "new").mkdir()
    (repo / "new" / "c.txt").write_text("c\n")
    info = git_info(str(repo), base=base)
    assert info["base"] == base and info["commits"] == [git(repo, "rev-parse", "HEAD")]
    assert info["diff"] == ["a.txt", "b.txt", "new/c.txt"] and info["diff_total"] == 3


def test_git_info_fails_open(tmp_path, repo, monkeypatch):
    assert git_info(str(tmp_path / "nowhere")) is None
    assert git_info(None) is None
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / ".git").write_text("not a gitdir line")
    assert git_info(str(plain)) is None
    # a symbolic-ref loop and garbage in HEAD give no head, never an exception
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/loop\n")
    (repo / ".git" / "refs" / "heads" / "loop").write_text("ref: refs/heads/loop\n")
    info = git_info(str(repo))
    assert info["branch"] == "loop" and info["head"] is None
    (repo / ".git" / "HEAD").write_text("--output=/tmp/pwned\n")
    assert git_info(str(repo))["head"] is None
    # no git on PATH: what the files say is still known, dirty is unknown
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    info = git_info(str(repo))
    assert info["head"] and info["dirty"] is None
    # an option-shaped base never reaches git
    assert "base" not in git_info(str(repo), base="--output=/tmp/x")


def test_remote_and_project_names():
    assert clean_remote("https://user:pw@host.example/a/b.git") == "https://host.example/a/b.git"
    assert clean_remote("git@github.com:acme/widgets.git") == "git@github.com:acme/widgets.git"
    assert project_name("git@github.com:acme/widgets.git", "/x/y") == "acme/widgets"
    assert project_name("https://gitlab.example/g/sub/proj", None) == "sub/proj"
    assert project_name(None, "/work/thing") == "thing"


def hook(payload):
    r = run_cli("hook", input=json.dumps(payload).encode())
    assert r.returncode == 0, r.stderr


def test_hooks_link_a_session_to_git_and_list_filters_by_it(repo, trace_dir):
    base = git(repo, "rev-parse", "HEAD")
    sid = "git-session-1"
    common = {"session_id": sid, "cwd": str(repo), "transcript_path": "/nonexistent"}
    hook({**common, "hook_event_name": "SessionStart", "source": "startup"})
    hook({**common, "hook_event_name": "PreToolUse", "tool_name": "Write", "tool_use_id": "t1",
          "tool_input": {"file_path": str(repo / "a.txt"), "content": "new\n"}})
    hook({**common, "hook_event_name": "PreToolUse", "tool_name": "Edit", "tool_use_id": "t2",
          "tool_input": {"file_path": str(repo / "keep.txt"), "old_string": "k", "new_string": "k"}})
    (repo / "a.txt").write_text("new\n")
    (repo / "made-by-shell.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-qm", "agent work")
    end = git(repo, "rev-parse", "HEAD")
    hook({**common, "hook_event_name": "SessionEnd", "reason": "exit"})
    hook({"session_id": "elsewhere", "cwd": str(trace_dir.parent), "hook_event_name": "SessionStart"})

    notes = [e for e in read_session(trace_dir, sid) if e["type"] == "annotation" and e["name"] == "git"]
    assert [n["data"]["phase"] for n in notes] == ["start", "end"]
    assert notes[0]["data"]["head"] == base and notes[1]["data"]["head"] == end
    assert notes[1]["data"]["commits"] == [end] and notes[1]["data"]["diff"] == ["a.txt", "made-by-shell.txt"]
    assert "ghp_" not in json.dumps(notes)

    rows = json.loads(run_cli("list", "--json").stdout)
    row = next(r for r in rows if r["session"] == sid)
    assert row["git"]["branch"] == "main" and row["git"]["start"] == base and row["git"]["end"] == end
    assert [r["session"] for r in json.loads(run_cli("list", "--json", "--branch", "main").stdout)] == [sid]
    assert [r["session"] for r in json.loads(run_cli("list", "--json", "--branch", "feat*").stdout)] == []
    assert [r["session"] for r in json.loads(run_cli("list", "--json", "--commit", end[:8]).stdout)] == [sid]
    assert json.loads(run_cli("list", "--json", "--commit", "abc").stdout) == []  # too short to mean anything
    table = run_cli("list").stdout.decode()
    assert f"main@{end[:7]}*" in table  # made-by-shell.txt is untracked: dirty

    text = run_cli("inspect", sid).stdout.decode()
    assert f"git       main {base[:7]}..{end[:7]} (1 commit(s), dirty)  acme/widgets" in text
    assert ("files     2 changed by the agent's edit tools; diff since start: 2 file(s), 1 of them from the "
            "edit tools; not in the diff: keep.txt") in text

    from agent_trace.server import api
    from agent_trace.store import Store

    store = Store(str(trace_dir))
    listed = api.sessions(store, {"branch": "main"})["sessions"]
    assert [s["session"] for s in listed] == [sid] and "diff" not in listed[0]["git"]
    assert api.sessions(store, {"commit": base[:10]})["matched"] == 1
    assert api.session(store, sid)["summary"]["git"]["commits"] == [end]


def test_hooks_outside_a_repository_record_no_git_note(tmp_path, trace_dir):
    (tmp_path / "plain").mkdir()
    hook({"session_id": "nogit", "cwd": str(tmp_path / "plain"), "hook_event_name": "SessionStart"})
    events = read_session(trace_dir, "nogit")
    assert [e["type"] for e in events] == ["session.start"]
