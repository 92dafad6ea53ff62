"""``agent-strace doctor``: is recording set up so that nothing is lost?

For Claude Code, Codex CLI, Gemini CLI and OpenCode: is the agent installed,
are our hooks present for every event, current (what ``setup`` would write
now, with an interpreter or ``agent-strace`` that exists), trusted where the
agent demands it (Codex's hook review and project trust, Gemini's folder
trust), and when did the store last hear from it.  Then: is the store
writable, is the rules file valid, is the remote endpoint reachable.

Each finding is ``Finding(level, agent, text, fix)``; ``fail`` means events
would be lost or rules skipped (``doctor`` exits 4), ``warn`` is worth
fixing, ``ok`` and ``info`` report.
"""

from __future__ import annotations

import os
import shlex
import shutil
import time

from .hook_command import MARKER, is_ours

FAIL, WARN, OK, INFO = "fail", "warn", "ok", "info"
SOURCES = {"claude": "claude-code", "codex": "codex", "gemini": "gemini", "opencode": "opencode"}
BINARIES = {"claude": "claude", "codex": "codex", "gemini": "gemini", "opencode": "opencode"}


class Finding:
    __slots__ = ("level", "agent", "text", "fix")

    def __init__(self, level: str, agent: str, text: str, fix: str | None = None):
        self.level, self.agent, self.text, self.fix = level, agent, text, fix

    def as_dict(self) -> dict:
        return {"level": self.level, "agent": self.agent, "text": self.text, "fix": self.fix}


def _setup_cmd(cli: str, scope: str, project: str, extra: str = "") -> str:
    parts = ["agent-strace setup"] + ([f"--cli {cli}"] if cli != "claude" else [])
    if scope != "project":
        parts.append(f"--scope {scope}")
    else:
        parts.append(f"--project {shlex.quote(project)}")
    return " ".join(parts + ([extra] if extra else []))


def _module(cli: str):
    from . import claude, codex, gemini

    return {"claude": claude, "codex": codex, "gemini": gemini}[cli]


def _expected_events(cli: str) -> tuple[str, ...]:
    m = _module(cli)
    return m.SYNC + m.ASYNC if cli == "claude" else m.EVENTS


def _scopes(cli: str) -> tuple[str, ...]:
    return ("project", "local", "user") if cli == "claude" else ("project", "user")


_IMPORTABLE: dict[str, str | None] = {}


def _importable(exe: str) -> str | None:
    if exe not in _IMPORTABLE:
        import subprocess

        try:
            r = subprocess.run([exe, "-c", "import agent_trace"], capture_output=True, timeout=20)
            ok = r.returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        _IMPORTABLE[exe] = None if ok else f"its interpreter {exe} cannot import agent_trace"
    return _IMPORTABLE[exe]


def _command_problem(command: str) -> str | None:
    """Why a hook command of ours cannot run here (None when it can)."""
    if MARKER in command:
        try:
            exe = shlex.split(command)[0]
        except ValueError:
            return "the hook command does not parse"
        if not os.access(exe, os.X_OK):
            return f"its interpreter {exe} is gone"
        return _importable(exe)
    if "agent-strace hook" in command and not shutil.which("agent-strace"):
        return "`agent-strace` is not on PATH"
    return None


def _fix_for(problem: str, setup: str) -> str:
    if "not on PATH" in problem:
        return "put agent-strace on PATH (pip install agent-strace), or use a machine path: " \
               + setup.replace("--project", "--scope local --project") if "--cli" not in setup else \
               "put agent-strace on PATH (pip install agent-strace), or " + setup + " --python $(which python3)"
    return setup


def check_hooks_file(cli: str, scope: str, project: str, out: list[Finding]) -> dict | None:
    from . import settings_file

    m = _module(cli)
    path = m.settings_path(scope, project)
    if not os.path.exists(path):
        return None
    try:
        data = settings_file.load(path)
    except settings_file.SettingsError as e:
        out.append(Finding(FAIL, cli, f"{e}", f"fix the file, then {_setup_cmd(cli, scope, project)}"))
        return None
    # type-checker: narrowed by isinstance() on the same .get()
    hooks: dict = data.get("hooks") if isinstance(data.get("hooks"), dict) else {}  # type: ignore[assignment]
    ours: dict[str, list[str]] = {}
    for event, groups in hooks.items():
        for g in groups if isinstance(groups, list) else []:
            # type-checker: narrowed by isinstance() on the same .get()
            for h in (g.get("hooks") if isinstance(g, dict) and isinstance(g.get("hooks"), list) else []):  # type: ignore[union-attr]
                if isinstance(h, dict) and is_ours(h.get("command")):
                    ours.setdefault(event, []).append(h["command"])
    if not ours:
        return None
    fix = _setup_cmd(cli, scope, project)
    missing = [e for e in _expected_events(cli) if e not in ours]
    extra = [e for e in ours if e not in _expected_events(cli)]
    if missing:
        out.append(Finding(FAIL, cli, f"{path}: no hook for {', '.join(missing)}: those events are lost", fix))
    if extra:
        out.append(Finding(WARN, cli, f"{path}: outdated hooks on {', '.join(extra)} (setup no longer installs "
                                      "them)", fix))
    problems = {p for cmds in ours.values() for c in cmds if (p := _command_problem(c))}
    for p in sorted(problems):
        out.append(Finding(FAIL, cli, f"{path}: {p}, so the hooks fail and record nothing", _fix_for(p, fix)))
    if cli == "gemini":
        hc = data.get("hooksConfig")
        if isinstance(hc, dict) and hc.get("enabled") is False:
            out.append(Finding(FAIL, cli, f"{path}: hooksConfig.enabled is false: Gemini CLI runs no hooks",
                               "set hooksConfig.enabled to true"))
    if not missing and not problems:
        out.append(Finding(OK, cli, f"hooks for {len(ours)} events in {path}"))
    return {"path": path, "data": data, "scope": scope}


