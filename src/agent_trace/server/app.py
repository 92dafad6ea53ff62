"""The server's HTTP surface: ingest (events, OTLP traces and logs), the
dashboard's read API with live updates (SSE), and the dashboard's files.

Security: when a token is set (the shared ``--token``, or any per-user token
from ``server token add``) every route but ``/healthz`` needs one, as a
bearer header or as the cookie a browser gets by opening ``/?token=...``
once.  :func:`check_bind` refuses to listen beyond loopback without one.
Every request passes the guards of :mod:`.http_guard` first (Host against the
bound address, same-origin only, JSON/protobuf bodies only, a well-formed
Content-Length, socket timeouts, anti-framing headers).  Request bodies have a
size limit, before and after gzip.

Storage is a backend (:mod:`.storage`): files or PostgreSQL, same routes.
When the backend cannot answer (database down) the answer is 503 and
nothing is acknowledged.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from .. import __version__
from ..store.paths import SessionNotFound, Store
from . import api, otlp_in
from .http_guard import (DEFAULT_TIMEOUT_S, JSON_TYPES, PROTOBUF_TYPES, RESPONSE_HEADERS, Refusal, RequestGuard,
                         check_content_type, content_length)
from .ingest import parse_batch
from .query_params import BadParam, number
from .storage import StorageUnavailable
from .tokens import TokenError, digest

DEFAULT_MAX_BODY = 32 * 1024 * 1024
COOKIE = "agent_strace_token"
LIVE_POLL_S = 0.2
KEEPALIVE_S = 15.0
STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/static/team.js": ("team.js", "text/javascript; charset=utf-8"),
          "/static/app.css": ("app.css", "text/css; charset=utf-8")}


class ConfigError(Exception):
    pass


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token) -> None:
    if not token and not is_loopback(host):
        raise ConfigError(f"listening on {host} needs a token: pass --token, set AGENT_STRACE_TOKEN or add "
                          "per-user tokens with `agent-strace server token add NAME` "
                          "(without one, bind to 127.0.0.1)")


def web_file(name: str) -> bytes:
    return resources.files("agent_trace").joinpath("web", name).read_bytes()


class Collector:
    """The server's state: storage backend, settings; one per process."""

    def __init__(self, storage, *, token: str | None = None, max_body: int = DEFAULT_MAX_BODY,
                 ingest: bool = True, allowed_hosts=(), timeout: float = DEFAULT_TIMEOUT_S, notifier=None):
        """``notifier``: a :class:`agent_trace.notify.live.LiveNotifier` told
        about every newly stored event (``server --notify``/``--rules``).
        ``storage``: a backend, or a :class:`Store` (the files backend over it)."""
        if isinstance(storage, Store):
            from .file_storage import FileStorage

            storage = FileStorage(storage, ingest=ingest)
        self.storage = storage
        self.timeout = timeout
        self.token = token
        self.max_body = max_body
        self.ingest = ingest
        self.allowed_hosts = tuple(allowed_hosts)
        self.guard = RequestGuard("127.0.0.1", self.allowed_hosts)  # make_server sets the bound host
        self.notifier = notifier
        if notifier is not None:
            storage.on_accepted = notifier.events_accepted
        self.stopping = threading.Event()
        self.received = 0

    def authenticate(self, given: str | None) -> tuple[bool, str | None]:
        """(allowed, sender): the shared token gives no sender, a per-user
        token its name.  With no token of either kind, everyone is allowed
        (loopback only, see :func:`check_bind`)."""
        named = self.storage.active_tokens()
        if given is not None and not (self.token and hmac.compare_digest(
                given.encode("utf-8", "surrogatepass"), self.token.encode("utf-8", "surrogatepass"))):
            name = named.get(digest(given))
            if name is None:  # added since the list was read? look again (rate-limited)
                named = self.storage.active_tokens(fresh=True)
                name = named.get(digest(given))
            if name:
                return True, name
        elif given is not None:
            return True, None  # the shared token
        if not self.token and not named:
            return True, None
        return False, None

    def needs_token(self) -> bool:
        return bool(self.token or self.storage.active_tokens())


