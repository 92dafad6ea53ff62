"""A streaming HTTP/1.1 reverse proxy on raw sockets (standard library only).

Forwarding path, per client connection (keep-alive, one thread):

* read the request head and body (Content-Length or chunked; ``Expect:
  100-continue`` answered), send one request upstream over a per-thread
  keep-alive connection; a ``Host`` naming this proxy becomes the upstream's,
  any other ``Host`` passes unchanged (so DNS-rebinding checks still work);
* copy the response head as received (minus hop-by-hop connection headers)
  and the body bytes exactly as they arrive, chunk framing included; a small
  streaming decoder only watches the framing to know where the body ends.

Nothing on that path builds header objects (``http.server`` and
``http.client`` run the ``email`` parser per message, a large share of a
loopback round trip).  Header names and order are kept.

Observation: an observer's ``request``, ``response``, ``chunk`` (decoded body
bytes) and ``end`` methods are called as ``(exchange, data, t)`` from a queue
that a separate thread drains in batches, so logging never delays traffic.
Observers get the bytes before the client does, so a logged request always
precedes anything answering it.

``rewrite_stream(exchange)`` may return a function that rewrites an SSE
response's decoded bytes (the legacy MCP ``endpoint`` event); such responses
are re-chunked.

``answer(exchange)`` may return a :class:`LocalReply` to answer a request
here instead of forwarding it (the fork server plays recorded calls this
way); observers see it like any other exchange.
"""

from __future__ import annotations

import queue
import socket
import socketserver
import ssl
import sys
import threading
import time
from urllib.parse import urlsplit

HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
                 b"trailer", b"upgrade", b"proxy-connection"})
CHUNK = 1 << 16
BATCH_S = 0.005
MAX_HEAD = 1 << 20
MAX_REQUEST_BODY = 256 * 1024 * 1024  # LLM requests with images stay far below
CLIENT_TIMEOUT_S = 300.0  # a client idle this long (no request, or a stalled body) is closed


class ProtocolError(Exception):
    """The peer broke HTTP; ``status`` is what to answer when nothing was sent yet."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class UpstreamError(ProtocolError):
    """The upstream answered something that is not HTTP: the client gets 502."""

    def __init__(self, message: str):
        super().__init__(message, 502)


class Exchange:
    """One request/response pair as observers see it."""

    __slots__ = ("id", "method", "path", "req_headers", "req_body", "status", "resp_headers",
                 "t_start", "t_first_byte", "t_end", "error", "extra")

    def __init__(self, xid: int, method: str, path: str, headers: list, body: bytes):
        self.id = xid
        self.method, self.path, self.req_headers, self.req_body = method, path, headers, body
        self.status: int | None = None
        self.resp_headers: list = []
        self.t_start = time.time()
        self.t_first_byte: float | None = None
        self.t_end: float | None = None
        self.error: str | None = None
        self.extra: dict = {}

    def resp_header(self, name: str) -> str | None:
        return _get(self.resp_headers, name)

    def req_header(self, name: str) -> str | None:
        return _get(self.req_headers, name)


def _get(headers, name: str) -> str | None:
    name = name.lower()
    return next((v for k, v in headers if k.lower() == name), None)


class LocalReply:
    """A response made here: ``status`` None closes the connection without
    one (a recorded transport error); ``stream`` sends ``chunks`` one by one
    (chunked), else as one body."""

    __slots__ = ("status", "headers", "chunks", "stream")

    def __init__(self, status: int | None, headers: list[tuple[str, str]], chunks: list[bytes], stream: bool):
        self.status, self.headers, self.chunks, self.stream = status, headers, chunks, stream


class ObserverQueue:
    """Runs observer callbacks on one background thread, in arrival order,
    in batches; an observer's optional ``flush()`` runs once per batch."""

    def __init__(self, observer):
        self.observer = observer
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.reported: set[str] = set()
        self.thread = threading.Thread(target=self._loop, name="proxy-log", daemon=True)
        self.thread.start()

    def put(self, kind: str, ex: Exchange, data=None) -> None:
        self.q.put((kind, ex, data, time.time()))

    def _fail(self, e: Exception) -> None:
        """One failing callback (a hostile exchange, a full disk) is said once
        and logging goes on: later exchanges are still logged."""
        key = type(e).__name__
        if key not in self.reported:
            self.reported.add(key)
            sys.stderr.write(f"agent-strace proxy: an exchange could not be logged ({key}: {e}); "
                             "traffic still forwarded\n")

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
                kind, ex, data, t = item
                try:
                    getattr(self.observer, kind)(ex, data, t)
                except Exception as e:  # traffic goes on; say so once
                    self._fail(e)
            if hasattr(self.observer, "flush"):
                try:
                    self.observer.flush()
                except Exception as e:
                    self._fail(e)
            if done:
                return

    def close(self, timeout: float = 5.0) -> None:
        self.q.put(None)
        self.thread.join(timeout)


