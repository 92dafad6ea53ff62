"""``[[notify]]`` in the rules file: where alerts go and which happenings send one.

```toml
[[notify]]
url = "https://hooks.slack.com/services/..."   # or url_env = "SLACK_WEBHOOK_URL"
format = "slack"          # slack, teams or json (default: guessed from the URL, else json)
on = ["denied", "stopped", "killed", "budget", "session_failed"]
budget = [50, 80, 100]    # percent of [budget] (per session) and [daily_budget] (collector)
desktop = true            # also notify-send on this machine, where it is installed
```

A target is known by a key derived from its URL (or the name of the
environment variable holding it) and format: alert ids and the delivery
spool use the key, so webhook URLs (which are credentials) never reach the
store.  Validation errors name the table, the key and what is wrong, like the
rest of the rules file.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("slack", "teams", "json")
DECISIONS = ("denied", "stopped", "killed", "paused")
TRIGGERS = DECISIONS + ("budget", "session_failed", "session_ended")
DEFAULT_ON = ("denied", "stopped", "killed", "budget", "session_failed")
DEFAULT_THRESHOLDS = (80, 100)
KEYS = ("url", "url_env", "format", "on", "budget", "desktop", "name")


class NotifyConfigError(ValueError):
    """A ``[[notify]]`` entry is wrong; the message says where and why."""


def guess_format(url: str | None) -> str:
    host = _host(url or "")
    if host == "hooks.slack.com" or host.endswith(".slack.com"):
        return "slack"
    if host.endswith((".webhook.office.com", ".logic.azure.com", ".powerautomate.com", ".office.com")):
        return "teams"
    return "json"


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0].lower()


def check_url(url: str, where: str) -> str:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or not _host(url):
        raise NotifyConfigError(f"{where}: url must be an http(s) URL")
    if any(c in url for c in "\r\n\t ") or len(url) > 2048:
        raise NotifyConfigError(f"{where}: url must be one line without spaces, at most 2048 characters")
    return url


def target_key(url: str | None, url_env: str | None, fmt: str, desktop: bool) -> str:
    """A stable, non-secret identity for a target (16 hex characters)."""
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover
        from hashlib import blake2b
    raw = f"{url or ''}\0{url_env or ''}\0{fmt}\0{int(desktop)}".encode("utf-8", "surrogatepass")
    return blake2b(raw, digest_size=8).hexdigest()


def shown_url(url: str | None) -> str:
    """A webhook URL as it may be shown: scheme and host only (the path is the secret)."""
    if not url:
        return "-"
    scheme = url.split("://", 1)[0]
    return f"{scheme}://{_host(url)}/..."


def make_targets(url: str | None = None, fmt: str | None = None, *, url_env: str | None = None,
                 on=None, thresholds=None, desktop: bool = False, name: str | None = None,
                 where: str = "--notify") -> list[dict]:
    """The validated targets of one entry (also what ``--notify URL`` builds):
    one per channel, ``http`` (the URL) and ``desktop`` (notify-send)."""
    if url is not None:
        check_url(url, where)
    if url_env is not None:
        if not isinstance(url_env, str) or not url_env or not all(c.isalnum() or c == "_" for c in url_env):
            raise NotifyConfigError(f"{where}: url_env must name an environment variable")
    if url is not None and url_env is not None:
        raise NotifyConfigError(f"{where}: give url or url_env, not both")
    if not isinstance(desktop, bool):
        raise NotifyConfigError(f"{where}: desktop must be true or false")
    if url is None and url_env is None and not desktop:
        raise NotifyConfigError(f"{where}: needs url, url_env or desktop = true")
    fmt = fmt if fmt is not None else guess_format(url)
    if fmt not in FORMATS:
        raise NotifyConfigError(f"{where}: format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if on is None:
        on = list(DEFAULT_ON)
    if isinstance(on, str):
        on = [on]
    if not isinstance(on, list) or not on or not all(isinstance(x, str) for x in on):
        raise NotifyConfigError(f"{where}: on must be a non-empty list of: {', '.join(TRIGGERS)}")
    for x in on:
        if x not in TRIGGERS:
            raise NotifyConfigError(f"{where}: on: unknown trigger {x!r} (known: {', '.join(TRIGGERS)})")
    if thresholds is not None and "budget" not in on:
        on = on + ["budget"]
    if thresholds is None:
        thresholds = list(DEFAULT_THRESHOLDS)
    if isinstance(thresholds, (int, float)) and not isinstance(thresholds, bool):
        thresholds = [thresholds]
    if not isinstance(thresholds, list) or not thresholds or not all(
            isinstance(t, (int, float)) and not isinstance(t, bool) and 0 < t <= 1000 for t in thresholds):
        raise NotifyConfigError(f"{where}: budget must be a list of percentages between 0 and 1000 "
                                "(e.g. [50, 80, 100])")
    if name is not None and (not isinstance(name, str) or len(name) > 80):
        raise NotifyConfigError(f"{where}: name must be a short string")
    common = {"on": sorted(set(on), key=TRIGGERS.index), "budget": sorted({float(t) for t in thresholds})}
    out = []
    if url is not None or url_env is not None:
        out.append({**common, "channel": "http", "url": url, "url_env": url_env, "format": fmt,
                    "name": name or (shown_url(url) if url else f"${url_env}"),
                    "key": target_key(url, url_env, fmt, False)})
    if desktop:
        out.append({**common, "channel": "desktop", "url": None, "url_env": None, "format": "text",
                    "name": "desktop", "key": target_key(None, None, "text", True)})
    return out


def validate(items, where: str, has_budget: bool) -> list[dict]:
    """``[[notify]]`` entries -> targets.  ``has_budget``: the file has a
    ``[budget]`` or ``[daily_budget]`` table (needed by budget thresholds)."""
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise NotifyConfigError(f"{where}: [[notify]] must be an array of tables")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(items, 1):
        w = f"{where} [[notify]] #{i}"
        if not isinstance(item, dict):
            raise NotifyConfigError(f"{w} must be a table")
        for k in item:
            if k not in KEYS:
                raise NotifyConfigError(f"{w}: unknown key {k!r} (known: {', '.join(KEYS)})")
        targets = make_targets(item.get("url"), item.get("format"), url_env=item.get("url_env"),
                               on=item.get("on"), thresholds=item.get("budget"), desktop=item.get("desktop", False),
                               name=item.get("name"), where=w)
        # type-checker: the list fallback when `on` is absent
        asked = "budget" in item or "budget" in (item.get("on") if isinstance(item.get("on"), list)  # type: ignore[operator]
                                                  else [item.get("on")])
        for t in targets:
            if "budget" in t["on"] and not has_budget:
                if asked:
                    raise NotifyConfigError(f"{w}: budget alerts need a [budget] (or [daily_budget]) table")
                t["on"] = [x for x in t["on"] if x != "budget"]  # the default list, without a budget to watch
            same = next((o for o in out if o["key"] == t["key"]), None)
            if same is None:
                out.append(t)
            else:  # the same channel twice: one target with both entries' triggers
                same["on"] = sorted(set(same["on"]) | set(t["on"]), key=TRIGGERS.index)
                same["budget"] = sorted(set(same["budget"]) | set(t["budget"]))
    return out


def target_url(target: dict) -> str | None:
    """The URL to post to, read from the environment for ``url_env``."""
    if target.get("url_env"):
        return os.environ.get(target["url_env"]) or None
    return target.get("url")


def wants(target: dict, trigger: str) -> bool:
    return trigger in target["on"]


DAILY_SCOPES = ("user", "project")


def validate_daily(table, where: str) -> dict:
    """``[daily_budget]``: spend per user and/or project per UTC day, watched
    by the collector (``agent-strace server``) across every client's sessions."""
    w = f"{where} [daily_budget]"
    if not isinstance(table, dict):
        raise NotifyConfigError(f"{w} must be a table")
    for k in table:
        if k not in ("usd", "tokens", "per"):
            raise NotifyConfigError(f"{w}: unknown key {k!r} (known: usd, tokens, per)")
    if "usd" not in table and "tokens" not in table:
        raise NotifyConfigError(f"{w}: give usd and/or tokens")
    out: dict[str, Any] = {}
    for k in ("usd", "tokens"):
        v = table.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
            raise NotifyConfigError(f"{w}: {k} must be a positive number, not {v!r}")
        out[k] = v
    per = table.get("per", list(DAILY_SCOPES))
    if isinstance(per, str):
        per = [per]
    if not isinstance(per, list) or not per or any(p not in DAILY_SCOPES for p in per):
        raise NotifyConfigError(f"{w}: per must be a list of: {', '.join(DAILY_SCOPES)}")
    out["per"] = [p for p in DAILY_SCOPES if p in per]
    return out
