"""The daemon's HTTP surface, on loopback TCP (hooks) and a Unix socket
(our own clients), and the loop that serves both without polling.

Routes (all under ``/agent-strace/``):

=========================================  ===================================
``POST hook/<cli>[/<event>]``               a hook payload; the answer is the
                                            hook's JSON output (``{}``: none)
``GET  v1/status``                          pid, port, uptime, counters, memory
``GET  v1/sessions[?store=ROOT]``           live sessions, newest first
``GET  v1/session?id=ID[&store=ROOT]``      one live session (404: not live)
``GET  v1/changes?since=N&timeout=S``       sessions changed after N (long poll)
``POST v1/sync``                            wait until transcript imports are done
=========================================  ===================================

Every response is written with one ``send`` (no Nagle delay between headers
and body) and ``TCP_NODELAY`` is set: a hook round trip is a fraction of a
millisecond on loopback.
"""

from __future__ import annotations

import os
import selectors
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .. import __version__
from ..event.fastjson import dumps, loads
from . import guard, memory
from .files import DaemonFiles
from .intake import Intake
from .live import Live
from .recovery import Recoverer


PREFIX = "/agent-strace/"
REQUEST_TIMEOUT_S = 10.0  # a request arrives whole, and an idle keep-alive ends, within this
MAX_CONNECTIONS = 128
MAX_WAIT_S = 30.0  # long polls and sync
REASONS = {200: "OK", 400: "Bad Request", 408: "Request Timeout", 414: "URI Too Long", 431: "Headers Too Large",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large",
           415: "Unsupported Media Type", 500: "Internal Server Error", 503: "Service Unavailable"}


class Core:
    """Everything a request handler reaches: one per daemon process."""

    def __init__(self, files: DaemonFiles, port: int, secret: str):
        self.files, self.port, self.secret = files, port, secret
        self.live = Live()
        self.recoverer = Recoverer()
        self.intake = Intake(files, self.live, self.recoverer, port)
        self.recoverer.on_recovered = self.intake.on_recovered
        self.started = time.time()
        self.socket_path: str | None = None

    def status(self) -> dict:
        return {"pid": os.getpid(), "port": self.port, "socket": self.socket_path, "version": __version__,
                "started": self.started, "uptime_s": round(time.time() - self.started, 3),
                "received": self.live.received, "not_recorded": self.intake.failures,
                "live_sessions": len(self.live.sessions()), "live_events_held": self.live.held(),
                "imports": self.recoverer.runs,
                "recovered": self.recoverer.recovered, "rss_kb": rss_kb(), "threads": threading.active_count(),
                "dir": self.files.root}


def rss_kb() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"agent-strace-daemon/{__version__}"
    timeout = REQUEST_TIMEOUT_S
    core: Core
    tcp = True

    def setup(self):
        super().setup()
        if self.tcp:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:  # defence in depth beside the 0600 socket: only our own user
            cred = self.connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _pid, uid, _gid = struct.unpack("3i", cred)
            if uid != os.getuid():
                raise ConnectionRefusedError(f"peer uid {uid} is not ours")

    def log_message(self, fmt, *args):  # quiet: refusals are answered, not logged
        pass

    # -- plumbing -------------------------------------------------------------
    def _reply(self, code: int, body: bytes = b"{}", close: bool = False) -> None:
        if close:
            self.close_connection = True
        conn = "Connection: close\r\n" if self.close_connection else ""
        head = (f"HTTP/1.1 {code} {REASONS.get(code, 'Error')}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n{conn}\r\n")
        self.wfile.write(head.encode("ascii") + body)

    def _json(self, code: int, obj) -> None:
        self._reply(code, dumps(obj).encode("utf-8", "backslashreplace"), close=code >= 400)

    def _refuse(self, code: int, message: str) -> None:
        self._json(code, {"error": message})

    def send_error(self, code, message=None, explain=None):  # malformed requests: JSON too, and close
        self.close_connection = True
        if code == 501:  # a method nobody serves is the client's error, not ours
            code, message = 405, "method not allowed"
        self._refuse(code, message or REASONS.get(code, "bad request"))

    def _checked(self) -> bool:
        bad = guard.check_request(self.headers, tcp=self.tcp, port=self.core.port, secret=self.core.secret)
        if bad:
            self._refuse(*bad)
            return False
        return True

    def _route(self) -> tuple[list[str], dict]:
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith(PREFIX):
            return [], {}
        parts = [urllib.parse.unquote(p) for p in url.path[len(PREFIX):].split("/") if p]
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        return parts, query

    # -- methods --------------------------------------------------------------
    def do_POST(self):
        if not self._checked():
            return
        n, bad = guard.body_length(self.headers)
        if bad:
            return self._refuse(*bad)
        body = self.rfile.read(n) if n else b""
        if len(body) != n:
            return self._refuse(400, "body shorter than Content-Length")
        parts, _ = self._route()
        if len(parts) in (2, 3) and parts[0] == "hook":
            return self._hook(parts[1], parts[2] if len(parts) == 3 else None, body)
        if parts == ["v1", "sync"]:
            return self._sync(body)
        self._refuse(404, "no such route")

    def do_GET(self):
        if not self._checked():
            return
        parts, q = self._route()
        core = self.core
        if parts == ["v1", "status"]:
            return self._json(200, core.status())
        if parts == ["v1", "sessions"]:
            return self._json(200, {"sessions": [ls.snapshot() for ls in core.live.sessions(q.get("store"))]})
        if parts == ["v1", "session"]:
            ls = core.live.find(q.get("id") or "", q.get("store"))
            return self._json(200, ls.snapshot()) if ls else self._refuse(404, "session not live in this daemon")
        if parts == ["v1", "changes"]:
            try:
                since, wait = int(q.get("since", "0")), min(MAX_WAIT_S, float(q.get("timeout", "0")))
            except ValueError:
                return self._refuse(400, "since and timeout must be numbers")
            return self._json(200, core.live.changes(since, q.get("store"), wait))
        self._refuse(404, "no such route")

    def _other(self):
        self._refuse(405, "method not allowed")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _other

    # -- routes ---------------------------------------------------------------
    def _hook(self, cli: str, event: str | None, body: bytes) -> None:
        if cli not in ("claude", "codex", "gemini"):
            return self._refuse(404, f"unknown agent {cli!r}")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("utf-8", "surrogateescape")
        try:
            payload = loads(text)
        except ValueError as e:
            return self._refuse(400, f"body is not JSON ({e})")
        if not isinstance(payload, dict):
            return self._refuse(400, f"body is a JSON {type(payload).__name__}, not an object")
        try:
            out = self.core.intake.hook(payload, cli, event, self.client_address[1] if self.tcp else None,
                                        sent_env(self.headers))
        except Exception as e:  # capture fails open; a decision fails closed
            sys.stderr.write(f"agent-strace daemon: hook not handled: {type(e).__name__}: {e}\n")
            out = _deny_on_error(payload, e)
        self._reply(200, dumps(out).encode("utf-8", "backslashreplace") if out else b"{}")
        if self.core.live.received % memory.TRIM_EVERY == 0:  # after the answer
            memory.trim()

    def _sync(self, body: bytes) -> None:
        try:
            req = loads(body.decode("utf-8")) if body else {}
            wait = min(MAX_WAIT_S, float((req or {}).get("timeout", 10)))
        except (ValueError, TypeError, AttributeError):
            return self._refuse(400, "body must be {\"timeout\": seconds}")
        self._json(200, {"idle": self.core.recoverer.wait_idle(wait)})


