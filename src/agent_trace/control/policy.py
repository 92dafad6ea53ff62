"""The rules file: TOML in, a validated policy out (cached as JSON).

Where: ``$AGENT_STRACE_RULES``; else ``.agent-strace/rules.toml`` in the
project (the hook's ``cwd`` or ``$CLAUDE_PROJECT_DIR``, or a parent of it);
else ``~/.config/agent-strace/rules.toml``.  See ``docs/rules.md``.

Parsing TOML costs a hook ~25 ms (``tomllib`` pulls in ``re`` and
``datetime``), so the validated policy is cached as JSON.  The cache lives in
the store, which the agent can write, so it is trusted only for the exact
bytes it was made from: its key is a BLAKE2b digest of the rules file's
content (read on every hook; the file is small), never its size or mtime.

Fails closed: any rules file that cannot be read or validated (not UTF-8, not
TOML, nested too deep, a wrong type, ``inf``/``nan`` in a limit ...) raises
:class:`PolicyError` with one line saying where and why, and the hook denies
every call until it is fixed.
"""

from __future__ import annotations

import os

from ..event.fastjson import dumps, loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    #: A validated rules file (``validate``'s output; also read back from the JSON cache).
    Policy = dict[str, Any]

ACTIONS = ("warn", "deny", "stop", "kill", "pause")
SCOPES = ("write", "read", "any")


class PolicyError(ValueError):
    """The rules file is wrong; the message says where and why."""


