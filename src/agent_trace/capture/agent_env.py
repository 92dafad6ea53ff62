"""Where an agent says it works: the workspace root and home that an agent
names in its own LLM requests.

* Claude Code: the environment block of its system prompt
  (``Primary working directory: /path`` in 2.1.x, ``Working directory:
  /path`` in the older ``<env>`` block), and its memory folder
  (``HOME/.claude/projects/<slug>/memory/``) for the home;
* Codex: ``<cwd>/path</cwd>`` in its environment context.

Used where nothing else recorded the folder: a session captured by the LLM
proxy alone, and the replay server learning where the replaying agent runs.
"""

from __future__ import annotations

import re

_ROOT = re.compile(r"^[ \t]*(?:-[ \t]*)?(?:Primary )?[Ww]orking directory:[ \t]*((?:/|[A-Za-z]:\\)[^\n]*?)[ \t]*$"
                   r"|<cwd>((?:/|[A-Za-z]:\\)[^<\n]*)</cwd>", re.M)
_ROOT_HINTS = ("orking directory:", "<cwd>")
_MEMORY = re.compile(r"[/\\]\.claude[/\\]projects[/\\]")
_PATH_STOP = frozenset(" \t\r\n`'\"<>()")
_PATH_START = re.compile(r"/|[A-Za-z]:\\")
MAX_SCAN = 4 << 20  # characters of prompt text looked at per request


def _texts(body: dict):
    """The prompt text of a request: system prompt and message texts (not
    tool definitions, whose descriptions talk about working directories)."""
    system = body.get("system") if "system" in body else body.get("instructions")
    if isinstance(system, str):
        yield system
    elif isinstance(system, list):
        for b in system:
            if isinstance(b, dict) and isinstance(b.get("text"), str):
                yield b["text"]
    msgs = body.get("messages") if isinstance(body.get("messages"), list) else body.get("input")
    if isinstance(msgs, str):
        yield msgs
        return
    for m in msgs if isinstance(msgs, list) else ():
        if not isinstance(m, dict):
            continue
        c = m.get("content")
        if isinstance(c, str):
            yield c
        elif isinstance(c, list):
            for b in c:
                if isinstance(b, dict) and isinstance(b.get("text"), str):
                    yield b["text"]


def _home_before_memory(text: str) -> str | None:
    """The folder in front of ``/.claude/projects/``: the run of path
    characters that ends there, from its first ``/`` (or drive).  Linear:
    at most 4 KB read back per mention, at most 20 mentions."""
    for n, m in enumerate(_MEMORY.finditer(text)):
        if n >= 20:
            break
        start = m.start()
        lo = max(0, start - 4096)
        i = start
        while i > lo and text[i - 1] not in _PATH_STOP:
            i -= 1
        run = text[i:start]
        head = _PATH_START.search(run)
        if head:
            return run[head.start():]
    return None


def places_in_request(body) -> tuple[str | None, str | None]:
    """(workspace root, home) named in a request body, each None when absent."""
    if not isinstance(body, dict):
        return None, None
    root = home = None
    seen = 0
    for text in _texts(body):
        if seen > MAX_SCAN:
            break
        seen += len(text)
        if root is None and any(h in text for h in _ROOT_HINTS):  # substring tests before the regex
            m = _ROOT.search(text)
            if m:
                root = (m.group(1) or m.group(2)).rstrip("/\\") or None
        if home is None and ".claude" in text:
            home = _home_before_memory(text)
        if root and home:
            break
    return root, home
