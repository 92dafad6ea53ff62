"""Who may talk to a local agent-strace HTTP server, and how much.

Reusable request guards for every HTTP server agent-strace runs on this
machine (the collector and dashboard, the hook daemon, replay servers).  A
loopback server without a token is reachable by every web page the user opens:
a page can POST "simple" cross-origin requests (``text/plain``, forms) without
a CORS preflight, and a DNS-rebinding page can read responses under its own
origin.  These checks close both doors:

* :meth:`RequestGuard.check_host`: the ``Host`` header must name this server
  (a loopback name or address when bound to loopback), so a rebinding page,
  whose requests carry its own host name, is refused (421);
* :meth:`RequestGuard.check_origin`: a request with an ``Origin`` must be
  same-origin with the ``Host`` it was sent to (or listed); ``Origin: null``
  is refused; ``Sec-Fetch-Site: cross-site`` is refused except for plain page
  navigations (403);
* :func:`check_content_type`: request bodies must declare one of the media
  types the endpoint understands; ``text/plain`` and form types, the ones a
  page can send without a preflight, are never among them (415);
* :func:`content_length`: a body needs a well-formed ``Content-Length`` (digits
  only: no sign, no spaces, no hex) within the limit (411, 400, 413);
* :data:`RESPONSE_HEADERS`: anti-framing and no-sniffing headers for every
  response; :data:`DEFAULT_TIMEOUT_S`: the socket timeout for every
  connection, so an idle or stalled client cannot pin a thread.

Every check raises :class:`Refusal` with the status and a one-line message to
answer with; nothing here writes to the socket.
"""

from __future__ import annotations

import ipaddress

DEFAULT_TIMEOUT_S = 30.0  # per socket operation: idle keep-alive, slow headers, slow bodies

RESPONSE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}

# What a page can send cross-origin without a preflight: never a body type we accept.
SIMPLE_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
JSON_TYPES = ("application/json", "application/x-ndjson", "application/jsonl", "application/jsonlines")
PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")

_MAX_LENGTH_DIGITS = 18


class Refusal(Exception):
    """A request that must be answered with ``status`` and ``message``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def split_host(value: str) -> tuple[str, str]:
    """``Host``/netloc -> (lowercase name without brackets or trailing dot, port or "")."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or ":" in name:
            name, port = value, ""
    return name.rstrip("."), port


def is_loopback_name(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class RequestGuard:
    """Host and Origin checks for a server bound to ``bound_host``.

    ``extra_hosts``: more host names (or addresses) clients may use.  When the
    server is bound to loopback, only loopback names and addresses and the
    extras are accepted; bound elsewhere (which needs a token), any host is
    accepted unless extras are given.
    """

    def __init__(self, bound_host: str, extra_hosts=(), extra_origins=()):
        name = bound_host.strip("[]").lower()
        self.bound = name
        self.extra = frozenset(split_host(h)[0] for h in extra_hosts if h)
        self.origins = frozenset(o.rstrip("/").lower() for o in extra_origins if o)
        self.strict = is_loopback_name(name) or bool(self.extra)

    def host_ok(self, name: str) -> bool:
        if not self.strict:
            return True
        return name in self.extra or name == self.bound or is_loopback_name(name)

    def check_host(self, host: str | None) -> None:
        if not host:
            raise Refusal(400, "a Host header is required")
        name, _ = split_host(host)
        if not self.host_ok(name):
            raise Refusal(421, f"this server does not answer for host {name!r} (DNS rebinding?)")

    def check_origin(self, origin: str | None, host: str | None, fetch_site: str | None = None,
                     navigation: bool = False) -> None:
        """Refuse cross-site requests.  ``navigation``: a GET of a page (a
        link to the dashboard may come from anywhere; it reads nothing)."""
        if fetch_site and fetch_site.lower() == "cross-site" and not navigation:
            raise Refusal(403, "cross-site requests are refused")
        if origin is None:
            return  # not a browser, or a same-origin navigation
        o = origin.strip().rstrip("/").lower()
        if o in self.origins:
            return
        if o == "null":
            raise Refusal(403, "requests from an opaque origin (Origin: null) are refused")
        scheme, sep, netloc = o.partition("://")
        if not sep or scheme not in ("http", "https"):
            raise Refusal(403, f"origin {origin!r} is not allowed")
        oname, oport = split_host(netloc)
        hname, hport = split_host(host or "")
        default = "443" if scheme == "https" else "80"
        # A Host without a port (behind a TLS-terminating proxy) matches on the name.
        if not self.host_ok(oname) or oname != hname or (hport and (oport or default) != hport):
            raise Refusal(403, f"origin {origin!r} is not allowed (only same-origin requests)")


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_content_type(content_type: str | None, allowed) -> str:
    """The request's media type when it is one of ``allowed``; else :class:`Refusal` (415)."""
    mt = media_type(content_type)
    if mt in SIMPLE_TYPES or mt not in allowed:
        want = ", ".join(allowed)
        raise Refusal(415, f"unsupported Content-Type {mt or '(none)'!r} (send one of: {want})")
    return mt


def content_length(value: str | None, limit: int) -> int:
    """The body length a request declares, checked: present, digits only, at
    most ``limit``.  A negative, signed, spaced or hex value is refused."""
    if value is None:
        raise Refusal(411, "Content-Length required")
    v = value.strip()
    if not v or len(v) > _MAX_LENGTH_DIGITS or not (v.isascii() and v.isdigit()):
        raise Refusal(400, f"bad Content-Length {value[:40]!r}")
    n = int(v)
    if n > limit:
        raise Refusal(413, f"body of {n} bytes is over the {limit}-byte limit")
    return n