class ChunkedDecoder:
    """Watches chunked transfer coding as it streams past; returns the decoded
    payload of each piece and sets ``done`` at the end of the body.

    A bad chunk size does not lose what came before it: ``feed`` returns the
    payload decoded up to the bad line and sets ``error``; the caller passes
    on the bytes it has and then ends the message."""

    def __init__(self):
        self.state = "size"
        self.line = b""
        self.remaining = 0
        self.done = False
        self.error: str | None = None

    def feed(self, data: bytes) -> bytes:
        out = []
        i, n = 0, len(data)
        while i < n and not self.done and self.error is None:
            if self.state == "data":
                take = min(self.remaining, n - i)
                out.append(data[i:i + take])
                i += take
                self.remaining -= take
                if self.remaining == 0:
                    self.state = "crlf"
                continue
            j = data.find(b"\n", i)
            if j == -1:
                self.line += data[i:]
                if len(self.line) > 4096:
                    self.error = "chunk size line too long"
                break
            line = (self.line + data[i:j]).rstrip(b"\r")
            self.line = b""
            i = j + 1
            if self.state == "size":
                size = line.split(b";")[0].strip()
                if not size or len(size) > 16 or not all(c in b"0123456789abcdefABCDEF" for c in size):
                    self.error = f"bad chunk size {line[:40]!r}"
                    break
                self.remaining = int(size, 16)
                self.state = "data" if self.remaining else "trailer"
            elif self.state == "crlf":
                self.state = "size"
            elif self.state == "trailer" and line == b"":
                self.done = True
        return b"".join(out)


def _read_head(f) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """(start line, [(name, value)]) of one message head; EOFError at a clean close."""
    start = f.readline(65537)
    while start in (b"\r\n", b"\n"):  # tolerate stray CRLF between messages
        start = f.readline(65537)
    if not start:
        raise EOFError
    headers, size = [], len(start)
    while True:
        line = f.readline(65537)
        size += len(line)
        if size > MAX_HEAD:
            raise ProtocolError("header section too large")
        if line in (b"\r\n", b"\n", b""):
            break
        name, sep, value = line.partition(b":")
        if not sep:
            raise ProtocolError(f"bad header line {line[:60]!r}")
        headers.append((name.strip(), value.strip()))
    return start.rstrip(b"\r\n"), headers