def find_rules_file(cwd: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """``env``: the agent's environment when it is not ours (the daemon
    passes the one the session registered); default ``os.environ``."""
    env = os.environ if env is None else env
    explicit = env.get("AGENT_STRACE_RULES")
    if explicit:
        return explicit
    starts = [d for d in (env.get("CLAUDE_PROJECT_DIR"), cwd) if d]
    for start in starts:
        d = os.path.abspath(start)
        while True:
            p = os.path.join(d, ".agent-strace", "rules.toml")
            if os.path.isfile(p):
                return p
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
    user = os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config", "agent-strace", "rules.toml")
    return user if os.path.isfile(user) else None


def project_root(rules_path: str) -> str:
    """Paths in a project rules file are relative to the folder holding ``.agent-strace``."""
    folder = os.path.dirname(os.path.abspath(rules_path))
    return os.path.dirname(folder) if os.path.basename(folder) == ".agent-strace" else os.getcwd()


MAX_NUMBER = 1e15  # larger limits mean nothing and overflow counters


def _num(where: str, key: str, v: object, positive: bool = True) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or not (0 < v <= MAX_NUMBER if positive
                                                                                 else -MAX_NUMBER <= v <= MAX_NUMBER):
        raise PolicyError(f"{where}: {key} must be a positive finite number, not {v!r}")
    return v


def _duration(where: str, key: str, v: object) -> float:
    from ..event.timefmt import parse_duration

    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise PolicyError(f"{where}: {key} must be a duration like \"30m\", not {v!r}")
    try:
        d = parse_duration(str(v))
    except ValueError as e:
        raise PolicyError(f"{where}: {key}: {e}") from None
    if not 0 < d <= MAX_NUMBER:
        raise PolicyError(f"{where}: {key} must be a positive finite duration, not {v!r}")
    return d


def _action(where: str, v: object, default: str) -> str:
    if v is None:
        return default
    if v not in ACTIONS:
        raise PolicyError(f"{where}: action must be one of {', '.join(ACTIONS)}, not {v!r}")
    return v


def _strings(where: str, key: str, v: object) -> list[str]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
        raise PolicyError(f"{where}: {key} must be a non-empty list of strings")
    return v


def _keys(where: str, table: object, allowed: tuple[str, ...]) -> None:
    if not isinstance(table, dict):
        raise PolicyError(f"{where} must be a table")
    for k in table:
        if k not in allowed:
            raise PolicyError(f"{where}: unknown key {k!r} (known: {', '.join(allowed)})")


def validate(raw: dict[str, Any], where: str = "rules.toml") -> Policy:
    _keys(where, raw, ("budget", "limits", "loop", "deny", "allow", "pause", "notify", "daily_budget"))
    pol: Policy = {"budget": None, "limits": None, "loop": None, "deny": [], "allow": [], "pause": None,
                 "notify": [], "daily_budget": None}
    if "budget" in raw:
        b = raw["budget"]
        _keys(f"{where} [budget]", b, ("usd", "tokens", "action"))
        if "usd" not in b and "tokens" not in b:
            raise PolicyError(f"{where} [budget]: give usd and/or tokens")
        pol["budget"] = {"usd": _num(f"{where} [budget]", "usd", b["usd"]) if "usd" in b else None,
                         "tokens": _num(f"{where} [budget]", "tokens", b["tokens"]) if "tokens" in b else None,
                         "action": _action(f"{where} [budget]", b.get("action"), "stop")}
    if "limits" in raw:
        lim = raw["limits"]
        _keys(f"{where} [limits]", lim, ("tool_calls", "duration", "consecutive_failures", "action"))
        dur = _duration(f"{where} [limits]", "duration", lim["duration"]) if "duration" in lim else None
        w = f"{where} [limits]"
        pol["limits"] = {
            "tool_calls": int(_num(w, "tool_calls", lim["tool_calls"])) if "tool_calls" in lim else None,
            "duration_s": dur,
            "consecutive_failures": int(_num(f"{where} [limits]", "consecutive_failures",
                                             lim["consecutive_failures"])) if "consecutive_failures" in lim else None,
            "action": _action(f"{where} [limits]", lim.get("action"), "stop")}
    if "loop" in raw:
        lp = raw["loop"]
        _keys(f"{where} [loop]", lp, ("threshold", "max_period", "action"))
        pol["loop"] = {"threshold": int(_num(f"{where} [loop]", "threshold", lp.get("threshold", 4))),
                       "max_period": int(_num(f"{where} [loop]", "max_period", lp.get("max_period", 3))),
                       "action": _action(f"{where} [loop]", lp.get("action"), "deny")}
    for kind in ("deny", "allow"):
        items = raw.get(kind, [])
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            raise PolicyError(f"{where}: [[{kind}]] must be an array of tables")
        for i, item in enumerate(items, 1):
            w = f"{where} [[{kind}]] #{i}"
            _keys(w, item, ("paths", "commands", "tools", "mcp", "scope", "reason", "action"))
            if not any(k in item for k in ("paths", "commands", "tools", "mcp")):
                raise PolicyError(f"{w}: needs paths, commands, tools or mcp")
            scope = item.get("scope", "write")
            if scope not in SCOPES:
                raise PolicyError(f"{w}: scope must be one of {', '.join(SCOPES)}, not {scope!r}")
            entry = {"paths": _strings(w, "paths", item["paths"]) if "paths" in item else [],
                     "commands": _strings(w, "commands", item["commands"]) if "commands" in item else [],
                     "tools": (_strings(w, "tools", item["tools"]) if "tools" in item else [])
                     + [m if m.startswith("mcp__") else f"mcp__{m}" for m in
                        (_strings(w, "mcp", item["mcp"]) if "mcp" in item else [])],
                     "scope": scope, "reason": item.get("reason"),
                     "action": _action(w, item.get("action"), "deny")}
            if kind == "allow" and entry["commands"]:
                raise PolicyError(f"{w}: allow takes paths or tools (commands are denied by pattern)")
            if entry["reason"] is not None and not isinstance(entry["reason"], str):
                raise PolicyError(f"{w}: reason must be a string")
            pol[kind].append(entry)
    if "pause" in raw:
        pz = raw["pause"]
        _keys(f"{where} [pause]", pz, ("max_wait",))
        pol["pause"] = {"max_wait_s": _duration(f"{where} [pause]", "max_wait", pz.get("max_wait", "25s"))}
    _notify(raw, where, pol)
    return pol


def _notify(raw: dict[str, Any], where: str, pol: Policy) -> None:
    """``[[notify]]`` and ``[daily_budget]``, validated by :mod:`agent_trace.notify.config`."""
    if "notify" not in raw and "daily_budget" not in raw:
        return
    from ..notify.config import NotifyConfigError, validate as validate_notify, validate_daily

    try:
        if "daily_budget" in raw:
            pol["daily_budget"] = validate_daily(raw["daily_budget"], where)
        if "notify" in raw:
            pol["notify"] = validate_notify(raw["notify"], where, bool(pol["budget"] or pol["daily_budget"]))
    except NotifyConfigError as e:
        raise PolicyError(str(e)) from None


def _digest(data: bytes) -> str:
    try:
        from _blake2 import blake2b  # built in: no OpenSSL load on the hook path
    except ImportError:  # pragma: no cover
        from hashlib import blake2b
    return blake2b(data, digest_size=16).hexdigest()


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(MAX_RULES_BYTES + 1)
    except OSError as e:
        raise PolicyError(f"cannot read rules file {path}: {e.strerror or e}") from None


MAX_RULES_BYTES = 1 << 20


def parse_bytes(data: bytes, path: str) -> Policy:
    """The validated policy of a rules file's content.  Every failure is a
    :class:`PolicyError` with one line."""
    import tomllib

    if len(data) > MAX_RULES_BYTES:
        raise PolicyError(f"{path}: larger than {MAX_RULES_BYTES} bytes: not a rules file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PolicyError(f"{path}: not UTF-8 (byte {e.start}: {data[e.start:e.start + 1]!r})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:
        raise PolicyError(f"{path}: nested too deep to be a rules file") from None
    try:
        pol = validate(raw, path)
    except PolicyError:
        raise
    except (RecursionError, TypeError, ValueError, AttributeError, OverflowError) as e:
        raise PolicyError(f"{path}: invalid rules ({type(e).__name__}: {e})"[:400]) from None
    pol["root"] = project_root(path)
    pol["file"] = path
    return pol


def parse_file(path: str) -> Policy:
    return parse_bytes(_read(path), path)


def load(path: str, cache_dir: str | None) -> Policy:
    """The policy for ``path``, from the JSON cache when it was made from the
    very same content (BLAKE2b of the file's bytes and its path)."""
    data = _read(path)
    key = f"{os.path.abspath(path)}|{_digest(data)}"
    cache = os.path.join(cache_dir, "rules-cache.json") if cache_dir else None
    if cache:
        try:
            with open(cache, "rb") as f:
                cached = loads(f.read())
            if isinstance(cached, dict) and cached.get("key") == key and isinstance(cached.get("policy"), dict):
                policy: Policy = cached["policy"]
                return policy
        except (OSError, ValueError, RecursionError):
            pass
    pol = parse_bytes(data, path)
    if cache and cache_dir:
        try:
            os.makedirs(cache_dir, exist_ok=True)
            tmp = f"{cache}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(dumps({"key": key, "policy": pol}))
            os.replace(tmp, cache)
        except (OSError, ValueError):
            pass  # a read-only or full store: the hook parses each time
    return pol
