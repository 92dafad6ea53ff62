"""``hook``: the agent's hot path.

``agent-strace hook [--cli claude|codex|gemini] [EVENT]`` reads one hook
payload on stdin and records it.  Capture fails open: whatever goes wrong,
it says so in one line on stderr and exits 0, and it prints nothing on stdout
unless it has a decision to give (Codex parses hook output strictly).
"""

from __future__ import annotations

import os
import sys

from . import EXIT_OK

def _say(msg: str) -> None:
    try:
        sys.stderr.write(f"agent-strace hook: {msg}\n")
    except Exception:
        pass


def _parse_hook_args(argv: list[str]):
    opts = {"trace_dir": None, "cli": "claude", "event": None, "daemon": False}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            return None
        if a == "--daemon":
            opts["daemon"] = True
            i += 1
            continue
        if a in ("--trace-dir", "--cli") and i + 1 < len(argv):
            opts[a[2:].replace("-", "_")] = argv[i + 1]
            i += 2
            continue
        if a.startswith("--trace-dir=") or a.startswith("--cli="):
            k, v = a[2:].split("=", 1)
            opts[k.replace("-", "_")] = v
        elif not a.startswith("-") and opts["event"] is None:
            opts["event"] = a
        else:
            raise ValueError(f"unexpected argument {a!r}")
        i += 1
    if opts["cli"] not in ("claude", "claude-code", "codex", "gemini"):
        raise ValueError(f"unknown --cli {opts['cli']!r} (claude, codex, gemini)")
    return opts


HOOK_HELP = """usage: agent-strace hook [--cli claude|codex|gemini] [--trace-dir DIR] [--daemon] [EVENT]

Record one agent hook event.  The payload is read as JSON on stdin; the event
name comes from its hook_event_name, else from EVENT (PreToolUse or
pre-tool-use).  Always exits 0: capture never blocks the agent.
--daemon (SessionStart, setup --transport http): also register the session
with the agent-strace daemon and start the daemon when it is not running."""


def hook_main(argv: list[str]) -> int:
    try:
        opts = _parse_hook_args(argv)
    except ValueError as e:
        _say(str(e))
        return EXIT_OK
    if opts is None:
        print(HOOK_HELP)
        return EXIT_OK
    try:
        return _hook(opts)
    except Exception as e:  # capture never breaks the agent
        _say(f"not recorded: {type(e).__name__}: {e}")
        return EXIT_OK


def _read_payload():
    raw = sys.stdin.buffer.read()
    if not raw.strip():
        _say("empty input on stdin: nothing recorded")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "surrogateescape")
        _say("input is not valid UTF-8: undecodable bytes kept as escapes")
    from agent_trace.event.fastjson import loads

    try:
        payload = loads(text)
    except ValueError as e:
        _say(f"input is not JSON ({e}): nothing recorded")
        return None
    if not isinstance(payload, dict):
        _say(f"input is a JSON {type(payload).__name__}, not an object: nothing recorded")
        return None
    return payload


def _hook(opts) -> int:
    payload = _read_payload()
    if payload is None:
        return EXIT_OK
    from agent_trace.capture.hooks import GIT_EVENTS, TRANSCRIPT_EVENTS, events_from_hook
    from agent_trace.store.sink import emit_fail_open
    from agent_trace.capture.sink import open_sink
    from agent_trace.store.paths import Store, resolve_root

    source = "claude-code" if opts["cli"] in ("claude", "claude-code") else opts["cli"]
    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    store = Store(resolve_root(opts["trace_dir"], cwd))
    sink = open_sink(store, detached=True)
    events = events_from_hook(payload, opts["event"], source)
    name = events[0].get("name")
    if name in GIT_EVENTS:
        from agent_trace.capture.git_info import git_events

        events += git_events(store, events[0]["session"], cwd, GIT_EVENTS[name])
    recorded = emit_fail_open(sink, events, "agent-strace hook")
    if opts["daemon"] and name == "SessionStart":
        _daemon_session(payload)
    if name == "PreToolUse":
        return _enforce(store, sink, payload, events[0], source, recorded)
    if name in TRANSCRIPT_EVENTS and source == "claude-code":
        _import_transcripts(store, sink, payload, final=(name == "SessionEnd"))
    if name in ("SessionEnd", "StopFailure"):
        from agent_trace.control.session_alerts import on_session_event

        on_session_event(store, payload, name)
    sink.close()
    return EXIT_OK


def _enforce(store, sink, payload, call, source, recorded: bool) -> int:
    """Rules and pause at PreToolUse.  Unlike capture, this fails closed: a
    failure to evaluate denies the call (the engine says why)."""
    from agent_trace.control.pause import is_paused
    from agent_trace.control.policy import find_rules_file

    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    rules_file = find_rules_file(cwd)
    if not rules_file and not is_paused(store, call["session"]):
        sink.close()
        return EXIT_OK  # nothing to enforce: the common case stays cheap
    from agent_trace.control.enforce import enforce

    out = enforce(store, sink, payload, call, source, payload.get("hook_event_name") or "PreToolUse", rules_file)
    if out is not None:
        from agent_trace.event.fastjson import dumps

        sys.stdout.write(dumps(out) + "\n")
        sys.stdout.flush()
    sink.close()
    return EXIT_OK


def _daemon_session(payload: dict) -> None:
    try:
        from agent_trace.daemon.lifecycle import on_session_start

        on_session_start(payload)
    except Exception as e:  # the session goes on; its HTTP hooks fail until a daemon runs
        _say(f"daemon not reached: {type(e).__name__}: {e}")


def _import_transcripts(store, sink, payload: dict, final: bool) -> None:
    from agent_trace.capture import log_import

    session = payload.get("session_id")
    if not isinstance(session, str):
        return
    try:
        sub = payload.get("agent_transcript_path")
        if isinstance(sub, str) and os.path.isfile(sub):
            log_import.import_transcript(store, sink, sub, session, payload.get("agent_id"), final)
        main = payload.get("transcript_path")
        if isinstance(main, str):
            log_import.import_session(store, sink, main, session, final)
    except Exception as e:
        _say(f"transcript not imported: {type(e).__name__}: {e}")
