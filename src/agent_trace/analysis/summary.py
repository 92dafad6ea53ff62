"""The one session summary: every report's numbers come from here.

``list``, ``inspect``, ``stats``, ``cost``, ``explain``, ``compare``, the rules
engine, the dashboard and the VS Code extension all count through
:class:`SessionSummary`, so two reports can never disagree about a session.

The summary is an accumulator fed one event at a time (streaming: its size
depends on the number of distinct tools/models, not on the session length),
and its state is plain JSON: :meth:`to_dict` / :meth:`from_dict` let the
``list`` index and the rules engine resume from a byte offset instead of
re-reading a whole session.

Counting rules (documented in ``docs/event-schema.md``):

* tool calls: ``tool.call`` events; a ``tool.result``/``tool.error`` with no
  preceding call (sources that only see results) counts as a call too.
* tool errors: ``tool.error`` events and results with ``status == "error"``.
* LLM usage: ``llm.response`` events with ``usage``; the same API response
  seen twice (hook transcript import and wire capture) has the same event
  id and is counted once.
* Any event seen twice with the same id (a hook and a transcript import
  racing for the same tool call, prompt or turn: ids are derived from the
  agent's own ids) is counted once.
"""

from __future__ import annotations

import math

from .. import event as ev
from ..usage.pricing import KINDS, PriceTable, cache_write_1h
from . import toolfacts

# Durations are kept as log-bucket histograms (5% wide), so percentiles cost
# constant memory however long the session is.
_BUCKET_BASE = math.log(1.05)


_BUCKETS: dict = {}  # memo: durations are mostly whole milliseconds


def _bucket(ms: float) -> str:
    b = _BUCKETS.get(ms)
    if b is None:
        b = str(0 if ms < 1 else int(math.log(ms) / _BUCKET_BASE) + 1)
        if len(_BUCKETS) < 100_000:
            _BUCKETS[ms] = b
    return b


def _bucket_value(b: int) -> float:
    return 0.0 if b == 0 else math.exp((b - 0.5) * _BUCKET_BASE)


def percentile(hist: dict, p: float) -> float | None:
    """Approximate ``p``-th percentile (0-100) of a bucket histogram, in ms."""
    total = sum(hist.values())
    if not total:
        return None
    rank = p / 100 * total
    seen = 0
    for b in sorted(hist, key=int):
        seen += hist[b]
        if seen >= rank:
            return _bucket_value(int(b))
    return _bucket_value(int(max(hist, key=int)))

_PRICES: PriceTable | None = None
RECENT_IDS = 4096  # memory stays flat however many LLM calls a session has
SAVED_IDS = 128  # of them, kept in the resumable state (repeats arrive within a turn)
ID_CHARS = 16  # 64 bits of an id tell repeats apart within a session
FILES_CAP = 500  # changed files kept (in order of first change)
COMMITS_CAP = 50
DIFF_CAP = 200  # files of the end-of-session diff kept in the summary


def prices() -> PriceTable:
    global _PRICES
    if _PRICES is None:
        _PRICES = PriceTable.load()
    return _PRICES


AGENT_BY_SOURCE = {
    "claude-code": "claude-code",
    "codex": "codex",
    "gemini": "gemini-cli",
}