def _hget(headers, name: bytes) -> bytes | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _read_fixed(f, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ProtocolError("body shorter than Content-Length")
    return data


def _read_chunked_request(f, limit: int) -> bytes:
    dec, parts, size = ChunkedDecoder(), [], 0
    while not dec.done:
        line = f.readline(65537)
        if not line:
            raise ProtocolError("request body cut short")
        parts.append(dec.feed(line))
        if dec.error:
            raise ProtocolError(dec.error)
        if dec.state == "data":
            size += dec.remaining
            if size > limit:
                raise ProtocolError(f"request body over the {limit}-byte limit", 413)
            parts.append(dec.feed(_read_fixed(f, dec.remaining)))
    return b"".join(parts)


def content_length(value: bytes | None, limit: int | None = None) -> int | None:
    """A ``Content-Length`` value, strictly: digits only (no sign, no spaces
    inside, no hex).  Raises :class:`ProtocolError` otherwise."""
    if value is None:
        return None
    v = value.strip()
    if not v or len(v) > 18 or not v.isdigit():
        raise ProtocolError(f"bad Content-Length {value[:40]!r}")
    n = int(v)
    if limit is not None and n > limit:
        raise ProtocolError(f"request body of {n} bytes is over the {limit}-byte limit", 413)
    return n


def _response_framing(status_line: bytes, headers) -> tuple[int, int | None]:
    """(status, Content-Length or None) of an upstream response head;
    :class:`UpstreamError` when it is not HTTP."""
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not (parts[1].isdigit() and len(parts[1]) == 3):
        raise UpstreamError(f"bad status line {status_line[:60]!r}")
    lengths = {v.strip() for k, v in headers if k.lower() == b"content-length"}
    if len(lengths) > 1:
        raise UpstreamError("conflicting Content-Length headers")
    try:
        length = content_length(lengths.pop() if lengths else None)
    except ProtocolError as e:
        raise UpstreamError(str(e)) from None
    return int(parts[1]), length


def _text(headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]


class ReverseProxy:
    def __init__(self, upstream: str, observer=None, host: str = "127.0.0.1", port: int = 0,
                 rewrite_stream=None, timeout: float = 600.0, prefix_base: bool = False, answer=None):
        u = urlsplit(upstream)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"upstream must be an http(s) URL, got {upstream!r}")
        self.scheme, self.up_host = u.scheme, u.hostname
        self.up_port = u.port or (443 if u.scheme == "https" else 80)
        self.up_netloc = u.netloc.encode("latin-1")
        # With prefix_base, the upstream URL's path is a base that request paths
        # are put under (LLM APIs); otherwise it only names the endpoint (MCP).
        self.base_path = u.path.rstrip("/") if prefix_base and u.path not in ("", "/") else ""
        self.timeout = timeout
        self.rewrite_stream = rewrite_stream
        self.answer = answer
        self.observers = ObserverQueue(observer) if observer is not None else None
        self._ids = 0
        self._lock = threading.Lock()
        self._open: dict[int, Exchange] = {}  # exchanges in flight, ended for the log at close
        self._local = threading.local()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy._serve_connection(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((host, port), Handler)
        self.thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.server.server_address[0]!s}:{self.port}"

    @staticmethod
    def fast_handoff() -> None:
        """Short GIL time slices: a forwarding thread woken by new bytes must
        not wait out the log thread's default 5 ms slice."""
        sys.setswitchinterval(0.0002)

    def start(self) -> "ReverseProxy":
        self.fast_handoff()
        self.thread = threading.Thread(target=self.server.serve_forever, name="proxy", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.fast_handoff()
        self.server.serve_forever()

    def serve_until_signal(self) -> None:
        """Serve in this thread until Ctrl-C or SIGTERM, then :meth:`close`."""
        import signal

        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def stop(self) -> None:
        self.server.shutdown()
        self.close()

    def close(self) -> None:
        """Stop listening; exchanges still open (held SSE streams) are ended
        in the log as cut short, then the log is flushed."""
        self.server.server_close()
        with self._lock:
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

    # -- helpers ----------------------------------------------------------------
    def upstream_path(self, path: str) -> str:
        """Request paths are forwarded as they are, unless the upstream URL has
        a base path the request lacks (``--upstream https://host/api/v1`` with a
        client sending ``/chat/completions``)."""
        base = self.base_path
        if not base or path == base or path.startswith((base + "/", base + "?")):
            return path
        return base + path

    def _observe(self, kind: str, ex: Exchange, data=None) -> None:
        if self.observers is None:
            return
        with self._lock:
            if kind == "request":
                self._open[ex.id] = ex
            elif kind == "end" and self._open.pop(ex.id, None) is None:
                return  # already ended (by close())
        self.observers.put(kind, ex, data)

    def _upstream(self, fresh: bool = False):
        conn = getattr(self._local, "up", None)
        if conn is not None and not fresh:
            return conn
        if conn is not None:
            conn[0].close()
        sock = socket.create_connection((self.up_host, self.up_port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.up_host)
        conn = (sock, sock.makefile("rb"))
        self._local.up = conn
        return conn

    def _drop_upstream(self) -> None:
        conn = getattr(self._local, "up", None)
        if conn is not None:
            try:
                conn[1].close()
                conn[0].close()
            except OSError:
                pass
            self._local.up = None

    # -- one client connection -------------------------------------------------------
    def _serve_connection(self, client: socket.socket) -> None:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.settimeout(CLIENT_TIMEOUT_S)
        rfile = client.makefile("rb")
        try:
            while True:
                try:
                    keep = self._one_exchange(client, rfile)
                except (EOFError, ConnectionError, socket.timeout):
                    return
                except ProtocolError as e:
                    self._reply(client, e.status, f"agent-strace proxy: {e}\n")
                    return
                if not keep:
                    return
        finally:
            self._drop_upstream()
            try:
                rfile.close()
            except OSError:
                pass

    @staticmethod
    def _reply(client, status: int, text: str) -> None:
        body = text.encode()
        reason = {400: "Bad Request", 413: "Content Too Large", 502: "Bad Gateway"}.get(status, "Error")
        try:
            client.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                           b"Connection: close\r\n\r\n%s" % (status, reason.encode(), len(body), body))
        except OSError:
            pass

    def _one_exchange(self, client, rfile) -> bool:
        start, headers = _read_head(rfile)
        try:
            method, target, version = start.split(b" ", 2)
        except ValueError:
            raise ProtocolError(f"bad request line {start[:60]!r}") from None
        # type-checker: the same header just checked present
        if _hget(headers, b"expect") and _hget(headers, b"expect").lower() == b"100-continue":  # type: ignore[union-attr]
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        te = (_hget(headers, b"transfer-encoding") or b"").lower()
        lengths = [v for k, v in headers if k.lower() == b"content-length"]
        if len(set(lengths)) > 1 or (lengths and te):
            raise ProtocolError("conflicting Content-Length / Transfer-Encoding headers")
        if b"chunked" in te:
            body = _read_chunked_request(rfile, MAX_REQUEST_BODY)
        elif te:
            raise ProtocolError(f"unsupported Transfer-Encoding {te[:40]!r}")
        else:
            n = content_length(lengths[0] if lengths else None, MAX_REQUEST_BODY) or 0
            body = _read_fixed(rfile, n) if n else b""
        conn_hdr = (_hget(headers, b"connection") or b"").lower()
        client_keep = version == b"HTTP/1.1" and b"close" not in conn_hdr
        fwd = [(k, v) for k, v in headers
               if k.lower() not in HOP and k.lower() not in (b"host", b"content-length", b"transfer-encoding",
                                                             b"expect")]
        fwd.append((b"Host", self._upstream_host(_hget(headers, b"host"))))
        if body or method in (b"POST", b"PUT", b"PATCH"):
            fwd.append((b"Content-Length", str(len(body)).encode()))
        path = self.upstream_path(target.decode("latin-1"))
        head = b"%s %s HTTP/1.1\r\n%s\r\n" % (method, path.encode("latin-1"),
                                              b"".join(k + b": " + v + b"\r\n" for k, v in fwd))
        ex = Exchange(self._next_id(), method.decode("latin-1"), target.decode("latin-1"), _text(fwd), body)
        local = self.answer(ex) if self.answer is not None else None
        if local is not None:
            return self._answer_locally(client, ex, local) and client_keep
        self._observe("request", ex)
        try:
            up_sock, up_file, status_line, resp_headers = self._send(head + body)
            status, length = _response_framing(status_line, resp_headers)
        except (OSError, EOFError, ProtocolError) as e:
            what = "upstream unreachable" if isinstance(e, (OSError, EOFError)) else "upstream sent no valid HTTP"
            ex.error, ex.status, ex.t_end = f"{what}: {e}", 502, time.time()
            self._observe("end", ex)
            self._drop_upstream()
            self._reply(client, 502, f"agent-strace proxy: {what}: {e}\n")
            return False
        return self._relay(client, ex, method, up_file, status_line, resp_headers, status, length) and client_keep

    def _answer_locally(self, client, ex: Exchange, reply: LocalReply) -> bool:
        self._observe("request", ex)
        if reply.status is None:
            ex.error, ex.t_end = "no response (recorded transport error)", time.time()
            self._observe("end", ex)
            return False
        from http import HTTPStatus

        try:
            reason = HTTPStatus(reply.status).phrase
        except ValueError:
            reason = "Status"
        headers = [(k, v) for k, v in reply.headers if k.lower() not in ("content-length", "transfer-encoding",
                                                                             "connection")]
        body = b"" if reply.stream else b"".join(reply.chunks)
        headers.append(("Transfer-Encoding", "chunked") if reply.stream else ("Content-Length", str(len(body))))
        ex.status, ex.resp_headers, ex.t_first_byte = reply.status, headers, time.time()
        self._observe("response", ex)
        head = f"HTTP/1.1 {reply.status} {reason}\r\n".encode() + b"".join(
            f"{k}: {v}\r\n".encode("latin-1", "replace") for k, v in headers) + b"\r\n"
        keep = True
        try:
            if not reply.stream:
                if body:
                    self._observe("chunk", ex, body)
                client.sendall(head + body)
            else:
                client.sendall(head)
                for chunk in reply.chunks:
                    if chunk:
                        self._observe("chunk", ex, chunk)
                        client.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                client.sendall(b"0\r\n\r\n")
        except OSError as e:
            ex.error, keep = f"client disconnected: {e}", False
        finally:
            ex.t_end = time.time()
            self._observe("end", ex)
        return keep

    def _upstream_host(self, host: bytes | None) -> bytes:
        """Host semantics: a request addressed to this proxy is re-addressed to
        the upstream; any other Host (a DNS-rebinding attempt, a virtual host)
        passes unchanged so the server can judge it as it would directly."""
        if host is None:
            return self.up_netloc
        name, _, port = host.decode("latin-1").rpartition(":")
        if not name or not port.isdigit():
            name, port = host.decode("latin-1"), "80"
        local = name.strip("[]").lower() in ("localhost", "127.0.0.1", "::1", self.server.server_address[0])
        return self.up_netloc if local and int(port) == self.port else host

    def _next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def _send(self, data: bytes):
        for attempt in (0, 1):  # a kept-alive upstream connection may have been closed
            sock, f = self._upstream(fresh=attempt == 1)
            try:
                sock.sendall(data)
                status_line, resp_headers = _read_head(f)
                while status_line.split(b" ", 2)[1:2] == [b"100"]:  # interim responses
                    status_line, resp_headers = _read_head(f)
                return sock, f, status_line, resp_headers
            except (ConnectionError, EOFError):
                self._drop_upstream()
                if attempt == 1:
                    raise
        raise OSError("unreachable")

    def _relay(self, client, ex: Exchange, method: bytes, up_file, status_line: bytes, resp_headers,
               status: int, length: int | None) -> bool:
        """Copy the response to the client; returns whether both sides stay open."""
        ex.status = status
        ex.resp_headers = _text(resp_headers)
        ex.t_first_byte = time.time()
        te = (_hget(resp_headers, b"transfer-encoding") or b"").lower()
        no_body = method == b"HEAD" or status in (204, 304) or 100 <= status < 200
        chunked = b"chunked" in te and not no_body
        up_close = b"close" in (_hget(resp_headers, b"connection") or b"").lower()
        until_eof = not no_body and not chunked and length is None
        rewrite = self.rewrite_stream(ex) if self.rewrite_stream and not no_body else None
        out_headers = [(k, v) for k, v in resp_headers if k.lower() not in HOP]
        if rewrite is not None:  # we change the bytes: we do the framing
            out_headers = [(k, v) for k, v in out_headers if k.lower() not in (b"content-length",
                                                                                b"transfer-encoding")]
            out_headers.append((b"Transfer-Encoding", b"chunked"))
        if until_eof and rewrite is None:
            out_headers.append((b"Connection", b"close"))
        head = status_line + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in out_headers) + b"\r\n"
        self._observe("response", ex)
        keep = not until_eof and not up_close
        try:
            client.sendall(head)
            if not no_body:
                self._copy_body(client, ex, up_file, chunked, length if not chunked else None, rewrite)
        except (BrokenPipeError, ConnectionResetError) as e:
            ex.error = f"client disconnected: {e}"
            keep = False
        except (OSError, ProtocolError) as e:
            ex.error = f"upstream closed mid-response: {e}"
            keep = False
        finally:
            ex.t_end = time.time()
            self._observe("end", ex)
            if not keep or up_close:
                self._drop_upstream()
        return keep and not until_eof

    def _copy_body(self, client, ex, up_file, chunked: bool, length: int | None, rewrite) -> None:
        dec = ChunkedDecoder() if chunked else None
        remaining = length
        while True:
            if remaining is not None and remaining <= 0:
                break
            data = up_file.read1(CHUNK if remaining is None else min(CHUNK, remaining))
            if not data:
                if remaining is not None or (dec is not None and not dec.done):
                    raise ProtocolError("upstream closed before the body ended")
                break
            if remaining is not None:
                remaining -= len(data)
            payload = dec.feed(data) if dec is not None else data
            if rewrite is not None:
                payload = rewrite(payload)
                if payload:
                    self._observe("chunk", ex, payload)
                    client.sendall(b"%x\r\n%s\r\n" % (len(payload), payload))
            else:
                if payload:
                    self._observe("chunk", ex, payload)
                client.sendall(data)  # the bytes as received, framing included
            if dec is not None and dec.error:  # what came before it was passed on; the message ends here
                raise UpstreamError(dec.error)
            if dec is not None and dec.done:
                break
        if rewrite is not None:
            client.sendall(b"0\r\n\r\n")
