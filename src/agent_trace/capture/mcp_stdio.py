"""``agent-strace record -- CMD``: a byte-transparent stdio proxy for MCP servers.

Forwarding and logging are separate:

* two pump threads copy bytes as they arrive (client stdin -> server stdin,
  server stdout -> client stdout) with ``os.read``/``os.write`` and nothing
  else on the path: no parsing, no framing, no disk;
* each chunk is also put on an unbounded queue; one log thread splits frames,
  parses JSON, pairs requests and responses and writes events.  A slow or
  failing disk slows only that thread; a logging failure is said once on
  stderr and forwarding goes on.

Lifecycle: the server's stderr is inherited (passes through).  When the client
closes our stdin we close the server's stdin, wait, then SIGTERM, then
SIGKILL.  SIGINT/SIGTERM/SIGHUP sent to us are passed to the server.  We exit
with the server's exit code (128+N for a signal) right after it exits, and a
``session.end`` event is always written.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time

from .. import event as ev
from .mcp_frames import FrameSplitter
from .mcp_log import C2S, S2C, McpSessionLog

CHUNK = 1 << 16
GRACE_S = 2.0
LOG_BATCH_S = 0.005  # the log thread gathers a burst this long before writing
STALE_POLL_S = 1.0  # how often a quiet log thread looks for frames held back too long


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class StdioProxy:
    def __init__(self, cmd: list[str], sink, session: str, name: str | None = None,
                 tool_events: bool = True):
        self.cmd = cmd
        self.sink = sink
        self.session = session
        self.name = name
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.log = McpSessionLog(session, "mcp-stdio", name, tool_events=tool_events)
        self.log_failed = False
        self.client_eof = threading.Event()
        self.s2c_bytes = 0  # bytes the server wrote: lets exit wait for a pipe still draining
        self.proc: subprocess.Popen | None = None

    # -- logging (off the forwarding path) ------------------------------------
    def _emit(self, events: list[dict]) -> None:
        if not events or self.log_failed:
            return
        try:
            self.sink.emit_many(events)
        except Exception as e:  # forwarding goes on; say so once
            self.log_failed = True
            sys.stderr.write(f"agent-strace record: logging stopped ({type(e).__name__}: {e}); "
                             "traffic still forwarded\n")

    def _log_loop(self) -> None:
        splitters = {C2S: FrameSplitter(), S2C: FrameSplitter()}
        done = False
        while not done:
            try:
                items = [self.q.get(timeout=STALE_POLL_S)]
            except queue.Empty:  # quiet: hand over frames a lying length holds back
                events = []
                for direction, splitter in splitters.items():
                    for raw, parsed in splitter.stale():
                        events += self.log.events_for(direction, raw, parsed)
                self._emit(events)
                continue
            # Let a burst accumulate: fewer, larger log writes, and far fewer
            # wake-ups competing with the pump threads for the CPU and the GIL.
            time.sleep(LOG_BATCH_S)
            while True:  # take everything already queued: one write per batch
                try:
                    items.append(self.q.get_nowait())
                except queue.Empty:
                    break
            events = []
            for item in items:
                if item is None:
                    done = True
                    break
                direction, data, t = item
                if data is None:  # end of this direction
                    for raw, parsed in splitters[direction].flush():
                        events += self.log.events_for(direction, raw, parsed, t)
                else:
                    for raw, parsed in splitters[direction].feed(data):
                        events += self.log.events_for(direction, raw, parsed, t)
            self._emit(events)

    # -- forwarding -----------------------------------------------------------
    def _pump_client(self) -> None:
        dst = self.proc.stdin.fileno()  # type: ignore[union-attr]  # start() set it
        try:
            while True:
                data = os.read(0, CHUNK)
                if not data:
                    break
                # Queue before forwarding: the peer cannot answer a message
                # before the log has it, so pairing never sees an answer first.
                self.q.put((C2S, data, time.time()))
                try:
                    _write_all(dst, data)
                except (BrokenPipeError, OSError):
                    break
        except OSError:
            pass
        self.q.put((C2S, None, time.time()))
        try:
            self.proc.stdin.close()  # type: ignore[union-attr]  # start() set it
        except OSError:
            pass
        self.client_eof.set()

    def _pump_server(self) -> None:
        src = self.proc.stdout.fileno()  # type: ignore[union-attr]  # start() set it
        client_gone = False
        while True:
            try:
                data = os.read(src, CHUNK)
            except OSError:
                break
            if not data:
                break
            self.s2c_bytes += len(data)
            self.q.put((S2C, data, time.time()))
            if not client_gone:
                try:
                    _write_all(1, data)
                except (BrokenPipeError, OSError):
                    client_gone = True  # keep draining so the server never blocks
                    self.client_eof.set()
        self.q.put((S2C, None, time.time()))

    def _forward_signal(self, signum, frame) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.send_signal(signum)
            except OSError:
                pass

    def _reaper(self) -> None:
        """After client EOF: let the server exit, then SIGTERM, then SIGKILL."""
        self.client_eof.wait()
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None and self.proc.poll() is None:  # type: ignore[union-attr]  # start() set it
                try:
                    self.proc.send_signal(sig)  # type: ignore[union-attr]  # start() set it
                except OSError:
                    pass
            try:
                self.proc.wait(timeout=GRACE_S)  # type: ignore[union-attr]  # start() set it
                return
            except subprocess.TimeoutExpired:
                continue

    def run(self) -> int:
        # Hand the GIL over quickly: a pump thread waking on new bytes must not
        # wait out the log thread's default 5 ms time slice.
        sys.setswitchinterval(0.0002)
        self._emit([ev.make_event(ev.SESSION_START, self.session, "mcp-stdio", name=self.name,
                                  data={"command": self.cmd, "server": self.name, "cwd": os.getcwd(),
                                        "pid": os.getpid()})])
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         bufsize=0)
        except OSError as e:
            sys.stderr.write(f"agent-strace record: cannot start {self.cmd[0]}: {e.strerror}\n")
            self._emit([ev.make_event(ev.SESSION_END, self.session, "mcp-stdio", status=ev.ERROR,
                                      error={"message": f"cannot start server: {e.strerror}"})])
            return 127
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._forward_signal)
        logger = threading.Thread(target=self._log_loop, name="mcp-log")
        logger.start()
        server_pump = threading.Thread(target=self._pump_server, name="pump-s2c", daemon=True)
        server_pump.start()
        threading.Thread(target=self._pump_client, name="pump-c2s", daemon=True).start()
        threading.Thread(target=self._reaper, name="reaper", daemon=True).start()
        while True:
            try:
                code = self.proc.wait()
                break
            except KeyboardInterrupt:
                continue
        # The server has exited; what it wrote may still be in the pipe (a
        # slow machine copying megabytes): forward and queue all of it before
        # ending the log, so the end event comes last and nothing is dropped.
        seen = -1
        while server_pump.is_alive() and self.s2c_bytes != seen:  # stop waiting once it stalls
            seen = self.s2c_bytes
            server_pump.join(timeout=0.5)
        exit_code = code if code >= 0 else 128 - code
        self.q.put(None)
        logger.join(timeout=120)
        end = {"exit_code": exit_code, "unanswered_requests": self.log.unanswered()}
        if code < 0:
            end["signal"] = -code
        self._emit([ev.make_event(ev.SESSION_END, self.session, "mcp-stdio", name=self.name,
                                  status=ev.OK if code == 0 else ev.ERROR, data=end)])
        return exit_code
