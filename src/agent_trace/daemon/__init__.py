"""The agent-strace daemon: one per user, taking agents' hook payloads over
loopback HTTP (and a Unix socket for our own clients).

Contract
--------
* **Same path as a command hook.** A payload is mapped by
  :func:`agent_trace.capture.hooks.events_from_hook`, written through the same
  encoder and sink into the store the hook would pick (the payload's ``cwd``,
  or the session's ``AGENT_TRACE_DIR``), and PreToolUse is answered by the
  same rules engine.  Only the process is long-lived.
* **Capture fails open, enforcement fails closed.** A payload the daemon
  cannot record is answered 200 (and said on its log); a decision that cannot
  be evaluated is a deny.  A daemon that is down is Claude Code's business:
  ``setup --transport http`` installs PreToolUse with ``onFailure: "block"``,
  so an unreachable daemon refuses the call (see ``adr/0011``).
* **Lossless.** What an HTTP hook could not deliver is recovered from the
  session's transcript at the next Stop, SubagentStop or SessionEnd the
  daemon sees, or when it starts again, with the ids the hooks would have
  written (:mod:`.recovery`).
* **Live state in memory**, bounded: per-session summary, rule state and
  decisions (:mod:`.live`), read by ``watch``, ``inspect`` (so VS Code), the
  statusline and ``ui`` through :mod:`.client` when the daemon runs.
* **Auth.** TCP requests need the per-user secret (:mod:`.files`) and a
  loopback Host, and must not come from a web page (no Origin); the Unix
  socket is private to the user (0700 folder, peer uid checked).

Modules: :mod:`.files` (where things live), :mod:`.registry` (sessions the
SessionStart hook registered), :mod:`.guard` (request checks), :mod:`.intake`
(payload -> store -> answer), :mod:`.live`, :mod:`.recovery`, :mod:`.server`
(HTTP), :mod:`.lifecycle` (start, stop, status, on demand), :mod:`.service`
(systemd user unit), :mod:`.client`.
"""