def _codex_trust(project: str, found: dict, out: list[Finding]) -> None:
    import tomllib

    from . import codex, codex_trust

    cfg_path = codex_trust.user_config()
    try:
        with open(cfg_path, "rb") as f:
            cfg = tomllib.load(f)
    except FileNotFoundError:
        cfg = {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        out.append(Finding(FAIL, "codex", f"{cfg_path} cannot be read ({e}): Codex fails to start", None))
        return
    fix = _setup_cmd("codex", found["scope"], project, "--trust")
    if found["scope"] == "project" and not codex_trust.project_trusted(cfg, project):
        out.append(Finding(FAIL, "codex", f"the project {project} is not trusted: Codex ignores its .codex/ "
                                          "(no hook runs)", fix + "  (or trust it when codex asks)"))
    status = codex_trust.trust_status(cfg, codex.entries(found["path"], found["data"]))
    by: dict[str, int] = {}
    for v in status.values():
        by[v] = by.get(v, 0) + 1
    if by.get("modified"):
        out.append(Finding(FAIL, "codex", f"{by['modified']} hooks changed since they were approved (a reinstall "
                                          "with another command): Codex skips them silently", fix))
    if by.get("untrusted"):
        out.append(Finding(FAIL, "codex", f"{by['untrusted']} hooks not reviewed yet: Codex skips them silently",
                           fix + "  (or /hooks in codex)"))
    if by.get("disabled"):
        out.append(Finding(FAIL, "codex", f"{by['disabled']} hooks disabled in {cfg_path}", "/hooks in codex"))
    if status and set(status.values()) == {"trusted"}:
        out.append(Finding(OK, "codex", f"all {len(status)} hooks trusted in {cfg_path}"))
    scope_cfg = codex.config_path(found["scope"], project)
    for p in {scope_cfg, cfg_path}:
        try:
            with open(p, "rb") as f:
                if tomllib.load(f).get("features", {}).get("hooks") is False:
                    out.append(Finding(FAIL, "codex", f"{p} turns hooks off ([features] hooks = false)",
                                       "set [features] hooks = true"))
        except (OSError, tomllib.TOMLDecodeError, AttributeError):
            pass


def _gemini_trust(project: str, found: dict, out: list[Finding]) -> None:
    from . import gemini, settings_file

    if found["scope"] != "project":
        return
    try:
        folders = settings_file.load(gemini.trusted_folders_path())
    except settings_file.SettingsError:
        folders = {}
    if gemini.folder_trusted(folders, project):
        out.append(Finding(OK, "gemini", f"folder {project} trusted"))
    elif os.environ.get("GEMINI_CLI_TRUST_WORKSPACE") == "true":
        out.append(Finding(OK, "gemini", "folder trusted for this shell (GEMINI_CLI_TRUST_WORKSPACE=true)"))
    else:
        out.append(Finding(FAIL, "gemini", f"folder {project} is not trusted: Gemini CLI skips its project "
                                           "settings (no hook runs) and headless runs exit 55",
                           _setup_cmd("gemini", "project", project, "--trust")))


def _opencode(project: str, out: list[Finding]) -> bool:
    import json

    from . import opencode

    found = False
    for scope in ("project", "user"):
        path = opencode.plugin_path(scope, project)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        if not opencode.is_ours(text):
            continue
        found = True
        fix = _setup_cmd("opencode", scope, project)
        try:
            commands = json.loads(text.split("const COMMANDS = ", 1)[1].split(";\n", 1)[0])
        except (IndexError, ValueError):
            commands = {}
        missing = [e for e in opencode.EVENTS if e not in commands]
        problems = {p for c in commands.values() if isinstance(c, str) and (p := _command_problem(c))}
        for p in sorted(problems):
            out.append(Finding(FAIL, "opencode", f"{path}: {p}, so the plugin records nothing", _fix_for(p, fix)))
        if missing:
            out.append(Finding(FAIL, "opencode", f"{path}: an older plugin without {', '.join(missing)}", fix))
        if not problems and not missing:
            out.append(Finding(OK, "opencode", f"plugin for {len(commands)} events in {path}"))
    return found


def last_fired(store_root: str) -> dict[str, tuple[str, str]]:
    """source -> (time of the last event, session), from the store's index."""
    from ..analysis.session_index import list_sessions
    from ..store.paths import Store

    out: dict[str, tuple[str, str]] = {}
    if not os.path.isdir(store_root):
        return out
    for row in list_sessions(Store(store_root), write_cache=False):
        for src in row.get("sources") or []:
            if src not in out and row.get("last"):
                out[src] = (row["last"], row.get("session") or "?")
    return out


def _ago(ts: str) -> str:
    from ..event import iso_to_epoch

    try:
        s = max(0, time.time() - iso_to_epoch(ts))
    except ValueError:
        return ts
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= n:
            return f"{int(s // n)}{unit} ago"
    return f"{int(s)}s ago"


def check_agent(cli: str, project: str, fired: dict, out: list[Finding]) -> None:
    installed = shutil.which(BINARIES[cli])
    if cli == "opencode":
        configured = _opencode(project, out)
    else:
        configured = False
        for scope in _scopes(cli):
            found = check_hooks_file(cli, scope, project, out)
            if found:
                configured = True
                if cli == "codex":
                    _codex_trust(project, found, out)
                elif cli == "gemini":
                    _gemini_trust(project, found, out)
    if not configured:
        if installed:
            out.append(Finding(WARN, cli, f"installed ({installed}) but not set up: its sessions are not recorded",
                               _setup_cmd(cli, "project", project)))
        else:
            out.append(Finding(INFO, cli, "not installed, not set up"))
        return
    if not installed:
        out.append(Finding(INFO, cli, f"set up, but `{BINARIES[cli]}` is not on PATH here"))
    last = fired.get(SOURCES[cli])
    out.append(Finding(INFO, cli, f"last recorded {_ago(last[0])} (session {last[1][:12]})" if last
                       else "never recorded in this store"))


def check_store(root: str, out: list[Finding]) -> None:
    """Writable, without creating anything: a probe file where the store
    exists, else the right to create it in its nearest existing parent."""
    fix = "fix the folder's permissions or set AGENT_TRACE_DIR"
    sessions = os.path.join(root, "sessions")
    where = sessions if os.path.isdir(sessions) else None
    if where is None:
        parent = root
        while not os.path.exists(parent) and os.path.dirname(parent) != parent:
            parent = os.path.dirname(parent)
        if not (os.path.isdir(parent) and os.access(parent, os.W_OK | os.X_OK)):
            out.append(Finding(FAIL, "store", f"{root} cannot be created ({parent} is not a writable folder): "
                                              "hooks cannot record", fix))
        else:
            out.append(Finding(OK, "store", f"can be created: {root}"))
        return
    try:
        probe = os.path.join(where, f".doctor-{os.getpid()}")
        with open(probe, "w") as f:
            f.write("x")
        os.unlink(probe)
        out.append(Finding(OK, "store", f"writable: {root}"))
    except OSError as e:
        out.append(Finding(FAIL, "store", f"{root} is not writable ({e.strerror}): hooks cannot record", fix))


def check_rules(project: str, out: list[Finding]) -> None:
    from ..control.policy import PolicyError, find_rules_file, parse_file

    path = find_rules_file(project)
    if not path:
        out.append(Finding(INFO, "rules", "no rules file"))
        return
    try:
        parse_file(path)
    except PolicyError as e:
        out.append(Finding(FAIL, "rules", f"{e}: every tool call is denied until it is fixed",
                           f"agent-strace rules check {shlex.quote(path)}"))
        return
    except Exception as e:  # the engine denies on anything it cannot load: say so
        out.append(Finding(FAIL, "rules", f"{path} cannot be loaded ({type(e).__name__}: {e}): calls are denied",
                           f"agent-strace rules check {shlex.quote(path)}"))
        return
    out.append(Finding(OK, "rules", f"valid: {path}"))


def check_endpoint(out: list[Finding]) -> None:
    url = os.environ.get("AGENT_STRACE_ENDPOINT")
    if not url:
        return
    import socket
    from urllib.parse import urlsplit

    try:
        u = urlsplit(url)
        port = u.port or (443 if u.scheme == "https" else 80)
        with socket.create_connection((u.hostname or "", port), timeout=2):
            pass
        out.append(Finding(OK, "endpoint", f"{u.scheme}://{u.hostname}:{port} reachable"))
    except (OSError, ValueError) as e:
        out.append(Finding(WARN, "endpoint", f"AGENT_STRACE_ENDPOINT unreachable ({e}): events wait in the "
                                             "local spool", "agent-strace push (once it is back)"))


def run_checks(project: str, store_root: str, clis: tuple[str, ...]) -> list[Finding]:
    out: list[Finding] = []
    fired = last_fired(store_root)
    for cli in clis:
        check_agent(cli, project, fired, out)
    check_store(store_root, out)
    check_rules(project, out)
    check_endpoint(out)
    return out
