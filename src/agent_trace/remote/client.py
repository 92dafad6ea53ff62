"""One HTTP client for the ingest endpoint: gzipped JSONL batches, bearer
token, persistent connection.  Standard library only."""

from __future__ import annotations

import gzip
import http.client
import json
import urllib.parse

INGEST_PATH = "/v1/events"


class DeliveryError(Exception):
    """The batch was not accepted; ``retry`` says whether trying again later
    can help (server down, busy or failing) or not (refused as bad input)."""

    def __init__(self, message: str, retry: bool = True):
        super().__init__(message)
        self.retry = retry


class IngestClient:
    def __init__(self, endpoint: str, token: str | None = None, timeout: float = 10.0):
        u = urllib.parse.urlsplit(endpoint)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"AGENT_STRACE_ENDPOINT must be an http(s) URL, not {endpoint!r}")
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.base = u.path.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post_lines(self, body: bytes) -> dict:
        """POST JSONL ``body``; returns the server's counts or raises
        :class:`DeliveryError`."""
        payload = gzip.compress(body, compresslevel=1)
        headers = {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip",
                   "Content-Length": str(len(payload))}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn = self._connection()
            conn.request("POST", self.base + INGEST_PATH, body=payload, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise DeliveryError(f"cannot reach {self.host}:{self.port}: {e}") from None
        if resp.status == 200:
            try:
                return json.loads(data)
            except ValueError:
                return {}
        self.close()
        text = data[:200].decode("utf-8", "replace").strip()
        retry = resp.status >= 500 or resp.status in (408, 429)
        raise DeliveryError(f"server answered {resp.status}: {text}", retry=retry)
