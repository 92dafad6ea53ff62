"""The few GitHub REST calls the action makes: find the report comment on a
pull request by its hidden marker, then update it or create it.

Standard library only; the token goes in the ``Authorization`` header and
nowhere else (errors name the method, path and status, never a header).
``GITHUB_API_URL`` (set by Actions; GitHub Enterprise has its own) is the
base, so the calls can be pointed at a local receiver in tests.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse

API_VERSION = "2022-11-28"
TIMEOUT_S = 30.0
MAX_PAGES = 30  # 3,000 comments: enough for any pull request


class GitHubError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class GitHub:
    def __init__(self, token: str, api_url: str = "https://api.github.com", timeout: float = TIMEOUT_S):
        u = urllib.parse.urlsplit(api_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise GitHubError(f"GITHUB_API_URL must be an http(s) URL, not {api_url!r}")
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port
        self.base = u.path.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body=None) -> tuple[int, object, dict]:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": API_VERSION, "User-Agent": "agent-strace-action"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, self.base + path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise GitHubError(f"{method} {path}: {e}") from None
        finally:
            conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        if resp.status >= 300:
            msg = parsed.get("message") if isinstance(parsed, dict) else raw[:200].decode("utf-8", "replace")
            raise GitHubError(f"{method} {path}: HTTP {resp.status}: {msg}", resp.status)
        return resp.status, parsed, {k.lower(): v for k, v in resp.getheaders()}

    def find_comment(self, repo: str, number: int, marker: str) -> dict | None:
        """The first comment on issue/PR ``number`` holding ``marker``."""
        for page in range(1, MAX_PAGES + 1):
            _, items, _ = self.request("GET", f"/repos/{repo}/issues/{number}/comments?per_page=100&page={page}")
            if not isinstance(items, list):
                return None
            for c in items:
                if isinstance(c, dict) and marker in (c.get("body") or ""):
                    return c
            if len(items) < 100:
                return None
        return None

    def upsert_comment(self, repo: str, number: int, body: str, marker: str) -> tuple[str, dict]:
        """("updated" | "created", the comment): one report comment per pull
        request, found again by ``marker``."""
        old = self.find_comment(repo, number, marker)
        if old is not None:
            try:
                _, c, _ = self.request("PATCH", f"/repos/{repo}/issues/comments/{old['id']}", {"body": body})
                return "updated", c if isinstance(c, dict) else {}
            except GitHubError as e:
                if e.status not in (403, 404):  # someone else's comment, or gone: post our own
                    raise
        _, c, _ = self.request("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})
        return "created", c if isinstance(c, dict) else {}


def pull_request_number(event: dict) -> int | None:
    """The PR an Actions event is about (pull_request, pull_request_target,
    issue_comment on a PR), else None."""
    pr = event.get("pull_request")
    if isinstance(pr, dict) and isinstance(pr.get("number"), int):
        return pr["number"]
    issue = event.get("issue")
    if isinstance(issue, dict) and isinstance(issue.get("number"), int) and issue.get("pull_request"):
        return issue["number"]
    if isinstance(event.get("number"), int) and "pull_request" in event:
        return event["number"]
    return None
