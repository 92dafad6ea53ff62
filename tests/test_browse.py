"""browse: the state machine directly, and the real curses UI in a pty."""

import json
import os
import pty
import select
import subprocess
import sys
import time

from agent_trace.render.browse import Browser
from agent_trace.store import Store

from conftest import fixture_payloads, run_cli


def record():
    for p in fixture_payloads():
        run_cli("hook", input=json.dumps(p).encode())


def test_browser_walks_sessions_calls_and_detail(trace_dir):
    record()
    b = Browser(Store(str(trace_dir)))
    assert len(b.view.items) == 1 and "do the scripted task" in b.view.items[0]["label"]
    b.key("ENTER")
    assert b.view.kind == "calls" and len(b.view.items) == 8
    for ch in "bash":
        b.key(ch)
    assert [i["call"]["tool"] for i in b.view.visible()] == ["Bash", "Bash"]
    assert "ERROR (exit 2" in b.view.current()["label"]
    b.key("DOWN")
    b.key("ENTER")
    detail = "\n".join(i["label"] for i in b.view.items)
    assert b.view.kind == "detail" and "does-not-exist.txt" in detail and "RESPONSE (tool.error)" in detail
    b.key("ESC")
    assert b.view.kind == "calls" and b.view.filter == "bash"
    b.key("ESC")  # clears the filter first
    assert b.view.filter == "" and b.view.kind == "calls"
    b.key("ESC")
    assert b.view.kind == "sessions"
    b.key("ESC")
    assert b.done


def test_curses_ui_in_a_real_terminal(trace_dir):
    record()
    pid, fd = pty.fork()
    if pid == 0:  # child: the real command in a terminal
        os.environ.update(TERM="xterm", LINES="30", COLUMNS="120", AGENT_TRACE_DIR=str(trace_dir))
        os.execv(sys.executable, [sys.executable, "-m", "agent_trace", "browse"])
    screen = b""

    def read_for(seconds):
        nonlocal screen
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    screen += os.read(fd, 65536)
                except OSError:
                    return

    try:
        read_for(2.0)
        assert b"do the scripted task" in screen
        os.write(fd, b"\r")
        read_for(1.0)
        assert b"Write(" in screen
        os.write(fd, b"grep")
        read_for(0.5)
        os.write(fd, b"\r")
        read_for(1.0)
        assert b"Path does not exist" in screen
        for _ in range(4):
            os.write(fd, b"\x1b")
            read_for(0.3)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass


def test_browse_refuses_without_a_terminal():
    r = subprocess.run([sys.executable, "-m", "agent_trace", "browse"], capture_output=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and b"needs a terminal" in r.stderr
