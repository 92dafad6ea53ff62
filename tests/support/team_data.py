"""Sessions like a team's, for the collector tests: the bundled demo (a real
Claude Code capture), plus sessions of two users in two projects over
several days with tool errors, a result without its call, a stopped
session, several models (one unpriced) and a subagent."""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.request

from agent_trace import event as ev

DAY = 86400


def stamp(days_ago: float, seconds: float = 0.0) -> str:
    return ev.now_iso(time.time() - days_ago * DAY + seconds)


def team_sessions() -> dict[str, list[dict]]:
    """``{session: events}``; keyed by who sends them: ``alice`` / ``bob``."""
    out = {}
    # alice, project shop, three days ago: a good run
    s = "alice-shop-1"
    evs = [ev.make_event(ev.SESSION_START, s, "claude-code", ts=stamp(3), data={"cwd": "/home/alice/src/shop"}),
           ev.make_event(ev.USER_PROMPT, s, "claude-code", ts=stamp(3, 1),
                         data={"prompt": "add a checkout page with the payment-form.tsx component"})]
    for i in range(4):
        edit = {"file_path": f"/home/alice/src/shop/f{i}.tsx", "old_string": "x", "new_string": "y"}
        evs.append(ev.make_event(ev.TOOL_CALL, s, "claude-code", ts=stamp(3, 2 + i), tool="Edit",
                                 tool_use_id=f"a{i}", data={"tool_input": edit}))
        evs.append(ev.make_event(ev.TOOL_RESULT, s, "claude-code", ts=stamp(3, 2.5 + i), tool="Edit",
                                 tool_use_id=f"a{i}", status="ok", duration_ms=20 + i,
                                 data={"tool_response": {"ok": True}}))
        evs.append(ev.make_event(ev.LLM_RESPONSE, s, "claude-code", ts=stamp(3, 3 + i),
                                 model="claude-sonnet-4-5-20250929",
                                 usage={"input": 1200 + i, "output": 300, "cache_read": 5000, "cache_write": 100}))
    evs.append(ev.make_event(ev.SESSION_END, s, "claude-code", ts=stamp(3, 60), data={"reason": "exit"}))
    out[("alice", s)] = evs
    # alice, same project, yesterday: the same task with failures (compare: regressed)
    s = "alice-shop-2"
    evs = [ev.make_event(ev.SESSION_START, s, "claude-code", ts=stamp(1), data={"cwd": "/home/alice/src/shop"}),
           ev.make_event(ev.USER_PROMPT, s, "claude-code", ts=stamp(1, 1),
                         data={"prompt": "add a checkout page with the payment-form.tsx component"})]
    for i in range(6):
        ok = i % 2 == 0
        evs.append(ev.make_event(ev.TOOL_CALL, s, "claude-code", ts=stamp(1, 2 + i), tool="Bash",
                                 tool_use_id=f"b{i}", data={"tool_input": {"command": f"npm test -- --shard {i}"}}))
        evs.append(ev.make_event(ev.TOOL_RESULT if ok else ev.TOOL_ERROR, s, "claude-code", ts=stamp(1, 2.5 + i),
                                 tool="Bash", tool_use_id=f"b{i}", status="ok" if ok else "error", duration_ms=900,
                                 error=None if ok else {"message": f"Exit code 1\nTimeoutError: shard {i} hung"},
                                 data={"tool_response": {"stdout": "passed" if ok else ""}}))
        evs.append(ev.make_event(ev.LLM_RESPONSE, s, "claude-code", ts=stamp(1, 3 + i),
                                 model="claude-sonnet-4-5-20250929",
                                 usage={"input": 2400, "output": 700, "cache_read": 9000}))
    # a result whose call was never seen counts as a call too
    evs.append(ev.make_event(ev.TOOL_RESULT, s, "claude-code", ts=stamp(1, 20), tool="Read", tool_use_id="orphan",
                             status="ok", data={"tool_response": {"content": "orphan result"}}))
    evs.append(ev.make_event(ev.SUBAGENT_START, s, "claude-code", ts=stamp(1, 21), agent_id="sub-1",
                             agent_type="Explore"))
    evs.append(ev.make_event(ev.TOOL_CALL, s, "claude-code", ts=stamp(1, 22), tool="Grep", tool_use_id="g1",
                             agent_id="sub-1", data={"tool_input": {"pattern": "rm -rf"}}))
    # appended late, stamped early (as transcript turns imported at Stop are)
    evs.append(ev.make_event(ev.LLM_RESPONSE, s, "claude-code", ts=stamp(1, 1.5), model="claude-opus-4-1",
                             usage={"input": 50, "output": 5}))
    evs.append(ev.make_event(ev.TOOL_CALL, s, "claude-code", ts=stamp(1, 1.6), tool="Read", tool_use_id="early",
                             data={"tool_input": {"file_path": "/home/alice/src/shop/README.md"}}))
    out[("alice", s)] = evs
    # bob, project api, today: another model, an unpriced one, a stopped session
    s = "bob-api-1"
    evs = [ev.make_event(ev.SESSION_START, s, "codex", ts=stamp(0, -600), data={"cwd": "C:\\work\\api"}),
           ev.make_event(ev.USER_PROMPT, s, "codex", ts=stamp(0, -590), data={"prompt": "delete the build folder"}),
           ev.make_event(ev.TOOL_CALL, s, "codex", ts=stamp(0, -580), tool="shell", tool_use_id="c1",
                         data={"tool_input": {"command": "rm -rf build && rm -rf /"}}),
           ev.make_event(ev.RULE_DECISION, s, "agent-strace", ts=stamp(0, -579), name="no-rm-root", status="stopped",
                         tool_use_id="c1", data={"reason": "rm -rf /"}),
           ev.make_event(ev.LLM_RESPONSE, s, "codex", ts=stamp(0, -570), model="gpt-4o-2024-08-06",
                         usage={"input": 800, "output": 90}),
           ev.make_event(ev.LLM_RESPONSE, s, "codex", ts=stamp(0, -560), model="house-model-7",
                         usage={"input": 10, "output": 1})]
    out[("bob", s)] = evs
    return out


def post(url: str, events: list[dict], token: str | None = None, timeout: float = 30) -> dict:
    body = gzip.compress(b"".join(json.dumps(e).encode() + b"\n" for e in events))
    headers = {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url + "/v1/events", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def get(url: str, path: str, token: str | None = None, timeout: float = 30):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url + path, headers=headers), timeout=timeout) as r:
        return json.loads(r.read())


def status_of(url: str, path: str, data: bytes | None = None, token: str | None = None) -> tuple[int, bytes, dict]:
    headers = {"Content-Type": "application/x-ndjson"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url + path, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)
