"""Delivering queued alerts: retries with backoff, each alert at most once.

A sender knows its targets (their URLs come from the rules file or
``--notify``, never from the store) and delivers the alerts queued for them
(see :mod:`.queue`).  Per alert:

1. ``sending`` is marked (fsynced) before the request;
2. a 2xx answer marks it ``sent``;
3. a connection that could not be opened, or a 5xx/429/408 answer, means the
   receiver did not take it: ``retry`` after 1, 2, 4 ... 60 s, for up to 24 h;
4. another answer marks it ``failed`` (the receiver refused it for good);
5. a timeout or broken connection after the request went out, or a
   ``sending`` mark left by a sender that died, marks it ``doubt``: it may
   have arrived, so it is never sent again.

Two ways to run, both calling :func:`deliver`:

* :func:`send_detached` forks a sender that outlives a hook (the hook returns
  at once); at most one such sender per store is alive at a time.
* :class:`agent_trace.notify.background.SenderThread` for long-running
  processes (``watch``, ``server``).

Imported on the hook path when an alert is queued: no ``threading`` here.
"""

from __future__ import annotations

import os
import sys
import time

from . import queue

TIMEOUT_S = 10.0
BACKOFF_S = (1, 2, 4, 8, 16, 32, 60)
GIVE_UP_S = 24 * 3600
DETACHED_LIFETIME_S = 300.0  # a detached sender exits after this; the next hook starts another
RETRY_STATUS = frozenset({408, 425, 429})


class Outcome:
    __slots__ = ("state", "error", "status")

    def __init__(self, state: str, error: str | None = None, status: int | None = None):
        self.state, self.error, self.status = state, error, status


def post_json(url: str, body: bytes, timeout: float = TIMEOUT_S) -> Outcome:
    """POST ``body``; the outcome says whether the receiver may have it."""
    import http.client
    import urllib.parse

    from .config import shown_url

    u = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    where = shown_url(url)
    if not u.hostname:  # a url_env variable holding no http(s) URL: http.client would raise AttributeError
        return Outcome("failed", f"{where}: not an http(s) URL with a host name")
    try:
        conn = cls(u.hostname, u.port, timeout=timeout)
        conn.connect()
    except (OSError, ValueError, http.client.HTTPException) as e:
        return Outcome("retry", f"cannot reach {where}: {getattr(e, 'strerror', None) or e}")
    try:
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json",
                                                        "User-Agent": "agent-strace-notify"})
        resp = conn.getresponse()
        text = resp.read(4096).decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException) as e:
        return Outcome("doubt", f"{where}: no answer after sending ({type(e).__name__}); not sent again")
    finally:
        conn.close()
    if 200 <= resp.status < 300:
        return Outcome("sent", status=resp.status)
    err = f"{where} answered {resp.status}: {text[:200]}"
    if resp.status >= 500 or resp.status in RETRY_STATUS:
        return Outcome("retry", err, resp.status)
    return Outcome("failed", err, resp.status)


