"""Per-user (or per-machine) collector tokens: who sent what.

``agent-strace server token add NAME`` prints a new random token once; only
its SHA-256 is kept (in the database, or in ``tokens.json`` at the root of a
file store, mode 0600).  Events delivered with it get ``sender: NAME``.
A revoked token stops working within :data:`RELOAD_S` seconds on every
collector, without a restart.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import tempfile
import time

PREFIX = "ast_"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
RELOAD_S = 2.0
FRESH_S = 0.25  # an unknown token looks again, at most this often
FILE = "tokens.json"


class TokenError(ValueError):
    pass


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise TokenError(f"bad token name {name!r}: 1-64 letters, digits and . _ @ + - "
                         "(starting with a letter or digit)")
    return name


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class FileTokens:
    """``tokens.json``: ``{"version": 1, "tokens": [{"name", "sha256",
    "created", "revoked"}]}``, rewritten atomically under a lock."""

    def __init__(self, root: str):
        self.path = os.path.join(root, FILE)
        self._cache: tuple | None = None  # (checked_at, (mtime_ns, size), {sha256: name})

    def _read(self) -> list[dict]:
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as e:
            raise TokenError(f"cannot read {self.path}: {e}") from None
        toks = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(toks, list):
            raise TokenError(f"cannot read {self.path}: no token list")
        return [t for t in toks if isinstance(t, dict) and isinstance(t.get("name"), str)
                and isinstance(t.get("sha256"), str)]

    def _update(self, change) -> object:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            toks = self._read()
            result = change(toks)
            tmp_fd, tmp = tempfile.mkstemp(prefix=".tokens.", dir=os.path.dirname(self.path))
            with os.fdopen(tmp_fd, "w", encoding="utf-8") as f:
                json.dump({"version": 1, "tokens": toks}, f, indent=1)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
            self._cache = None
            return result
        finally:
            os.close(fd)

    def add(self, name: str) -> str:
        check_name(name)
        token = new_token()

        def change(toks):
            if any(t["name"] == name and not t.get("revoked") for t in toks):
                raise TokenError(f"a token named {name!r} exists: revoke it first")
            toks[:] = [t for t in toks if t["name"] != name]
            toks.append({"name": name, "sha256": digest(token), "created": _now(), "revoked": None})

        self._update(change)
        return token

    def revoke(self, name: str) -> bool:
        def change(toks):
            hit = False
            for t in toks:
                if t["name"] == name and not t.get("revoked"):
                    t["revoked"] = _now()
                    hit = True
            return hit

        return bool(self._update(change))

    def replace_all(self, toks: list[dict]) -> None:
        """Write ``toks`` (name, sha256, created, revoked) as the whole list."""

        def change(current):
            current[:] = toks

        self._update(change)

    def list(self) -> list[dict]:
        return [{"name": t["name"], "created": t.get("created"), "revoked": t.get("revoked")} for t in self._read()]

    def active(self, fresh: bool = False) -> dict[str, str]:
        """``{sha256: name}`` of the tokens in force (re-read when the file
        changes, looked at no more than every RELOAD_S seconds, or every
        FRESH_S when ``fresh``: a token not seen yet may have just been added)."""
        now = time.monotonic()
        if self._cache is not None and now - self._cache[0] < (FRESH_S if fresh else RELOAD_S):
            return self._cache[2]
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if self._cache is not None and self._cache[1] == stamp:
            self._cache = (now, stamp, self._cache[2])
            return self._cache[2]
        active = {t["sha256"]: t["name"] for t in self._read() if not t.get("revoked")} if stamp else {}
        self._cache = (now, stamp, active)
        return active


def _now() -> str:
    from ..event import now_iso

    return now_iso()