class SessionSummary:
    """Running totals for one session."""

    def __init__(self, session: str | None = None):
        self.session = session
        self.title: str | None = None
        self.cwd: str | None = None
        self.sources: list[str] = []
        self.senders: list[str] = []  # collector token names that delivered events (server only)
        self.started: str | None = None
        self.last: str | None = None
        self.ended = False
        self.end_reason: str | None = None
        self.events = 0
        self.by_type: dict[str, int] = {}
        self.prompts = 0
        self.tool_calls = 0
        self.tool_errors = 0
        self.tools: dict[str, list] = {}  # name -> [calls, errors, total_ms, timed]
        self.llm_calls = 0
        self.tokens = {k: 0 for k in KINDS}
        self.models: dict[str, dict] = {}  # model -> {calls, input, output, ...}
        self.cost_usd = 0.0
        self.unpriced: list[str] = []
        self.subagents: list[str] = []
        self.decisions: dict[str, int] = {}
        self.last_error: str | None = None
        self.mcp_messages = 0
        self.durations: dict[str, dict] = {}  # tool -> {bucket: count}
        self.errors: dict[str, int] = {}  # first line of an error message -> count (top 20 kept)
        self.files_changed: list[str] = []  # paths the agent's edit tools wrote (capped)
        self.git: dict | None = None  # repo, project, branch, start/end commit, dirty, commits (see _on_annotation)
        self._open_calls: set[str] = set()  # tool_use_ids called, awaiting result
        # membership sets beside the ordered lists: every per-event step is O(1)
        self._sources: set[str] = set()
        self._subagents: set[str] = set()
        self._unpriced: set[str] = set()
        # recent ids of events that several sources may record (insertion-
        # ordered, capped): the same response, call or prompt seen twice (wire
        # capture, hooks and transcript import) arrives within a turn
        self._llm_ids: dict[str, None] = {}
        # paths the latest write calls added to files_changed, until a rule
        # decision says the call never ran (a denied write changed nothing)
        self._writes: dict[str, list[str]] = {}

    # -- feeding ------------------------------------------------------------
    def add(self, e: dict) -> None:
        # The hottest function of every reader: one dict lookup per field.
        t = e.get("type")
        if t in ev.SHARED_ID_TYPES:
            eid = e.get("id")
            if type(eid) is str:
                eid = eid[:ID_CHARS]
            seen = self._llm_ids
            if eid in seen:
                return
            seen[eid] = None  # type: ignore[index]  # stored events have a str id (validate.problem)
            if len(seen) > RECENT_IDS:
                del seen[next(iter(seen))]
        self.events += 1
        by_type = self.by_type
        by_type[t] = by_type.get(t, 0) + 1  # type: ignore[arg-type, index]  # stored events always have a type (validate.problem)
        ts = e.get("ts")
        if ts and type(ts) is str and t != "annotation":  # a note added later (a grade) is not the session's time
            last = self.last
            if last is None or ts > last:
                self.last = ts
                if self.started is None:
                    self.started = ts
            # type-checker: started is set together with the first last
            elif ts < self.started:  # type: ignore[operator]  # out of order (imported transcript turns)
                self.started = ts
        if self.session is None:
            self.session = e.get("session")
        src = e.get("source")
        if src and type(src) is str and src not in self._sources:
            self._sources.add(src)
            self.sources.append(src)
        sender = e.get("sender")
        if sender and sender not in self.senders and type(sender) is str:
            self.senders.append(sender)
        handler = _HANDLERS.get(t)  # type: ignore[arg-type]  # stored events always have a type (validate.problem)
        if handler is not None:
            handler(self, e)

    def _on_session_start(self, e):
        data = e.get("data")
        if isinstance(data, dict) and self.cwd is None and isinstance(data.get("cwd"), str):
            self.cwd = data["cwd"]

    def _on_llm_request(self, e):  # `run` stamps the agent's folder on its requests
        if self.cwd is None:
            self._on_session_start(e)

    def _on_session_end(self, e):
        self.ended = True
        data = e.get("data")
        if isinstance(data, dict) and data.get("reason") is not None:
            self.end_reason = str(data.get("reason"))

    def _on_prompt(self, e):
        self.prompts += 1
        if self.title is None:
            data = e.get("data")
            prompt = data.get("prompt") if isinstance(data, dict) else None
            if isinstance(prompt, str) and prompt.strip():
                self.title = " ".join(prompt.split())[:120]

    def _on_tool_call(self, e):
        self.tool_calls += 1
        name = e.get("tool") or "?"
        if type(name) is not str:
            name = str(name)
        rec = self.tools.get(name)
        if rec is None:
            rec = self.tools[name] = [0, 0, 0.0, 0]
        rec[0] += 1
        tid = e.get("tool_use_id")
        if tid:
            self._open_calls.add(tid if type(tid) is str else str(tid))
        if toolfacts.kind(name) == "write":
            changed, added = self.files_changed, []
            for p in toolfacts.paths(e):
                if p not in changed and len(changed) < FILES_CAP:
                    changed.append(p)
                    added.append(p)
            if tid and added:
                self._writes[str(tid)] = added
                if len(self._writes) > 64:
                    del self._writes[next(iter(self._writes))]

    def _on_tool_end(self, e):
        # per-result hot path: locals and exact type checks, no helper calls
        name = e.get("tool") or "?"
        if type(name) is not str:
            name = str(name)
        rec = self.tools.get(name)
        if rec is None:
            rec = self.tools[name] = [0, 0, 0.0, 0]
        tid = e.get("tool_use_id")
        if tid is not None and type(tid) is not str:
            tid = str(tid)
        if tid and tid in self._open_calls:
            self._open_calls.discard(tid)
        else:  # a result without a call: count the call it stands for
            self.tool_calls += 1
            rec[0] += 1
        if e.get("type") == ev.TOOL_ERROR or e.get("status") == ev.ERROR:
            self.tool_errors += 1
            rec[1] += 1
            err = e.get("error")
            msg = err.get("message") if isinstance(err, dict) else err
            if msg:
                self.last_error = str(msg)[:300]
                key = f"{name}: {str(msg).strip().splitlines()[-1][:120] if str(msg).strip() else ''}"
                if key in self.errors or len(self.errors) < 20:
                    self.errors[key] = self.errors.get(key, 0) + 1
        d = e.get("duration_ms")
        if (type(d) is int or type(d) is float) and -1e15 < d < 1e15:  # (not inf or nan)
            rec[2] += d
            rec[3] += 1
            hist = self.durations.get(name)
            if hist is None:
                hist = self.durations[name] = {}
            b = _BUCKETS.get(d) or _bucket(d)
            hist[b] = hist.get(b, 0) + 1

    def _on_llm_response(self, e):
        self.llm_calls += 1
        model = e.get("model") or "unknown"
        if type(model) is not str:
            model = str(model)
        m = self.models.get(model)
        if m is None:
            m = self.models[model] = {"calls": 0, **{k: 0 for k in KINDS}, "cost_usd": 0.0}
        m["calls"] += 1
        u = e.get("usage")
        if isinstance(u, dict):
            counted = {}
            for k in KINDS:
                n = u.get(k)
                if ev.is_token_count(n):  # a store edited by hand or by an older version
                    self.tokens[k] += n
                    m[k] += n
                    counted[k] = n
            cost = prices().cost(model, counted, cache_write_1h(e))  # priced: the tokens counted
            if cost is None:
                if model not in self._unpriced:
                    self._unpriced.add(model)
                    self.unpriced.append(model)
            else:
                self.cost_usd += cost
                m["cost_usd"] += cost

    def _on_subagent(self, e):
        aid = e.get("agent_id")
        if aid and aid not in self._subagents:
            self._subagents.add(aid)
            self.subagents.append(aid)

    def _on_decision(self, e):
        status = e.get("status") or "?"
        if type(status) is not str:
            status = str(status)
        self.decisions[status] = self.decisions.get(status, 0) + 1
        if status in (ev.DENIED, ev.STOPPED, ev.KILLED) and self._writes:
            for p in self._writes.pop(str(e.get("tool_use_id")), ()):
                if p in self.files_changed:
                    self.files_changed.remove(p)

    def _on_mcp(self, e):
        self.mcp_messages += 1

    def _on_annotation(self, e):
        """``annotation`` named ``git`` (recorded at session start and end,
        see :mod:`agent_trace.capture.git_info`): the first start commit, the
        latest state, and the commits made in between."""
        data = e.get("data")
        if e.get("name") != "git" or not isinstance(data, dict):
            return
        g = self.git if self.git is not None else {}
        for k in ("repo", "project", "root", "branch", "user", "dirty", "changes"):
            if k in data and (data[k] is not None or k in ("branch", "dirty")):
                g[k] = data[k]
        head = data.get("head")
        if "start" not in g and (data.get("phase") == "start" or data.get("base")):
            g["start"] = data.get("base") or head
        g["end"] = head
        if data.get("diff") is not None:
            g["diff"] = list(data["diff"][:DIFF_CAP])
            g["diff_total"] = data.get("diff_total")
        commits = g.setdefault("commits", [])
        for c in data.get("commits") or ():
            if isinstance(c, str) and c not in commits and len(commits) < COMMITS_CAP:
                commits.append(c)
        self.git = g

    # -- derived ------------------------------------------------------------
    @property
    def agent(self) -> str | None:
        for s in self.sources:
            if s in AGENT_BY_SOURCE:
                return AGENT_BY_SOURCE[s]
        return self.sources[0] if self.sources else None

    def duration_s(self) -> float | None:
        if not (self.started and self.last):
            return None
        from ..event.timefmt import parse_iso

        try:
            return max(0.0, parse_iso(self.last) - parse_iso(self.started))
        except (ValueError, TypeError, OverflowError):  # a stamp that is not a time: no duration
            return None

    # -- state --------------------------------------------------------------
    _STATE = (
        "session", "title", "cwd", "sources", "senders", "started", "last", "ended",
        "end_reason", "events", "by_type", "prompts", "tool_calls",
        "tool_errors", "tools", "llm_calls", "tokens", "models", "cost_usd",
        "unpriced", "subagents", "decisions", "last_error", "mcp_messages",
        "durations", "errors", "files_changed", "git",
    )

    def to_dict(self, *, resumable: bool = False) -> dict:
        d = {k: getattr(self, k) for k in self._STATE}
        d["agent"] = self.agent
        d["duration_s"] = self.duration_s()
        d["cost_usd"] = round(self.cost_usd, 6)
        for m in d["models"].values():
            m["cost_usd"] = round(m["cost_usd"], 6)
        if resumable:
            d["_open_calls"] = sorted(self._open_calls)
            d["_llm_ids"] = list(self._llm_ids)[-SAVED_IDS:]
            d["_writes"] = self._writes
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SessionSummary":
        s = cls(d.get("session"))
        for k in cls._STATE:
            if k in d:
                setattr(s, k, d[k])
        s._open_calls = set(d.get("_open_calls", ()))
        s._llm_ids = dict.fromkeys(str(x)[:ID_CHARS] for x in d.get("_llm_ids", ()))
        s._sources, s._subagents, s._unpriced = set(s.sources), set(s.subagents), set(s.unpriced)
        s._writes = dict(d.get("_writes") or {})
        return s


_HANDLERS = {
    ev.SESSION_START: SessionSummary._on_session_start,
    ev.SESSION_END: SessionSummary._on_session_end,
    ev.USER_PROMPT: SessionSummary._on_prompt,
    ev.TOOL_CALL: SessionSummary._on_tool_call,
    ev.TOOL_RESULT: SessionSummary._on_tool_end,
    ev.TOOL_ERROR: SessionSummary._on_tool_end,
    ev.LLM_RESPONSE: SessionSummary._on_llm_response,
    ev.LLM_REQUEST: SessionSummary._on_llm_request,
    ev.SUBAGENT_START: SessionSummary._on_subagent,
    ev.SUBAGENT_STOP: SessionSummary._on_subagent,
    ev.RULE_DECISION: SessionSummary._on_decision,
    ev.MCP_MESSAGE: SessionSummary._on_mcp,
    ev.ANNOTATION: SessionSummary._on_annotation,
}


def summarize(events) -> SessionSummary:
    s = SessionSummary()
    for e in events:
        s.add(e)
    return s
