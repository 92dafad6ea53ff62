"""A streaming reverse proxy on the standard library.

Forwarding path: read the request (Content-Length or chunked), send it
upstream over a per-thread keep-alive connection, and copy the response to the
client as it arrives (``read1``): a fixed-length body keeps its length, a
chunked or open-ended body (SSE) is re-chunked piece by piece with a flush
after each.  Nothing on that path parses bodies.

Observation: an observer's ``request``, ``response``, ``chunk`` and ``end``
methods are called as ``(exchange, data, t)`` (``t`` = when the proxy saw it)
from a queue that a separate thread drains, so logging never delays traffic.  Observers must
treat the byte pieces as read-only.

Hop-by-hop headers are not forwarded; ``Host`` is set to the upstream's;
everything else (Authorization, Accept, Origin, Mcp-Session-Id, Last-Event-ID
...) passes through unchanged.  An optional ``rewrite_stream`` hook may
rewrite the first event of an SSE response (the legacy MCP ``endpoint``
event).
"""

from __future__ import annotations

import http.client
import queue
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                 "trailer", "trailers", "transfer-encoding", "upgrade", "proxy-connection"})
CHUNK = 1 << 16
BATCH_S = 0.005


class Exchange:
    """One request/response pair as observers see it."""

    __slots__ = ("id", "method", "path", "req_headers", "req_body", "status", "resp_headers",
                 "t_start", "t_first_byte", "t_end", "error", "extra")

    def __init__(self, xid: int, method: str, path: str, headers: list, body: bytes):
        self.id = xid
        self.method, self.path, self.req_headers, self.req_body = method, path, headers, body
        self.status = None
        self.resp_headers: list = []
        self.t_start = time.time()
        self.t_first_byte = None
        self.t_end = None
        self.error = None
        self.extra: dict = {}

    def resp_header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.resp_headers if k.lower() == name), None)

    def req_header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.req_headers if k.lower() == name), None)


class ObserverQueue:
    """Runs observer callbacks on one background thread, in arrival order."""

    def __init__(self, observer):
        self.observer = observer
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.failed = False
        self.thread = threading.Thread(target=self._loop, name="proxy-log", daemon=True)
        self.thread.start()

    def put(self, kind: str, ex: Exchange, data=None) -> None:
        self.q.put((kind, ex, data, time.time()))

    def _loop(self) -> None:
        while True:
            items = [self.q.get()]
            time.sleep(BATCH_S)  # gather a burst: fewer wake-ups competing with forwarding
            while True:
                try:
                    items.append(self.q.get_nowait())
                except queue.Empty:
                    break
            done = False
            for item in items:
                if item is None:
                    done = True
                    break
                if self.failed:
                    continue
                kind, ex, data, t = item
                try:
                    getattr(self.observer, kind)(ex, data, t)
                except Exception as e:  # traffic goes on; say so once
                    self.failed = True
                    sys.stderr.write(f"agent-strace proxy: logging stopped ({type(e).__name__}: {e}); "
                                     "traffic still forwarded\n")
            if hasattr(self.observer, "flush") and not self.failed:
                try:
                    self.observer.flush()
                except Exception as e:
                    self.failed = True
                    sys.stderr.write(f"agent-strace proxy: logging stopped ({type(e).__name__}: {e}); "
                                     "traffic still forwarded\n")
            if done:
                return

    def close(self, timeout: float = 5.0) -> None:
        self.q.put(None)
        self.thread.join(timeout)


