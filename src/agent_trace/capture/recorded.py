"""A recorded Claude Code capture, fed again as one coherent session.

A capture is what a real run left: the hook payloads in firing order and the
transcripts (main and subagents).  Hook payloads carry no time of their own,
so fed again they would all be stamped "now" while the transcript's LLM turns
keep the times of the original run, and the session would contradict itself.
:func:`replay_capture` re-times the whole capture as one run ending now:

* the transcripts are shifted by one constant, so their gaps stay real;
* each payload gets the time of the transcript entry it answers (a tool call
  just after the assistant message that asked for it, a result at its
  tool_result, a prompt at its user entry, Stop after the turn's last
  message ...), never earlier than the payload before it;
* payloads go through the hook mapping (:func:`events_from_hook`) and the
  transcripts through the importer, into one store, under a fresh session id.

Used by ``agent-strace demo`` and by tests that need a realistic session.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid

from .. import event as ev
from ..event.timefmt import parse_iso
from ..store.paths import Store
from ..store.sink import FileSink
from .hooks import events_from_hook
from .log_import import import_session

EPS = 0.001  # a hook fires a moment after the transcript entry it follows


class Capture:
    """Payloads plus transcripts: ``main`` and ``subagents`` {agent id: entries}."""

    def __init__(self, payloads: list[dict], main: list[dict], subagents: dict[str, list[dict]],
                 project: str | None = None):
        self.payloads = payloads
        self.main = main
        self.subagents = subagents
        self.project = project  # the project folder the capture was recorded in
        self.session = payloads[0]["session_id"]


def load_capture(folder, project: str | None = None) -> Capture:
    """Read a capture folder laid out like ``shared/fixtures/claude-code-*``
    (``hook-payloads.jsonl``, ``transcript-main.jsonl``,
    ``transcript-subagent-agent-<id>.jsonl``); ``folder`` may be a path or an
    ``importlib.resources`` traversable."""
    def lines(name):
        text = _read(folder, name)
        return [json.loads(x) for x in text.splitlines() if x.strip()]

    subs = {}
    for name in _names(folder):
        if name.startswith("transcript-subagent-agent-") and name.endswith(".jsonl"):
            subs[name[len("transcript-subagent-agent-"):-len(".jsonl")]] = lines(name)
    return Capture(lines("hook-payloads.jsonl"), lines("transcript-main.jsonl"), subs, project)


def _read(folder, name: str) -> str:
    if isinstance(folder, (str, os.PathLike)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            return f.read()
    return folder.joinpath(name).read_text("utf-8")


def _names(folder) -> list[str]:
    if isinstance(folder, (str, os.PathLike)):
        return sorted(os.listdir(folder))
    return sorted(p.name for p in folder.iterdir())


def _t(entry: dict) -> float | None:
    ts = entry.get("timestamp")
    if not isinstance(ts, str):
        return None
    try:
        return parse_iso(ts)
    except ValueError:
        return None


def _blocks(entry: dict) -> list:
    content = (entry.get("message") or {}).get("content")
    return content if isinstance(content, list) else []


def payload_times(capture: Capture) -> list[float]:
    """The original time of each payload, from the transcript entries it answers."""
    entries = capture.main + [e for subs in capture.subagents.values() for e in subs]
    call_at: dict[str, float] = {}
    result_at: dict[str, float] = {}
    prompt_at: dict[str, float] = {}
    for e in entries:
        t = _t(e)
        if t is None:
            continue
        for b in _blocks(e):
            if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("id"):
                call_at.setdefault(b["id"], t)
            elif isinstance(b, dict) and b.get("type") == "tool_result" and b.get("tool_use_id"):
                result_at.setdefault(b["tool_use_id"], t)
        if e.get("type") == "user" and e.get("promptId") and isinstance((e.get("message") or {}).get("content"), str):
            prompt_at.setdefault(e["promptId"], t)
    main_times = [t for t in map(_t, capture.main) if t is not None]
    sub_span = {a: [t for t in map(_t, es) if t is not None] for a, es in capture.subagents.items()}
    first, last = min(main_times), max(main_times)
    # the last main-agent message of each turn (Stop comes right after it)
    turn_end, current = {}, None
    for e in capture.main:
        if e.get("type") == "user" and e.get("promptId"):
            current = e["promptId"]
        if e.get("type") == "assistant" and current and _t(e) is not None:
            turn_end[current] = _t(e)

    out: list[float] = []
    prev = first - EPS
    for p in capture.payloads:
        name = p.get("hook_event_name")
        tid, aid, pid = p.get("tool_use_id"), p.get("agent_id"), p.get("prompt_id")
        t = None
        if name == "SessionStart":
            t = first - EPS
        elif name == "UserPromptSubmit":
            t = prompt_at.get(pid)  # type: ignore[arg-type]  # a payload without the id just finds nothing
            t = t - EPS if t is not None else None
        elif name == "PreToolUse":
            t = call_at.get(tid)  # type: ignore[arg-type]  # a payload without the id just finds nothing
            t = t + EPS if t is not None else None
        elif name in ("PostToolUse", "PostToolUseFailure"):
            t = result_at.get(tid)  # type: ignore[arg-type]  # a payload without the id just finds nothing
            t = t - EPS if t is not None else None
        # type-checker: a payload without the id just finds nothing
        elif name == "SubagentStart" and sub_span.get(aid):  # type: ignore[arg-type]
            t = min(sub_span[aid]) - EPS  # type: ignore[index]  # a payload without the id just finds nothing
        # type-checker: a payload without the id just finds nothing
        elif name == "SubagentStop" and sub_span.get(aid):  # type: ignore[arg-type]
            t = max(sub_span[aid]) + EPS  # type: ignore[index]  # a payload without the id just finds nothing
        elif name in ("Stop", "StopFailure"):
            t = turn_end.get(pid)
            t = t + EPS if t is not None else None
        elif name == "SessionEnd":
            t = last + 2 * EPS
        t = prev + EPS if t is None or t <= prev else t
        out.append(t)
        prev = t
    return out


def replay_capture(capture: Capture, store: Store, project: str, *, session: str | None = None,
                   end_at: float | None = None) -> str:
    """Feed ``capture`` into ``store`` as one session that ended at ``end_at``
    (default: now), recorded in ``project``; returns the session id (a fresh
    one unless given).  Nothing is left outside the store."""
    session = session or str(uuid.uuid4())
    times = payload_times(capture)
    shift = (end_at if end_at is not None else time.time()) - times[-1]

    def rewrite(obj):
        text = json.dumps(obj).replace(capture.session, session)
        if capture.project:
            text = text.replace(capture.project, project)
        return json.loads(text)

    def shifted(entries):
        out = []
        for e in entries:
            e = rewrite(e)
            t = _t(e)
            if t is not None:
                e["timestamp"] = ev.now_iso(t + shift)
            out.append(e)
        return out

    tmp = tempfile.mkdtemp(prefix="agent-strace-capture-")
    try:
        main = os.path.join(tmp, f"{session}.jsonl")
        _write(main, shifted(capture.main))
        for agent_id, entries in capture.subagents.items():
            _write(os.path.join(tmp, session, "subagents", f"agent-{agent_id}.jsonl"), shifted(entries))
        sink = FileSink(store)
        for p, t in zip(capture.payloads, times):
            p = rewrite(p)
            if "transcript_path" in p:
                p["transcript_path"] = main
            if "agent_transcript_path" in p:
                p["agent_transcript_path"] = os.path.join(tmp, session, "subagents",
                                                          f"agent-{p.get('agent_id')}.jsonl")
            events = events_from_hook(p, None, "claude-code")
            for e in events:
                e["ts"] = ev.now_iso(t + shift)
            sink.emit_many(events)
        import_session(store, sink, main, session, final=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return session


def _write(path: str, entries: list[dict]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
