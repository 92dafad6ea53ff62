"""``setup --transport http``: the daemon's side of installing HTTP hooks.

* the port goes into the daemon's config (the hooks' URL names it);
* the per-user secret (made once, 0600) goes into the ``env`` of the user's
  Claude Code settings, never into a project file: the hooks' header names
  ``$AGENT_STRACE_SECRET`` and Claude Code fills it in (``allowedEnvVars``).
  The user settings file is made private (0600) since it now holds it.
"""

from __future__ import annotations

import os
import sys

from . import EXIT_OK


def prepare(args) -> tuple[int, str]:
    """(port, secret) for the hooks; saved unless ``--print``."""
    from agent_trace.daemon import files as dfiles

    files = dfiles.DaemonFiles()
    port = args.port or dfiles.port(files)
    if args.dry:
        return port, dfiles.secret(files, create=False) or "<made at install>"
    dfiles.save_port(files, port)
    return port, dfiles.secret(files)  # type: ignore[return-value]  # secret() creates one when missing (create=True)


def finish(args, hooks_path: str, port: int, secret: str, write) -> int:
    from agent_trace.daemon import client
    from agent_trace.setup import settings_file
    from agent_trace.setup.claude import settings_path
    from agent_trace.setup.http_hooks import SECRET_VAR, with_secret_env

    user = settings_path("user", os.path.abspath(args.project))
    if os.path.abspath(user) != os.path.abspath(hooks_path):
        try:
            current = settings_file.load(user)
        except settings_file.SettingsError as e:
            sys.stderr.write(f"agent-strace setup: {e}\n")
            return 1
        new = with_secret_env(current, secret)
        code = write(args, user, current, new, [], f"stored {SECRET_VAR} (env) in", "")
        if code != EXIT_OK:
            return code
    if args.dry:
        return EXIT_OK
    if os.path.exists(user) and os.stat(user).st_mode & 0o077:
        os.chmod(user, 0o600)
        print(f"note: {user} now holds the daemon's secret: made it private (0600)")
    st = client.status()
    if st is None:
        print(f"note: the daemon (127.0.0.1:{port}) starts with the first Claude Code session; "
              "or now: agent-strace daemon start")
    elif st.get("port") != port:
        print(f"note: the running daemon listens on {st.get('port')}: run agent-strace daemon restart")
    return EXIT_OK