def make_server(collector: Collector, host: str, port: int) -> ThreadingHTTPServer:
    check_bind(host, collector.needs_token())
    collector.guard = RequestGuard(host, collector.allowed_hosts)
    handler = type("BoundHandler", (Handler,), {"collector": collector, "timeout": collector.timeout})
    cls = ThreadingHTTPServer
    if ":" in host:
        import socket

        # type-checker: the IPv6 subclass of the same server
        cls = type("Server6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})  # type: ignore[assignment]
    srv = cls((host, port), handler)
    srv.daemon_threads = True
    return srv


class Handler(BaseHTTPRequestHandler):
    collector: Collector
    protocol_version = "HTTP/1.1"
    server_version = f"agent-strace/{__version__}"
    timeout = DEFAULT_TIMEOUT_S  # socket timeout: an idle or stalled client frees its thread

    def log_message(self, fmt, *args):  # quiet; errors are answered, not logged
        pass

    # -- plumbing -------------------------------------------------------------
    def _send(self, code: int, body: bytes, ctype: str = "application/json", headers: dict | None = None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in RESPONSE_HEADERS.items():
            self.send_header(k, v)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, code: int, obj) -> None:
        try:
            text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except ValueError:  # inf/nan (compare's "up from 0"): not JSON, sent as null
            text = json.dumps(_finite(obj), ensure_ascii=False, separators=(",", ":"))
        self._send(code, text.encode("utf-8", "backslashreplace"))

    def _error(self, code: int, message: str, headers: dict | None = None) -> None:
        self._send(code, json.dumps({"error": message}, ensure_ascii=False).encode("utf-8", "backslashreplace"),
                   headers=headers)

    def _authorized(self) -> bool:
        """Whether the request carries a valid token; sets ``self.sender``
        (the per-user token's name, or None)."""
        self.sender = None
        given = None
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if given is None:
            for part in (self.headers.get("Cookie") or "").split(";"):
                k, _, v = part.strip().partition("=")
                if k == COOKIE:
                    given = urllib.parse.unquote(v)
        ok, self.sender = self.collector.authenticate(given)
        return ok

    def _refuse(self, r: Refusal) -> None:
        self.close_connection = True  # the body (if any) is not read
        self._error(r.status, r.message)

    def _guard(self, navigation: bool = False) -> bool:
        """Host and Origin checks; False after answering a refusal."""
        h = self.headers
        try:
            self.collector.guard.check_host(h.get("Host"))
            self.collector.guard.check_origin(h.get("Origin"), h.get("Host"), h.get("Sec-Fetch-Site"), navigation)
        except Refusal as r:
            self._refuse(r)
            return False
        return True

    def _body(self, types) -> bytes | None:
        """The request body (gunzipped), or None after answering an error."""
        limit = self.collector.max_body
        try:
            check_content_type(self.headers.get("Content-Type"), types)
            n = content_length(self.headers.get("Content-Length"), limit)
        except Refusal as r:
            self._refuse(r)
            return None
        data = self.rfile.read(n)
        if len(data) != n:
            self._refuse(Refusal(400, "body shorter than Content-Length"))
            return None
        enc = (self.headers.get("Content-Encoding") or "").lower()
        if enc == "gzip":
            try:
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = d.decompress(data, limit * 8)
                if d.unconsumed_tail:
                    self._error(413, f"body is over {limit * 8} bytes uncompressed")
                    return None
            except zlib.error as e:
                self._error(400, f"bad gzip body: {e}")
                return None
        elif enc not in ("", "identity"):
            self._error(415, f"unsupported Content-Encoding {enc!r}")
            return None
        return data

    # -- routes ---------------------------------------------------------------
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        if not self._guard(navigation=path in STATIC):
            return
        if path == "/healthz":
            return self._json(200, {"ok": True, "version": __version__})
        try:
            return self._get(path, params)
        except StorageUnavailable as e:
            return self._error(503, str(e), {"Retry-After": "1"})
        except TokenError as e:
            return self._error(503, str(e))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a bug must not take the connection down unanswered
            return self._internal_error(e)

    def _get(self, path: str, params: dict):
        if "token" in params and path in STATIC and self.collector.needs_token():
            # a browser's first visit: trade the query token for a cookie
            if self.collector.authenticate(params["token"])[0]:
                cookie = f"{COOKIE}={urllib.parse.quote(params['token'])}; HttpOnly; SameSite=Strict; Path=/"
                return self._send(303, b"", "text/plain", {"Location": path, "Set-Cookie": cookie})
        if not self._authorized():
            return self._error(401, "missing or wrong token")
        storage = self.collector.storage
        try:
            if path in STATIC:
                name, ctype = STATIC[path]
                return self._send(200, web_file(name), ctype)
            if path == "/api/sessions":
                return self._json(200, storage.sessions(params))
            if path == "/api/search":
                return self._json(200, storage.search(params))
            if path == "/api/trends":
                return self._json(200, storage.trends(params))
            if path == "/api/compare":
                if not params.get("a") or not params.get("b"):
                    return self._error(400, "compare needs two sessions: ?a=SESSION&b=SESSION")
                tolerance = number(params.get("tolerance"), "tolerance")
                return self._json(200, storage.compare(params["a"], params["b"],
                                                       20.0 if tolerance is None else tolerance))
            if path == "/api/live":
                return self._live_list()
            if path.startswith("/api/sessions/"):
                parts = path[len("/api/sessions/"):].split("/")
                ref = urllib.parse.unquote(parts[0])
                sub = parts[1] if len(parts) > 1 else ""
                if sub == "":
                    return self._json(200, storage.session(ref))
                if sub == "events":
                    return self._json(200, storage.events_page(ref, _int(params.get("from"), 0),
                                                               max(1, min(5000, _int(params.get("limit"), api.PAGE)))))
                if sub == "live":
                    return self._live_session(ref, _int(params.get("from"), 0))
        except SessionNotFound as e:
            return self._error(404, str(e))
        except BadParam as e:
            return self._error(400, str(e))
        self._error(404, f"no such page: {path}")

    def do_POST(self):
        try:
            return self._post()
        except StorageUnavailable as e:
            # nothing was acknowledged: the client keeps the batch and retries
            return self._error(503, str(e), {"Retry-After": "1"})
        except TokenError as e:
            self.close_connection = True
            return self._error(503, str(e))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:
            return self._internal_error(e)

    def _internal_error(self, e: Exception) -> None:
        import sys
        import traceback

        sys.stderr.write(f"agent-strace server: {self.command} {urllib.parse.urlsplit(self.path).path}: "
                         f"{''.join(traceback.format_exception(e)).rstrip()}\n")
        self.close_connection = True
        try:
            self._error(500, f"internal error: {type(e).__name__}")
        except OSError:
            pass

    def _post(self):
        path = urllib.parse.urlsplit(self.path).path
        if not self._guard():
            return
        if not self._authorized():
            self.close_connection = True
            return self._error(401, "missing or wrong token")
        if not self.collector.ingest:
            return self._error(404, "this server does not accept events (agent-strace ui is read-only)")
        if path not in ("/v1/events", "/v1/traces", "/v1/logs"):
            return self._error(404, f"no such endpoint: {path}")
        body = self._body(JSON_TYPES if path == "/v1/events" else JSON_TYPES[:1] + PROTOBUF_TYPES)
        if body is None:
            return
        storage = self.collector.storage
        if path == "/v1/events":
            events, rejected = parse_batch(body)
            counts = storage.ingest(events, self.sender)
            counts["rejected"] += rejected
            self.collector.received += counts["accepted"]
            return self._json(200, counts)
        kind = path.rsplit("/", 1)[1]
        ctype = self.headers.get("Content-Type") or ""
        try:
            events = otlp_in.events_from_body(kind, body, ctype)
        except otlp_in.OtlpError as e:
            code = 415 if "content type" in str(e) else 400
            return self._error(code, str(e))
        counts = storage.ingest(events, self.sender)
        self.collector.received += counts["accepted"]
        if ctype.startswith("application/x-protobuf") or ctype.startswith("application/protobuf"):
            return self._send(200, otlp_in.protobuf_response(kind), "application/x-protobuf")
        return self._json(200, {"partialSuccess": {}} if not counts["rejected"] else
                          {"partialSuccess": {"rejectedSpans": counts["rejected"]}})

    # -- live (SSE) -----------------------------------------------------------
    def _sse_start(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        for k, v in RESPONSE_HEADERS.items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _sse(self, event: str, data) -> None:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        self.wfile.write(f"event: {event}\ndata: {payload}\n\n".encode("utf-8", "backslashreplace"))
        self.wfile.flush()

    def _live_session(self, ref: str, start: int) -> None:
        poll = self.collector.storage.follower(ref)
        waiter = self.collector.storage.waiter(LIVE_POLL_S)  # files: wakes at once on what the daemon writes
        self._sse_start()
        offset = start
        quiet = time.monotonic()
        try:
            while not self.collector.stopping.is_set():
                try:
                    page = poll(offset)
                except StorageUnavailable:
                    page = None  # the database is back soon: keep the stream open
                if page is not None:
                    offset = page["next"]
                    self._sse("events", page)
                    quiet = time.monotonic()
                    continue
                if time.monotonic() - quiet > KEEPALIVE_S:
                    self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
                    quiet = time.monotonic()
                waiter.wait(LIVE_POLL_S)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the browser went away

    def _live_list(self) -> None:
        storage = self.collector.storage
        sig = storage.signature()
        waiter = storage.waiter(1.0)
        self._sse_start()
        quiet = time.monotonic()
        try:
            self._sse("hello", {"sessions": sig[0]})
            while not self.collector.stopping.is_set():
                waiter.wait(1.0)
                try:
                    now = storage.signature()
                except StorageUnavailable:
                    continue
                if now != sig:
                    sig = now
                    self._sse("changed", {"sessions": sig[0]})
                    quiet = time.monotonic()
                elif time.monotonic() - quiet > KEEPALIVE_S:
                    self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
                    quiet = time.monotonic()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass


def _finite(obj):
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _int(v, default: int) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def serve_until_signal(srv, on_stop=None) -> None:
    """Run an HTTP server until SIGINT/SIGTERM, then close it (``on_stop``
    first).  Shared by ``server``, ``ui`` and ``serve --llm``."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if on_stop:
            on_stop()
        srv.server_close()


def serve(collector: Collector, host: str, port: int, on_ready=None) -> None:
    """Serve the collector until SIGINT/SIGTERM."""
    srv = make_server(collector, host, port)
    if on_ready:
        on_ready(srv)
    serve_until_signal(srv, collector.stopping.set)
