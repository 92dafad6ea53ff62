"""``hook``: the agent's hot path.

``agent-strace hook [--cli claude|codex|gemini|opencode] [EVENT]`` reads one hook
payload on stdin and records it.  Capture fails open: whatever goes wrong,
it says so in one line on stderr and exits 0, and it prints nothing on stdout
unless it has a decision to give (Codex parses hook output strictly).

Enforcement (PreToolUse with a rules file or a paused session) fails closed:
the decision is printed before anything about it is recorded, and if
anything goes wrong on the way to a decision (an unreadable payload or rules
file, a bug) the hook exits 2 with the reason on stderr, which every
supported agent treats as "block this call".
"""

from __future__ import annotations

import os
import sys

from . import EXIT_OK

EXIT_BLOCK = 2  # Claude Code, Codex and Gemini CLI block a tool call on exit code 2
PRE_TOOL = ("PreToolUse", "BeforeTool")
_enforcing = [False]  # set once this hook decides a call: failures from then on deny


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
    if opts["cli"] not in ("claude", "claude-code", "codex", "gemini", "opencode"):
        raise ValueError(f"unknown --cli {opts['cli']!r} (claude, codex, gemini, opencode)")
    return opts


HOOK_HELP = """usage: agent-strace hook [--cli claude|codex|gemini|opencode] [--trace-dir DIR] [--daemon] [EVENT]

Record one agent hook event.  The payload is read as JSON on stdin; the event
name comes from its hook_event_name, else from EVENT (PreToolUse or
pre-tool-use).  Always exits 0: capture never blocks the agent.
--daemon (SessionStart, setup --transport http): also register the session
with the agent-strace daemon and start the daemon when it is not running."""


def hook_main(argv: list[str]) -> int:
    _enforcing[0] = False
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
    except BaseException as e:  # capture never breaks the agent; enforcement never lets a call through
        if _enforcing[0]:
            return _block(f"rules could not be evaluated ({type(e).__name__}: {e}), so the call is denied")
        if not isinstance(e, Exception):
            raise
        _say(f"not recorded: {type(e).__name__}: {e}")
        return EXIT_OK


def _block(reason: str) -> int:
    """Deny the call without JSON: exit 2, the reason on stderr."""
    try:
        sys.stderr.write(f"agent-strace: {reason}\n")
        sys.stderr.flush()
    except Exception:
        pass
    return EXIT_BLOCK


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
        try:
            payload = loads(text)
        except RecursionError:  # nested deeper than the C parser goes: parse it iteratively, store it flattened
            from agent_trace.event.fastjson import loads_deep
            from agent_trace.event.sanitize import shape

            payload = loads_deep(text)
            if isinstance(payload, dict):
                shape(payload)
    except ValueError as e:
        _say(f"input is not JSON ({str(e)[:200]}): nothing recorded")
        return None
    if not isinstance(payload, dict):
        _say(f"input is a JSON {type(payload).__name__}, not an object: nothing recorded")
        return None
    return payload


def _is_pre_tool(opts, payload) -> bool:
    from agent_trace.capture.hooks import canonical_name

    name = payload.get("hook_event_name") if isinstance(payload, dict) else None
    name = name if isinstance(name, str) and name else opts["event"]
    return bool(name) and canonical_name(name) in PRE_TOOL