class ReverseProxy:
    def __init__(self, upstream: str, observer=None, host: str = "127.0.0.1", port: int = 0,
                 rewrite_stream=None, timeout: float = 600.0, prefix_base: bool = False):
        u = urlsplit(upstream)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"upstream must be an http(s) URL, got {upstream!r}")
        self.scheme, self.up_host = u.scheme, u.hostname
        self.up_port = u.port or (443 if u.scheme == "https" else 80)
        self.up_netloc = u.netloc
        # With prefix_base, the upstream URL's path is a base that request paths
        # are put under (LLM APIs); otherwise it only names the endpoint (MCP).
        self.base_path = u.path.rstrip("/") if prefix_base and u.path not in ("", "/") else ""
        self.timeout = timeout
        self.rewrite_stream = rewrite_stream
        self.observers = ObserverQueue(observer) if observer is not None else None
        self._ids = 0
        self._ids_lock = threading.Lock()
        self._open: dict[int, Exchange] = {}  # exchanges in flight, ended for the log at stop
        self._local = threading.local()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.server.server_address[0]}:{self.port}"

    def start(self) -> "ReverseProxy":
        self.fast_handoff()
        self.thread = threading.Thread(target=self.server.serve_forever, name="proxy", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.fast_handoff()
        self.server.serve_forever()

    @staticmethod
    def fast_handoff() -> None:
        """Short GIL time slices: a forwarding thread woken by new bytes must
        not wait out the log thread's default 5 ms slice."""
        sys.setswitchinterval(0.0002)

    def stop(self) -> None:
        self.server.shutdown()
        self.close()

    def close(self) -> None:
        """Stop listening; exchanges still open (held SSE streams) are ended
        in the log as cut short, then the log is flushed."""
        self.server.server_close()
        with self._ids_lock:
            still_open = list(self._open.values())
            self._open.clear()
        if self.observers:
            for ex in still_open:
                ex.error = ex.error or "proxy stopped while the exchange was open"
                ex.t_end = time.time()
                self.observers.put("end", ex)
            self.observers.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- upstream connections ---------------------------------------------------
    def _conn(self, fresh: bool = False) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            conn = cls(self.up_host, self.up_port, timeout=self.timeout)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = conn
        return conn

    def _drop_conn(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def upstream_path(self, path: str) -> str:
        """Request paths are forwarded as they are, unless the upstream URL has
        a base path the request lacks (``--upstream https://host/api/v1`` with a
        client sending ``/chat/completions``)."""
        base = self.base_path
        if not base or path == base or path.startswith((base + "/", base + "?")):
            return path
        return base + path

    def _next_id(self) -> int:
        with self._ids_lock:
            self._ids += 1
            return self._ids

    def _observe(self, kind: str, ex: Exchange, data=None) -> None:
        if self.observers is None:
            return
        with self._ids_lock:
            if kind == "request":
                self._open[ex.id] = ex
            elif kind == "end" and self._open.pop(ex.id, None) is None:
                return  # already ended (by close())
        self.observers.put(kind, ex, data)

    # -- the handler --------------------------------------------------------------
    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                # small writes (headers, SSE events) must not wait for Nagle
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _read_body(self) -> bytes:
                te = (self.headers.get("transfer-encoding") or "").lower()
                if "chunked" in te:
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(parts)
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                n = int(self.headers.get("content-length") or 0)
                return self.rfile.read(n) if n else b""

            def _forward(self):
                body = self._read_body()
                headers = [(k, v) for k, v in self.headers.items()
                           if k.lower() not in HOP and k.lower() not in ("host", "content-length")]
                headers.append(("Host", proxy.up_netloc))
                if body or self.command in ("POST", "PUT", "PATCH"):
                    headers.append(("Content-Length", str(len(body))))
                ex = Exchange(proxy._next_id(), self.command, self.path, headers, body)
                proxy._observe("request", ex)
                try:
                    resp = self._send_upstream(headers, body)
                except OSError as e:
                    ex.error = f"upstream unreachable: {e}"
                    ex.status = 502
                    ex.t_end = time.time()
                    msg = f"agent-strace proxy: upstream unreachable: {e}\n".encode()
                    self.send_response(502)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    proxy._observe("end", ex)
                    return
                self._relay(ex, resp)

            def _send_upstream(self, headers, body):
                for attempt in (0, 1):  # a kept-alive connection may have been closed upstream
                    conn = proxy._conn(fresh=attempt == 1)
                    try:
                        conn.putrequest(self.command, proxy.upstream_path(self.path),
                                        skip_host=True, skip_accept_encoding=True)
                        for k, v in headers:
                            conn.putheader(k, v)
                        conn.endheaders(body if body else None)
                        return conn.getresponse()
                    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                            http.client.CannotSendRequest, http.client.ResponseNotReady):
                        if attempt == 1:
                            raise
                raise OSError("unreachable")

            def _relay(self, ex: Exchange, resp):
                ex.status = resp.status
                ex.resp_headers = resp.getheaders()
                ex.t_first_byte = time.time()
                length = resp.getheader("content-length")
                stream = length is None and self.command != "HEAD" and resp.status not in (204, 304)
                self.send_response_only(resp.status, resp.reason)
                for k, v in ex.resp_headers:
                    if k.lower() in HOP or (stream and k.lower() == "content-length"):
                        continue
                    self.send_header(k, v)
                if stream:
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                proxy._observe("response", ex)
                rewrite = proxy.rewrite_stream(ex) if proxy.rewrite_stream and stream else None
                try:
                    while True:
                        data = resp.read1(CHUNK) if not resp.isclosed() else b""
                        if not data:
                            break
                        if rewrite is not None:
                            data = rewrite(data)
                            if not data:
                                continue
                        proxy._observe("chunk", ex, data)  # before the client can answer it
                        if stream:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        else:
                            self.wfile.write(data)
                        self.wfile.flush()
                    if stream:
                        self.wfile.write(b"0\r\n\r\n")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError) as e:
                    ex.error = ("client disconnected" if isinstance(e, (BrokenPipeError, ConnectionResetError))
                                else f"stream broken: {e}")
                    proxy._drop_conn()
                    self.close_connection = True
                except http.client.IncompleteRead as e:
                    ex.error = f"upstream closed mid-response: {e}"
                    proxy._drop_conn()
                    self.close_connection = True
                finally:
                    # read1 does not mark a fixed-length body done when it has
                    # read it all; close it so the connection can be reused.
                    will_close = resp.will_close
                    resp.close()
                    if will_close or ex.error:
                        proxy._drop_conn()
                    ex.t_end = time.time()
                    proxy._observe("end", ex)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _forward

        return Handler
