"""A realistic Claude Code history, generated: for the ccusage cross-check
and the history benchmarks.

Entries follow the real 2.1.328 transcripts in ``tests/fixtures`` (compact
JSON, one entry per content block with the message's usage repeated, the
bookkeeping lines Claude Code writes between them: attachments, request
shapes and blobs, queue operations, last prompts, cost states); older
sessions use the plainer earlier layout (``requestId``, no bookkeeping).
Sessions have several turns of tool calls (Read, Bash, Edit, Write, Grep,
Agent) with results and errors, subagents in ``<session>/subagents/``
with their ``.meta.json``, compactions when the context fills, resumed
sessions (a new session that starts with a copy of an earlier one's
messages, as ``--resume`` wrote them in the versions that used
``requestId``) and some damage: corrupt lines,
torn last lines, entry types from a newer version.  Contexts stay under
200k tokens (no long-context pricing) and models are ones ccusage prices,
plus a share of a model it does not.

Deterministic for a seed.  ``generate(home, ...)`` writes under
``home/.claude/projects`` and returns what it wrote.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from datetime import datetime, timedelta, timezone

MODELS = [("claude-sonnet-4-5-20250929", 45), ("claude-opus-4-5-20251101", 25), ("claude-haiku-4-5-20251001", 10),
          ("claude-opus-4-1-20250805", 8), ("claude-sonnet-4-20250514", 7), ("claude-opus-5-5", 5)]
TOOLS = [("Read", 30), ("Bash", 25), ("Edit", 15), ("Grep", 10), ("Write", 6), ("Glob", 6), ("Agent", 3)]
WORDS = ("def class return import self value result error config path file data user session event "
         "token model request response test assert print for while if else try except with open "
         "json list dict str int none true false async await yield lambda raise from as").split()


def _dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class _Text:
    """Cheap pseudo-code text of a given size, from a pool of lines."""

    def __init__(self, rnd: random.Random):
        self.rnd = rnd
        self.lines = []
        for _ in range(4000):
            n = rnd.randint(2, 12)
            indent = " " * (4 * rnd.randint(0, 3))
            self.lines.append(indent + " ".join(rnd.choice(WORDS) for _ in range(n)))

    def __call__(self, size: int) -> str:
        out, total = [], 0
        r = self.rnd
        while total < size:
            line = self.lines[r.randrange(len(self.lines))]
            out.append(line)
            total += len(line) + 1
        return "\n".join(out)


class Gen:
    def __init__(self, seed: int, end: datetime, days: int, scale: float):
        self.rnd = random.Random(seed)
        self.text = _Text(self.rnd)
        self.end = end
        self.days = days
        self.scale = scale  # multiplies per-session size (tool output, turns)
        self.msg_n = 0
        self.tool_n = 0
        self.system_blob = self.text(30000)  # the request shape Claude writes once per session

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rnd.getrandbits(128), version=4))

    def pick(self, table):
        total = sum(w for _, w in table)
        x = self.rnd.uniform(0, total)
        for item, w in table:
            x -= w
            if x <= 0:
                return item
        return table[-1][0]


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Session:
    """Writes one session's entries (main or subagent)."""

    def __init__(self, g: Gen, session: str, cwd: str, start: datetime, model: str, modern: bool,
                 agent_id: str | None = None):
        self.g, self.session, self.cwd, self.t, self.model = g, session, cwd, start, model
        self.modern, self.agent_id = modern, agent_id
        self.lines: list[str] = []
        self.parent = None
        self.context = g.rnd.randint(8000, 25000)
        self.subagents: list[tuple[str, str, str]] = []  # (agent id, tool_use_id, description)
        self.prompt_id = None

    def base(self, typ: str) -> dict:
        u = self.g.uid()
        e = {"parentUuid": self.parent, "isSidechain": self.agent_id is not None}
        if self.agent_id:
            e["agentId"] = self.agent_id
        e.update({"type": typ, "uuid": u, "timestamp": _ts(self.t), "userType": "external",
                  "entrypoint": "cli", "cwd": self.cwd, "sessionId": self.session,
                  "version": "2.1.328" if self.modern else "1.0.98", "gitBranch": "main"})
        self.parent = u
        return e

    def tick(self, lo: float, hi: float) -> None:
        self.t += timedelta(seconds=self.g.rnd.uniform(lo, hi))

    def add(self, e: dict) -> None:
        self.lines.append(_dumps(e))

    def bookkeeping(self, kind: str) -> None:
        if not self.modern:
            return
        g = self.g
        if kind == "attachment":  # a few per prompt, as in the real transcripts
            for _ in range(g.rnd.randint(2, 4)):
                e = self.base("attachment")
                e["attachment"] = {"type": g.rnd.choice(["skill_listing", "environment", "deferred_tools_delta",
                                                         "date", "todo_reminder"]),
                                   "content": g.text(int(g.rnd.lognormvariate(7.3, 1.0)))}
                self.add(e)
        elif kind == "snapshot":  # the system prompt, once per session
            e = self.base("attachment")
            e["attachment"] = {"type": "prompt_snapshot", "systemPrompt": [g.system_blob]}
            self.add(e)
        elif kind == "shape":
            self.add({"type": "api-request-shape", "sessionId": self.session, "shapeHash": g.uid(),
                      "timestamp": _ts(self.t), "version": "2.1.328", "shape": {"system": [{"type": "text",
                                                                                              "text": g.system_blob}]}})
        elif kind == "request":  # one per API call, about 1.2 KB like the real ones
            self.add({"type": "api-request", "sessionId": self.session, "id": g.uid(), "timestamp": _ts(self.t),
                      "version": "2.1.328", "querySource": "repl_main_thread",
                      "shapeHash": "%064x" % g.rnd.getrandbits(256),
                      "params": {"model": self.model, "max_tokens": 32000,
                                 "betas": ["claude-code-20250219", "interleaved-thinking-2025-05-14",
                                           "context-management-2025-06-27", "effort-2025-11-24"],
                                 "thinking": {"type": "adaptive", "display": "omitted"}},
                      "keep": 0, "tail": ["%064x" % g.rnd.getrandbits(256) for _ in range(2)],
                      "cacheControl": [{"path": ["system", 0], "value": {"type": "ephemeral"}},
                                       {"path": ["messages", 1, "content", 0], "value": {"type": "ephemeral"}}],
                      "requestDigest": "%064x" % g.rnd.getrandbits(256)})

    def prompt(self, text: str) -> None:
        self.tick(5, 600)
        if self.modern:
            self.add({"type": "queue-operation", "operation": "enqueue", "timestamp": _ts(self.t),
                      "sessionId": self.session, "content": text})
        e = self.base("user")
        self.prompt_id = self.g.uid()
        if self.modern:
            e["promptId"] = self.prompt_id
        e["message"] = {"role": "user", "content": text}
        self.add(e)
        self.bookkeeping("attachment")

    def usage(self, out: int) -> dict:
        g = self.g
        write = g.rnd.randint(100, 3000)
        u = {"input_tokens": g.rnd.randint(1, 12), "cache_creation_input_tokens": write,
             "cache_read_input_tokens": self.context, "output_tokens": out}
        if self.modern:  # newer versions split cache writes by lifetime (1-hour writes cost more)
            hour = write if g.rnd.random() < 0.2 else 0
            u["cache_creation"] = {"ephemeral_1h_input_tokens": hour, "ephemeral_5m_input_tokens": write - hour}
        self.context += write + out
        return u

    def assistant(self, blocks: list[dict], stop: str) -> None:
        """One API message: one entry per block, the usage repeated on each."""
        g = self.g
        g.msg_n += 1
        self.bookkeeping("request")
        self.tick(1, 20)
        msg_id = f"msg_{g.msg_n:012d}{g.rnd.getrandbits(32):08x}"
        req = f"req_{g.msg_n:012d}{g.rnd.getrandbits(32):08x}"
        usage = self.usage(g.rnd.randint(30, 1500))
        for i, b in enumerate(blocks):
            e = self.base("assistant")
            e["message"] = {"id": msg_id, "type": "message", "role": "assistant", "model": self.model,
                            "content": [b], "stop_reason": stop if i == len(blocks) - 1 else None,
                            "stop_sequence": None, "usage": usage}
            if self.modern:
                e["requestRef"] = req
                e["requestedModel"] = self.model
            else:
                e["requestId"] = req
            self.add(e)

    def tool_turn(self) -> None:
        g = self.g
        tool = g.pick(TOOLS if self.agent_id is None else TOOLS[:-1])
        g.tool_n += 1
        tid = f"toolu_{g.tool_n:012d}{g.rnd.getrandbits(24):06x}"
        path = f"{self.cwd}/src/{g.rnd.choice(WORDS)}_{g.rnd.randint(1, 99)}.py"
        failed = g.rnd.random() < 0.08
        big = int(g.rnd.lognormvariate(7.5, 1.0) * self.g.scale)
        if tool == "Read":
            inp = {"file_path": path}
            body = g.text(min(big, 60000))
            result = {"type": "text", "file": {"filePath": path, "content": body, "numLines": body.count("\n") + 1}}
            content = body
        elif tool == "Bash":
            cmd = g.rnd.choice(["pytest -q", "ls -la", "git status", "rm -rf build/", "make test", "npm test",
                                "python -m mypy src", "cat missing.txt"])
            inp = {"command": cmd, "description": "run " + cmd.split()[0]}
            out = g.text(min(big // 2, 20000))
            content = f"Exit code 1\n{out}" if failed else out
            result = {"stdout": out, "stderr": "", "interrupted": False}
        elif tool in ("Edit", "Write"):
            old, new = g.text(200), g.text(260)
            inp = {"file_path": path, "old_string": old, "new_string": new} if tool == "Edit" else \
                {"file_path": path, "content": g.text(min(big, 8000))}
            content = f"The file {path} has been updated successfully."
            result = {"filePath": path, "oldString": old if tool == "Edit" else None, "newString": new}
        elif tool == "Agent":
            agent = f"a{g.rnd.getrandbits(64):016x}"
            desc = g.rnd.choice(["explore the code", "review changes", "find the bug"])
            inp = {"description": desc, "prompt": "look into " + desc, "subagent_type": "general-purpose"}
            self.subagents.append((agent, tid, desc))
            content = f"Async agent launched successfully.\nagentId: {agent}"
            result = {"isAsync": True, "status": "async_launched", "agentId": agent}
        else:
            inp = {"pattern": g.rnd.choice(WORDS), "path": self.cwd}
            content = "\n".join(f"{self.cwd}/src/{g.rnd.choice(WORDS)}.py" for _ in range(g.rnd.randint(1, 30)))
            result = {"mode": "files_with_matches", "numFiles": content.count("\n") + 1}
        blocks = []
        if g.rnd.random() < 0.3:
            blocks.append({"type": "thinking", "thinking": g.text(300), "signature": "Eo" + "x" * 300})
        if g.rnd.random() < 0.5:
            blocks.append({"type": "text", "text": g.text(120)})
        blocks.append({"type": "tool_use", "id": tid, "name": tool, "input": inp})
        self.assistant(blocks, "tool_use")
        self.tick(0.2, 30)
        e = self.base("user")
        if self.prompt_id and self.modern:
            e["promptId"] = self.prompt_id
        block = {"tool_use_id": tid, "type": "tool_result", "content": content}
        if failed and tool in ("Bash", "Read"):
            block["is_error"] = True
            e["toolUseResult"] = "Error: " + content[:200]
        else:
            e["toolUseResult"] = result
        e["message"] = {"role": "user", "content": [block]}
        self.add(e)

    def answer(self) -> None:
        self.assistant([{"type": "text", "text": self.g.text(400)}], "end_turn")
        if self.modern and self.g.rnd.random() < 0.3:
            e = self.base("system")
            e.update({"subtype": "stop_hook_summary", "hookCount": 1, "hookInfos": [], "hookErrors": []})
            self.add(e)

    def compact_if_full(self) -> None:
        if self.context < 150_000:
            return
        e = self.base("system")
        e.update({"subtype": "compact_boundary", "content": "Conversation compacted",
                  "compactMetadata": {"trigger": "auto", "preTokens": self.context}})
        self.add(e)
        s = self.base("user")
        s.update({"isCompactSummary": True, "message": {"role": "user", "content": self.g.text(2000)}})
        self.add(s)
        self.context = self.g.rnd.randint(15000, 30000)

    def turns(self, n: int, tools: tuple[int, int]) -> None:
        g = self.g
        for _ in range(n):
            self.prompt(g.text(g.rnd.randint(30, 400)).replace("\n", " "))
            for _ in range(g.rnd.randint(*tools)):
                self.tool_turn()
                self.compact_if_full()
            self.answer()
        if self.modern:
            self.add({"type": "last-prompt", "lastPrompt": "x", "sessionId": self.session})


def generate(home, *, sessions: int = 3000, days: int = 90, projects: int = 12, seed: int = 1,
             end: datetime | None = None, scale: float = 1.0, damage: float = 0.02, resumed: float = 0.05,
             subagents: float = 0.2) -> dict:
    """Write a Claude Code history under ``home/.claude/projects``."""
    end = end or datetime(2026, 11, 30, 18, 0, tzinfo=timezone.utc)
    g = Gen(seed, end, days, scale)
    root = os.path.join(str(home), ".claude", "projects")
    names = [f"/home/dev/src/{w}-{i}" for i, w in enumerate(g.rnd.sample(WORDS, projects))]
    written = {"files": 0, "bytes": 0, "sessions": 0, "subagent_files": 0, "resumed": 0, "damaged": 0}
    done: list[tuple[str, str, list[str]]] = []  # (project dir, session, main lines) of older sessions
    for _ in range(sessions):
        cwd = names[min(int(g.rnd.paretovariate(1.2)) - 1, projects - 1)] if g.rnd.random() < 0.7 \
            else g.rnd.choice(names)
        start = end - timedelta(days=days) + timedelta(seconds=g.rnd.uniform(0, days * 86400 - 4 * 3600))
        modern = start > end - timedelta(days=days * 0.6)
        sid = g.uid()
        proj_dir = os.path.join(root, cwd.replace("/", "-"))
        os.makedirs(proj_dir, exist_ok=True)
        s = Session(g, sid, cwd, start, g.pick(MODELS), modern)
        copied: list[str] = []
        # --resume (in the versions that did so) starts the new session with a copy of the old one's messages
        if done and not modern and g.rnd.random() < resumed:
            pdir, _old, old_lines = g.rnd.choice(done)
            if pdir == proj_dir:
                copied = [ln.replace(_old, sid) for ln in old_lines if '"type":"assistant"' in ln
                          or '"type":"user"' in ln]
                written["resumed"] += 1
        if modern:
            s.add({"type": "queue-operation", "operation": "dequeue", "timestamp": _ts(s.t), "sessionId": sid})
            s.bookkeeping("shape")
            s.bookkeeping("snapshot")
        s.lines[:0] = copied
        n_turns = max(1, int(g.rnd.lognormvariate(0.9, 0.7) * scale))
        s.turns(min(n_turns, 12), (0, max(1, int(14 * scale))))
        lines = s.lines
        if g.rnd.random() < damage:
            k = g.rnd.randrange(len(lines))
            lines[k] = lines[k][: len(lines[k]) // 2]  # a line cut short (a crash mid-write, then more)
            written["damaged"] += 1
        if modern and g.rnd.random() < damage:
            lines.insert(len(lines) // 2, _dumps({"type": "hologram-v9", "sessionId": sid, "payload": {"x": 1}}))
        tail = ""
        if g.rnd.random() < damage / 2:
            tail = lines.pop()[:40]  # a torn last line
        data = "\n".join(lines) + "\n" + tail
        path = os.path.join(proj_dir, f"{sid}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write(data)
        os.utime(path, (s.t.timestamp(), s.t.timestamp()))
        written["files"] += 1
        written["sessions"] += 1
        written["bytes"] += len(data.encode())
        if not modern and (len(done) < 200 or g.rnd.random() < 0.1):
            done.append((proj_dir, sid, lines[:200]))
            if len(done) > 400:
                done.pop(0)
        if s.subagents and g.rnd.random() < subagents * 5:
            sub_dir = os.path.join(proj_dir, sid, "subagents")
            os.makedirs(sub_dir, exist_ok=True)
            for agent, tid, desc in s.subagents:
                sub = Session(g, sid, cwd, start + timedelta(minutes=1), "claude-haiku-4-5-20251001"
                              if g.rnd.random() < 0.5 else s.model, modern, agent_id=agent)
                first = sub.base("user")
                first["message"] = {"role": "user", "content": "look into " + desc}
                sub.add(first)
                for _ in range(g.rnd.randint(1, 6)):
                    sub.tool_turn()
                sub.answer()
                sub_data = "\n".join(sub.lines) + "\n"
                p = os.path.join(sub_dir, f"agent-{agent}.jsonl")
                with open(p, "w", encoding="utf-8") as f:
                    f.write(sub_data)
                with open(os.path.join(sub_dir, f"agent-{agent}.meta.json"), "w") as f:
                    f.write(_dumps({"agentType": "general-purpose", "description": desc, "toolUseId": tid,
                                    "finished": True}))
                os.utime(p, (sub.t.timestamp(), sub.t.timestamp()))
                written["files"] += 1
                written["subagent_files"] += 1
                written["bytes"] += len(sub_data.encode())
    return written