def _hook(opts) -> int:
    payload = _read_payload()
    if payload is None:
        if _is_pre_tool(opts, None):
            from agent_trace.control.policy import find_rules_file

            if find_rules_file(os.getcwd()):
                return _block("the hook payload could not be read, so the call is denied "
                              "(a rules file applies here)")
        return EXIT_OK
    from agent_trace.capture.hooks import GIT_EVENTS, TRANSCRIPT_EVENTS, events_from_hook
    from agent_trace.capture.claims import emit_live
    from agent_trace.store.paths import Store, resolve_root

    source = "claude-code" if opts["cli"] in ("claude", "claude-code") else opts["cli"]
    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    rules_file = None
    if _is_pre_tool(opts, payload):
        from agent_trace.control.policy import find_rules_file

        rules_file = find_rules_file(cwd)
        _enforcing[0] = bool(rules_file)  # from here a failure denies
    store = Store(resolve_root(opts["trace_dir"], cwd))
    events = events_from_hook(payload, opts["event"], source)
    if not events:  # not an event (a streamed chunk): nothing to record
        return EXIT_OK
    if source == "gemini":
        try:
            from agent_trace.capture.gemini_calls import assign

            assign(store, events[0])  # Gemini sends no call ids: pair calls and results
        except Exception as e:
            _say(f"call not paired: {type(e).__name__}: {e}")
    call = dict(events[0])  # rules judge what the agent asked for, not the redacted copy stored
    name = call.get("name")
    if name in GIT_EVENTS:
        try:
            from agent_trace.capture.git_info import git_events

            events += git_events(store, call["session"], cwd, GIT_EVENTS[name])
        except Exception as e:
            _say(f"git state not recorded: {type(e).__name__}: {e}")
    sink = _open_sink(store)
    if sink is not None:
        emit_live(store, sink, events, "agent-strace hook")
    if opts["daemon"] and name == "SessionStart":
        _daemon_session(payload)
    if name == "PreToolUse":
        return _enforce(store, sink, payload, call, source, rules_file)
    if name in TRANSCRIPT_EVENTS and sink is not None:
        if source == "claude-code":
            _import_transcripts(store, sink, payload, final=(name == "SessionEnd"))
        elif source in ("codex", "gemini"):
            _import_agent_logs(store, sink, payload, source, final=(name == "SessionEnd"))
    if name in ("SessionEnd", "StopFailure"):
        try:
            from agent_trace.control.session_alerts import on_session_event

            on_session_event(store, payload, name)
        except Exception as e:
            _say(f"session alert not queued: {type(e).__name__}: {e}")
    _close(sink)
    return EXIT_OK


def _import_agent_logs(store, sink, payload: dict, agent: str, final: bool) -> None:
    """LLM turns (and Gemini's compactions) from Codex's rollout / Gemini's chat log."""
    from agent_trace.capture.agent_import import import_log

    session = payload.get("session_id")
    if not isinstance(session, str):
        return
    for key in ("agent_transcript_path", "transcript_path"):
        path = payload.get(key)
        if isinstance(path, str) and path:
            try:
                import_log(store, sink, agent, path, session, final)
            except Exception as e:  # capture never breaks the agent
                _say(f"{agent} log not imported: {type(e).__name__}: {e}")


def _open_sink(store):
    from agent_trace.capture.sink import open_sink

    try:
        return open_sink(store, detached=True)
    except Exception as e:
        _say(f"not recorded: {type(e).__name__}: {e}")
        return None


def _close(sink) -> None:
    if sink is None:
        return
    try:
        sink.close()
    except Exception as e:
        _say(f"not shipped: {type(e).__name__}: {e}")


class _NoSink:
    """Where decisions go when the store cannot even be opened: nowhere."""

    store = None

    def emit_many(self, events):
        raise OSError("the store could not be opened")

    def emit(self, event):
        self.emit_many([event])


def _enforce(store, sink, payload, call, source, rules_file: str | None) -> int:
    """Rules and pause at PreToolUse.  Unlike capture, this fails closed: a
    failure to evaluate denies the call (the engine says why), and the answer
    is printed before the decision is recorded."""
    from agent_trace.control.pause import is_paused

    if not rules_file and not is_paused(store, call["session"]):
        _close(sink)
        return EXIT_OK  # nothing to enforce: the common case stays cheap
    _enforcing[0] = True
    from agent_trace.control import enforce as enf

    if sink is None:
        sink = _NoSink()
        sink.store = store
    verdict = enf.enforce(store, sink, payload, call, source, payload.get("hook_event_name") or "PreToolUse",
                          rules_file)
    if verdict.out is not None:
        from agent_trace.event.fastjson import dumps

        try:
            sys.stdout.write(dumps(verdict.out) + "\n")
            sys.stdout.flush()
        except Exception as e:
            reason = (verdict.records[0][0].reason if verdict.records else "denied")
            return _block(f"{reason} (the JSON answer could not be written: {e})")
    _enforcing[0] = False  # the agent has its answer: what follows only records it
    verdict.finish()
    _close(sink if not isinstance(sink, _NoSink) else None)
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
