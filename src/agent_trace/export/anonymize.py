"""``--anonymize``: usernames, home paths, hostnames and emails replaced by
stable pseudonyms (the same value gets the same pseudonym everywhere in an
export), before anything is written."""

from __future__ import annotations

import getpass
import hashlib
import re
import socket

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_HOME = re.compile(r"(/home/|/Users/|C:\\\\Users\\\\)([^/\\\\\s\"']+)")


def _tag(kind: str, value: str, salt: str) -> str:
    return f"{kind}-" + hashlib.sha256(f"{salt}\0{kind}\0{value}".encode()).hexdigest()[:8]


class Anonymizer:
    def __init__(self, salt: str = ""):
        self.salt = salt
        self.names = {n for n in {getpass.getuser()} if n and len(n) > 2}
        host = socket.gethostname()
        self.hosts = {h for h in {host, host.split(".")[0]} if h and len(h) > 2}

    def text(self, s: str) -> str:
        s = _EMAIL.sub(lambda m: _tag("user", m.group(0).lower(), self.salt) + "@example.invalid", s)
        s = _HOME.sub(lambda m: m.group(1) + _tag("user", m.group(2), self.salt), s)
        for h in self.hosts:
            s = s.replace(h, _tag("host", h, self.salt))
        for n in self.names:
            s = re.sub(rf"\b{re.escape(n)}\b", _tag("user", n, self.salt), s)
        return s

    def value(self, v):
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        return v

    def event(self, e: dict) -> dict:
        return {k: (v if k in ("v", "id", "ts", "type", "usage", "duration_ms", "status") else self.value(v))
                for k, v in e.items()}
