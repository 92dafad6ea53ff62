"""Claude Code hooks of ``"type": "http"`` into the agent-strace daemon
(``setup --transport http``; see ``adr/0009-http-hooks-and-the-daemon.md``).

What Claude Code 2.1 does with them (checked against the real program):

* it POSTs the hook's JSON to ``url`` and reads the answer like a command
  hook's stdout; header values may name environment variables listed in
  ``allowedEnvVars`` (``$VAR``/``${VAR}``), which is how the per-user secret
  reaches the header without being written into a project file;
* HTTP hooks cannot be async, and SessionStart (and Setup) never send them:
  SessionStart stays a command hook, which also registers the session and
  starts the daemon when it is not running;
* a failed HTTP hook is non-blocking unless ``onFailure: "block"``: then the
  action the event guards is refused while the hook fails.  PreToolUse gets
  ``onFailure: "block"``, so with the daemon down a call is refused, never
  let through unchecked.  ``enforce="command"`` keeps PreToolUse a command
  hook instead (an outage never blocks an allowed call; 10-20 ms a call).
"""

from __future__ import annotations

from .hook_command import HTTP_PATH, hook_command, kebab

SECRET_VAR = "AGENT_STRACE_SECRET"
OBSERVE_TIMEOUT_S = 5
DECIDE_TIMEOUT_S = 30  # a paused session waits in the PreToolUse hook (25 s at most)
ENFORCE_CHOICES = ("http", "command")


def hook_url(port: int, event: str, cli: str = "claude") -> str:
    return f"http://127.0.0.1:{port}{HTTP_PATH}{cli}/{kebab(event)}"


def http_hook(port: int, event: str) -> dict:
    hook = {"type": "http", "url": hook_url(port, event),
            "headers": {"Authorization": f"Bearer ${{{SECRET_VAR}}}"},
            "allowedEnvVars": [SECRET_VAR],
            "timeout": DECIDE_TIMEOUT_S if event == "PreToolUse" else OBSERVE_TIMEOUT_S}
    if event == "PreToolUse":
        hook["onFailure"] = "block"
    return hook


def groups(command_groups: dict[str, dict], port: int, python: str | None,
           enforce: str = "http", portable: bool = False) -> dict[str, dict]:
    """``command_groups`` (event -> our group of command hooks) turned into
    the HTTP transport's groups: same events, same matchers."""
    if enforce not in ENFORCE_CHOICES:
        raise ValueError(f"enforce must be one of {', '.join(ENFORCE_CHOICES)}, not {enforce!r}")
    out = {}
    for event, group in command_groups.items():
        if event == "SessionStart":
            hook = dict(group["hooks"][0])
            hook["command"] = hook_command(kebab(event), python=python, portable=portable, daemon=True)
            out[event] = {**group, "hooks": [hook]}
        elif event == "PreToolUse" and enforce == "command":
            out[event] = group
        else:
            out[event] = {**group, "hooks": [http_hook(port, event)]}
    return out


def with_secret_env(settings: dict, secret: str) -> dict:
    """Settings whose ``env`` sets the secret Claude Code interpolates."""
    out = dict(settings)
    env = dict(out.get("env") or {}) if isinstance(out.get("env"), dict) else {}
    env[SECRET_VAR] = secret
    out["env"] = env
    return out


def without_secret_env(settings: dict) -> dict:
    env = settings.get("env")
    if not isinstance(env, dict) or SECRET_VAR not in env:
        return settings
    out = dict(settings)
    env = {k: v for k, v in env.items() if k != SECRET_VAR}
    if env:
        out["env"] = env
    else:
        out.pop("env")
    return out
