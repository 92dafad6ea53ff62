"""Claude Code hooks of ``"type": "http"`` into the agent-strace daemon
(``setup --transport http``; see ``adr/0011-http-hooks-and-the-daemon.md``).

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

import shlex
import sys

from .hook_command import HTTP_PATH, LAUNCH, hook_command, kebab

SECRET_VAR = "AGENT_STRACE_SECRET"
# The agent's environment that decides where a command hook records and which
# rules it applies; Claude Code fills these headers in from its own
# environment (an unset variable is an empty string).
ENV_HEADERS = {"X-Agent-Trace-Dir": "AGENT_TRACE_DIR", "X-Agent-Strace-Rules": "AGENT_STRACE_RULES",
               "X-Agent-Home": "HOME"}
ENV_MARKER = ("X-Agent-Strace-Env", "1")  # says the headers above were sent
OBSERVE_TIMEOUT_S = 5
DECIDE_TIMEOUT_S = 30  # a paused session waits in the PreToolUse hook (25 s at most)
ENSURE_TIMEOUT_S = 15
ENFORCE_CHOICES = ("http", "command")
# The daemon's lock, as the shell finds it (daemon/files.py says the same).
LOCK = '"${AGENT_STRACE_DAEMON_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/agent-strace/daemon}/daemon.lock"'


def hook_url(port: int, event: str, cli: str = "claude") -> str:
    return f"http://127.0.0.1:{port}{HTTP_PATH}{cli}/{kebab(event)}"


def http_hook(port: int, event: str) -> dict:
    headers = {"Authorization": f"Bearer ${{{SECRET_VAR}}}", ENV_MARKER[0]: ENV_MARKER[1]}
    headers.update({h: f"${{{var}}}" for h, var in ENV_HEADERS.items()})
    hook = {"type": "http", "url": hook_url(port, event), "headers": headers,
            "allowedEnvVars": [SECRET_VAR, *ENV_HEADERS.values()],
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
            record = {**group["hooks"][0], "async": True,
                      "command": hook_command(kebab(event), python=python, portable=portable, daemon=True)}
            ensure = {"type": "command", "command": ensure_command(python, portable), "timeout": ENSURE_TIMEOUT_S}
            out[event] = {**group, "hooks": [ensure, record]}
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


def ensure_command(python: str | None, portable: bool) -> str:
    """SessionStart's synchronous part: nothing but a shell and ``flock`` when
    the daemon runs (a few ms); otherwise start it and wait until it listens,
    so the session's first PreToolUse finds it.  Prints nothing (SessionStart
    output would reach the model) and always exits 0."""
    if portable and not python:
        start = "command -v agent-strace >/dev/null 2>&1 && agent-strace daemon start"
    else:
        start = " ".join(shlex.quote(p) for p in (python or sys.executable, "-c", LAUNCH, "daemon", "start"))
    return (f"flock -n -E 75 -x {LOCK} true 2>/dev/null; [ $? -eq 75 ] && exit 0; "
            f"{start} >/dev/null 2>&1; exit 0")