def sent_env(headers) -> dict | None:
    """The agent environment an HTTP hook sent (``setup/http_hooks.py``), or
    None when it sent none.  Header bytes are the UTF-8 the client wrote."""
    from ..setup.http_hooks import ENV_HEADERS, ENV_MARKER

    if headers.get(ENV_MARKER[0]) != ENV_MARKER[1]:
        return None
    env = {}
    for header, var in ENV_HEADERS.items():
        v = headers.get(header)
        if v:
            env[var] = v.encode("latin-1", "replace").decode("utf-8", "replace")
    return env


def _deny_on_error(payload: dict, e: Exception) -> dict | None:
    name = payload.get("hook_event_name")
    if name != "PreToolUse":
        return None
    reason = f"agent-strace: the daemon could not evaluate this call ({type(e).__name__}: {e}), so it is denied"
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                   "permissionDecisionReason": reason}}


class _Limited:
    """At most MAX_CONNECTIONS connections served at once; more are closed."""

    def _limit_init(self):
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def handle_error(self, request, client_address):  # one line, not a traceback
        e = sys.exc_info()[1]
        if not isinstance(e, (ConnectionError, TimeoutError)):
            sys.stderr.write(f"agent-strace daemon: request failed: {type(e).__name__}: {e}\n")

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class TCPServer(_Limited, ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):  # no getfqdn(): a reverse lookup offline can take seconds
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class UnixServer(_Limited, socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def make_servers(core: Core, socket_path: str | None):
    tcp_handler = type("TCPHandler", (Handler,), {"core": core, "tcp": True})
    tcp = TCPServer(("127.0.0.1", core.port), tcp_handler, bind_and_activate=False)
    tcp._limit_init()
    try:
        tcp.server_bind()
        tcp.server_activate()
    except OSError:
        tcp.server_close()
        raise
    servers: list[socketserver.BaseServer] = [tcp]
    if socket_path:
        try:
            os.makedirs(os.path.dirname(socket_path), mode=0o700, exist_ok=True)
            if os.stat(os.path.dirname(socket_path)).st_uid != os.getuid():
                raise PermissionError(f"{os.path.dirname(socket_path)} is not ours")
            try:
                os.unlink(socket_path)  # stale: we hold the daemon lock
            except FileNotFoundError:
                pass
            unix_handler = type("UnixHandler", (Handler,), {"core": core, "tcp": False})
            old = os.umask(0o177)
            try:
                unix = UnixServer(socket_path, unix_handler)
            finally:
                os.umask(old)
            unix._limit_init()
            servers.append(unix)
            core.socket_path = socket_path
        except OSError as e:
            sys.stderr.write(f"agent-strace daemon: no Unix socket ({e}); clients use TCP\n")
    return servers


class Loop:
    """Serves every server from one selector, woken by a pipe to stop:
    nothing runs while nothing arrives (no polling interval)."""

    def __init__(self, servers):
        self.servers = servers
        self._r, self._w = os.pipe()
        os.set_blocking(self._w, False)
        self.stopping = False

    def stop(self) -> None:  # signal-safe
        self.stopping = True
        try:
            os.write(self._w, b"x")
        except OSError:
            pass

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        for s in self.servers:
            sel.register(s, selectors.EVENT_READ, s)
        sel.register(self._r, selectors.EVENT_READ, None)
        try:
            while not self.stopping:
                for key, _ in sel.select():
                    if key.data is None:
                        os.read(self._r, 64)
                    elif not self.stopping:
                        key.data._handle_request_noblock()
        finally:
            sel.close()
            for s in self.servers:
                s.server_close()
            os.close(self._r)
            os.close(self._w)
