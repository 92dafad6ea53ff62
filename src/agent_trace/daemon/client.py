"""Asking the running daemon, for our own commands and readers.

Readers call these and fall back to the files when they get ``None`` (no
daemon, or it does not know the session): the daemon is a faster, live view
of the same store, never the only one.

The exchange is a few lines of HTTP/1.1 over ``_socket`` (the C module):
``http.client`` and even ``socket`` cost 20-150 ms to import, which the
statusline (run after every message) cannot afford.  The Unix socket needs
no secret (it is private to the user); over TCP the secret is sent.
"""

from __future__ import annotations

import os
import time

from .files import DaemonFiles, is_running, read_json, secret

TIMEOUT_S = 2.0
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def quote(text: str) -> str:
    """Percent-encoding for a query value (``urllib.parse`` imports ``re``)."""
    return "".join(chr(b) if b in _SAFE else "%%%02X" % b for b in text.encode("utf-8", "surrogatepass"))


class DaemonUnavailable(Exception):
    pass


def _connect(files: DaemonFiles, timeout: float):
    import _socket

    st = read_json(files.state) or {}
    sock_path = st.get("socket")
    if isinstance(sock_path, str) and os.path.exists(sock_path):
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(sock_path)
            return s, "localhost", None
        except OSError:
            s.close()
    port = st.get("port")
    if not isinstance(port, int):
        raise DaemonUnavailable("the daemon's state file names no port")
    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(("127.0.0.1", port))
    except OSError as e:
        s.close()
        raise DaemonUnavailable(f"cannot connect to 127.0.0.1:{port}: {e}") from None
    return s, f"127.0.0.1:{port}", secret(files, create=False)


def request(method: str, path: str, body=None, files: DaemonFiles | None = None,
            timeout: float = TIMEOUT_S) -> tuple[int, object]:
    """(status, decoded JSON) from the daemon; raises :class:`DaemonUnavailable`."""
    from ..event.fastjson import dumps, loads

    files = files or DaemonFiles()
    if not is_running(files):
        raise DaemonUnavailable("no daemon is running")
    data = b"" if body is None else dumps(body).encode("utf-8", "backslashreplace")
    try:
        s, host, key = _connect(files, timeout)
    except OSError as e:
        raise DaemonUnavailable(str(e)) from None
    try:
        head = (f"{method} /agent-strace/{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n")
        if key:
            head += f"Authorization: Bearer {key}\r\n"
        s.sendall(head.encode("ascii") + b"\r\n" + data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as e:
        raise DaemonUnavailable(f"daemon did not answer: {e}") from None
    finally:
        s.close()
    raw = b"".join(chunks)
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0 or not raw.startswith(b"HTTP/1."):
        raise DaemonUnavailable("daemon sent no HTTP answer")
    status = int(raw[9:12])
    try:
        obj = loads(raw[head_end + 4:].decode("utf-8")) if raw[head_end + 4:] else None
    except ValueError:
        obj = None
    return status, obj


def _get(path: str, files=None, timeout: float = TIMEOUT_S):
    try:
        status, obj = request("GET", path, files=files, timeout=timeout)
    except DaemonUnavailable:
        return None
    return obj if status == 200 else None


def status(files: DaemonFiles | None = None) -> dict | None:
    return _get("v1/status", files)


def live_session(session: str, store_root: str | None = None, files=None) -> dict | None:
    """The daemon's live view of a session (summary, rule state, last
    decision), or None when no daemon runs or it has not heard of it."""
    q = f"v1/session?id={quote(session)}"
    if store_root:
        q += f"&store={quote(store_root)}"
    return _get(q, files)


def live_sessions(store_root: str | None = None, files=None) -> list[dict] | None:
    obj = _get("v1/sessions" + (f"?store={quote(store_root)}" if store_root else ""), files)
    return obj.get("sessions") if isinstance(obj, dict) else None


def sync(timeout: float = 10.0, files=None) -> bool | None:
    """Wait until the daemon's transcript imports are done; None: no daemon."""
    try:
        status_, obj = request("POST", "v1/sync", {"timeout": timeout}, files, timeout=timeout + 2)
    except DaemonUnavailable:
        return None
    return bool(isinstance(obj, dict) and obj.get("idle")) if status_ == 200 else None


class ChangeWaiter:
    """A reader's pause between two looks at the store: with a daemon, a long
    poll that returns as soon as one of the store's sessions changes; without
    one, a plain sleep of ``tick``.  Whether a daemon runs is re-checked at
    most once a second."""

    def __init__(self, store_root: str, tick: float, files: DaemonFiles | None = None):
        self.root, self.tick = store_root, tick
        self.files = files or DaemonFiles()
        self.seq: int | None = None
        self._checked = 0.0
        self._up = False

    def daemon_up(self) -> bool:
        now = time.monotonic()
        if now - self._checked >= 1.0:
            self._checked, self._up = now, is_running(self.files)
            if not self._up:
                self.seq = None
        return self._up

    def wait(self, timeout: float) -> bool:
        """Returns True when the daemon reported a change (False: timed out or slept)."""
        if not self.daemon_up():
            time.sleep(self.tick)
            return False
        since = -1 if self.seq is None else self.seq
        wait = 0 if self.seq is None else timeout
        obj = _get(f"v1/changes?since={since}&timeout={wait:.3f}&store={quote(self.root)}",
                   self.files, timeout=wait + TIMEOUT_S)
        if not isinstance(obj, dict):
            self._up = False
            time.sleep(self.tick)
            return False
        first = self.seq is None
        self.seq = obj.get("seq", self.seq)
        if first:
            time.sleep(self.tick)
            return False
        return bool(obj.get("sessions"))