def show_desktop(alert: dict) -> Outcome:
    import shutil
    import subprocess

    from .formats import text

    exe = shutil.which("notify-send")
    if not exe:
        return Outcome("failed", "notify-send is not installed (package libnotify-bin)")
    summary, body = text(alert)
    try:
        r = subprocess.run([exe, "--app-name=agent-strace", summary, body], capture_output=True, timeout=10,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as e:
        return Outcome("failed", f"notify-send: {e}")
    if r.returncode != 0:
        return Outcome("failed", f"notify-send exited {r.returncode}: {r.stderr.decode(errors='replace')[:200]}")
    return Outcome("sent")


def send_one(target: dict, alert: dict) -> Outcome:
    """Deliver one alert now (no queue, no marks): ``notify test`` and :func:`deliver`."""
    if target["channel"] == "desktop":
        return show_desktop(alert)
    from ..event.fastjson import dumps
    from .config import target_url
    from .formats import payload

    url = target_url(target)
    if not url:
        return Outcome("retry", f"environment variable {target.get('url_env')} is not set")
    return post_json(url, dumps(payload(alert, target["format"])).encode("utf-8", "backslashreplace"), TIMEOUT_S)


def _backoff(attempt: int) -> float:
    return BACKOFF_S[min(attempt - 1, len(BACKOFF_S) - 1)]


class Pass:
    """What one :func:`deliver` call did."""

    def __init__(self):
        self.sent = self.retrying = self.failed = self.doubt = 0
        self.next_due: float | None = None  # earliest retry still waiting
        self.errors: list[str] = []

    @property
    def waiting(self) -> bool:
        return self.next_due is not None


def _lock(path: str, block: bool):
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def deliver(state_dir: str, targets: list[dict], now: float | None = None, block: bool = True) -> Pass:
    """One pass over the queues of ``targets``: send what is due, mark it."""
    result = Pass()
    if not targets:
        return result
    os.makedirs(queue.notify_dir(state_dir), mode=0o700, exist_ok=True)
    fd = _lock(os.path.join(queue.notify_dir(state_dir), "sender.lock"), block)
    if fd is None:
        result.next_due = time.time() + 0.5  # another sender is at it; look again soon
        return result
    try:
        for t in targets:
            _deliver_target(state_dir, t, result)
    finally:
        os.close(fd)
    return result


def _deliver_target(state_dir: str, target: dict, result: Pass) -> None:
    key = target["key"]
    if not os.path.isdir(queue.target_dir(state_dir, key)):
        return
    # Clear the flag first: an enqueue after this point sets it again, and its
    # alert is either in the load below or seen by the next pass.
    queue.clear_pending(state_dir, key)
    alerts, marks = queue.load(state_dir, key)
    waiting = False
    for a in alerts:
        m = marks.get(a["id"])
        state = m["state"] if m else None
        if state in queue.FINAL:
            continue
        if state == "sending":  # a sender died mid-request: it may have arrived
            queue.mark(state_dir, key, a["id"], "doubt", error="the sender stopped while sending; not sent again")
            result.doubt += 1
            continue
        now = time.time()
        attempt = (m or {}).get("attempt", 0) + 1
        if m and m.get("next", 0) > now:
            waiting = True
            result.next_due = min(result.next_due or m["next"], m["next"])
            continue
        first = (m or {}).get("first") or now
        if now - first > GIVE_UP_S:
            queue.mark(state_dir, key, a["id"], "failed", error=f"gave up after {GIVE_UP_S // 3600} h: "
                                                                 f"{(m or {}).get('error')}")
            result.failed += 1
            continue
        queue.mark(state_dir, key, a["id"], "sending", attempt=attempt, first=first)
        try:
            out = send_one(target, a)
        except Exception as e:  # never leave an alert in "sending" for a bug of ours
            out = Outcome("failed", f"{type(e).__name__}: {e}")
        if out.state == "retry":
            nxt = time.time() + _backoff(attempt)
            queue.mark(state_dir, key, a["id"], "retry", attempt=attempt, first=first, next=round(nxt, 3),
                       error=out.error)
            result.retrying += 1
            waiting = True
            result.next_due = min(result.next_due or nxt, nxt)
        else:
            queue.mark(state_dir, key, a["id"], out.state, attempt=attempt, **({"error": out.error} if out.error
                                                                                else {}))
            setattr(result, out.state, getattr(result, out.state) + 1)
        if out.error:
            result.errors.append(out.error)
    if waiting:
        with open(os.path.join(queue.target_dir(state_dir, key), "pending"), "a"):
            pass
    else:
        queue.compact(state_dir, key, time.time())


def run_until_done(state_dir: str, targets: list[dict], deadline: float) -> Pass:
    """Deliver, sleeping through backoffs, until nothing waits or ``deadline``."""
    total = Pass()
    while True:
        r = deliver(state_dir, targets)
        for k in ("sent", "retrying", "failed", "doubt"):
            setattr(total, k, getattr(total, k) + getattr(r, k))
        total.errors += r.errors
        total.next_due = r.next_due
        if not r.waiting and not queue.has_pending(state_dir, [t["key"] for t in targets]):
            return total
        now = time.time()
        if now >= deadline:
            return total
        time.sleep(max(0.05, min((r.next_due or now + 0.2) - now, deadline - now)))


# -- detached (hooks) -----------------------------------------------------------

def sender_alive(state_dir: str) -> bool:
    import fcntl

    path = os.path.join(queue.notify_dir(state_dir), "sender.alive")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def send_detached(state_dir: str, targets: list[dict]) -> bool:
    """Fork a sender that outlives this process, unless one is alive (it
    looks at the queues again before it exits).  Returns at once."""
    if sender_alive(state_dir):
        return False
    try:
        pid = os.fork()
    except OSError as e:
        sys.stderr.write(f"agent-strace: alert queued, no sender started: {e.strerror}\n")
        return False
    if pid:
        return True
    code = 0
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        alive = _lock(os.path.join(queue.notify_dir(state_dir), "sender.alive"), block=False)
        if alive is not None:
            end = time.time() + DETACHED_LIFETIME_S
            while True:
                run_until_done(state_dir, targets, end)
                os.close(alive)
                # an alert queued while we held "alive" was left to us: look once more
                if time.time() >= end or not queue.has_pending(state_dir, [t["key"] for t in targets]):
                    break
                alive = _lock(os.path.join(queue.notify_dir(state_dir), "sender.alive"), block=False)
                if alive is None:
                    break
    except BaseException:
        code = 1
    finally:
        os._exit(code)
