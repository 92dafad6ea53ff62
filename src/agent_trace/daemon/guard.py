"""Checks every request to the daemon passes before it is read.

Each check is a small named function returning ``None`` or ``(status,
message)``; :func:`check_request` runs them in order.  Written to be merged
with the collector's request guards (issue 15) once those land.

* Host must name loopback and our port: a DNS-rebinding page reaches us with
  its own host name in ``Host``.
* No ``Origin`` (and no cross-site ``Sec-Fetch-Site``): we serve no pages, so
  any request a browser made for a web page is refused, whatever its origin.
* The secret (``Authorization: Bearer ...``), compared in constant time, on
  every TCP request.  The Unix socket is private to the user instead.
* POST bodies: ``application/json``, a ``Content-Length`` (no chunked
  bodies), at most :data:`MAX_BODY` bytes.
"""

from __future__ import annotations

import hmac

MAX_BODY = 64 * 1024 * 1024  # a hook payload carries whole file contents
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def host_is_ours(headers, port: int):
    host = (headers.get("Host") or "").strip().lower()
    if host not in {f"{h}:{port}" for h in LOOPBACK_HOSTS}:
        return 403, f"Host {host!r} is not this daemon (use 127.0.0.1:{port})"
    return None


def not_from_a_page(headers):
    if headers.get("Origin") is not None:
        return 403, "requests from web pages are refused"
    site = (headers.get("Sec-Fetch-Site") or "").lower()
    if site and site not in ("none", "same-origin"):
        return 403, "cross-site requests are refused"
    return None


def has_secret(headers, secret: str):
    auth = headers.get("Authorization") or ""
    given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if not given or not hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                                            secret.encode("utf-8")):
        return 401, "missing or wrong secret (Authorization: Bearer $AGENT_STRACE_SECRET)"
    return None


def body_length(headers, max_body: int = MAX_BODY):
    """``(length, None)`` or ``(None, (status, message))`` for a POST body."""
    ctype = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if ctype != "application/json":
        return None, (415, f"Content-Type must be application/json, not {ctype or 'missing'!r}")
    if headers.get("Transfer-Encoding"):
        return None, (411, "chunked bodies are not accepted: send Content-Length")
    raw = headers.get("Content-Length")
    if raw is None:
        return None, (411, "Content-Length is required")
    v = raw.strip()
    if not v or len(v) > 18 or not (v.isascii() and v.isdigit()):  # no sign, spaces inside, hex or "1_0"
        return None, (400, f"bad Content-Length {raw[:40]!r}")
    n = int(v)
    if n > max_body:
        return None, (413, f"body of {n} bytes is over the {max_body}-byte limit")
    return n, None


def check_request(headers, *, tcp: bool, port: int, secret: str | None):
    """The first failing check's ``(status, message)``, or None."""
    if tcp:
        for check in (lambda: host_is_ours(headers, port), lambda: not_from_a_page(headers)):
            bad = check()
            if bad:
                return bad
        if secret is None:
            return 503, "the daemon has no secret"
        return has_secret(headers, secret)
    return not_from_a_page(headers)
