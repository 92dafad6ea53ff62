"""A framework's happenings -> events, in the right session.

Each integration keeps one :class:`Recorder` and calls it from the
framework's own extension point (a trace processor, a callback handler, a
span processor, a hook).  The contract, as for OpenTelemetry's span
processors: called on the framework's thread, it must not block for long and
must never throw into the host program.  Every public method catches, says
so in one line on stderr (each distinct message once) and returns.

What becomes of what (``docs/sdk.md``, "Frameworks"):

* one framework root run (an Agents SDK trace, a LangChain root run, a
  Pydantic AI root span) -> one session: the active ``agent_trace.sdk``
  session when there is one, else a session of its own
  (``session.start``/``session.end``, ``source`` = the framework);
* an agent run -> ``subagent.start``/``subagent.stop`` (``agent_id`` the
  framework's id for it, ``agent_type`` the agent's name,
  ``data.parent_agent_id`` the agent it ran under);
* a tool call -> ``tool.call`` + ``tool.result``/``tool.error``, arguments
  and results as JSON, ids derived from the call id like every source;
* a model call -> ``llm.response`` with model and usage, unless the HTTP
  instrumentation (:func:`agent_trace.sdk.instrument`) recorded it in the
  same context: then that one event stands, stamped with the agent
  (:data:`agent_trace.sdk.tracing.llm_frame`).  Where the context does not
  carry, both records share one id (derived from the provider's response id,
  as the HTTP capture derives it), so readers count the call once;
* handoffs and guardrail results -> ``generic`` events named ``handoff`` and
  ``guardrail``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

from .. import event as ev
from ..capture.transcript import llm_event_id
from ..sdk import tracing
from ..sdk.tracing import to_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_said: set = set()
_MISSING = object()


def say(framework: str, what: str, exc: BaseException | None = None) -> None:
    """One line on stderr, each distinct message once per process."""
    msg = f"agent-strace ({framework}): {what}" + (f": {type(exc).__name__}: {exc}" if exc is not None else "")
    if msg in _said or len(_said) > 1000:
        return
    _said.add(msg)
    try:
        sys.stderr.write(msg + "\n")
    except Exception:
        pass


def fail_open(what: str):
    """Method decorator: the host program never sees our exceptions."""
    def wrap(fn):
        def run(self, *a, **kw):
            try:
                return fn(self, *a, **kw)
            except Exception as e:
                say(getattr(self, "framework", "integration"), f"could not record {what}", e)
                return None
        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        return run
    return wrap


def json_arguments(raw):
    """Tool arguments as JSON: a JSON string parsed, anything else :func:`to_json`."""
    if isinstance(raw, (str, bytes)):
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return raw if isinstance(raw, str) else to_json(raw)
    return to_json(raw)


class Agent:
    __slots__ = ("agent_id", "name", "event_id")

    def __init__(self, agent_id: str, name: str, event_id: str):
        self.agent_id, self.name, self.event_id = agent_id, name, event_id


class Run:
    """One framework root run and the session it writes to."""

    def __init__(self, session_id: str, sink, owned: bool, cwd: str):
        self.session_id, self.sink, self.owned, self.cwd = session_id, sink, owned, cwd
        self.agents: dict = {}  # framework key -> Agent
        self.calls: dict = {}  # framework key -> (tool.call event, start time)
        self.models: dict = {}  # framework key -> (frame, token, start time)
        self.open = 1  # roots sharing this run (nested frameworks, re-entered sessions)


class Recorder:
    def __init__(self, framework: str):
        self.framework = framework
        self.lock = threading.RLock()

    def _emit(self, run: Run, etype: str, **fields) -> dict:
        e = ev.make_event(etype, run.session_id, self.framework, **fields)
        try:
            run.sink.emit(e)
        except Exception as exc:  # the store is full, unwritable...: say so, go on
            say(self.framework, "could not record an event", exc)
        return e

    # -- runs -------------------------------------------------------------------
    def start_run(self, key: str, name: str | None, data: dict | None = None) -> Run | None:
        """The session for a new root run: the active SDK session, else one of its own."""
        try:
            s = tracing.current()
            if s is not None:
                return Run(s.id, s.sink, False, os.getcwd())
            from ..capture.sink import open_sink
            from ..store import Store

            session_id = f"{self.framework}-{_safe(key)}"
            run = Run(session_id, open_sink(Store.open()), True, os.getcwd())
            self._emit(run, ev.SESSION_START, name=name,
                       data={"framework": self.framework, "name": name, "cwd": run.cwd, **(data or {})})
            return run
        except Exception as e:
            say(self.framework, "could not open a session", e)
            return None

    @fail_open("the end of a run")
    def end_run(self, run: Run | None, error: str | None = None) -> None:
        if run is None or not run.owned:
            return
        fields = {"status": ev.ERROR, "error": {"message": error}} if error else {}
        self._emit(run, ev.SESSION_END, **fields)
        close = getattr(run.sink, "close", None)
        if close is not None:
            close()

    # -- agents -----------------------------------------------------------------
    def _agent_fields(self, run: Run, agent_key) -> dict:
        a = run.agents.get(agent_key) if agent_key is not None else None
        if a is None:
            return {}
        return {"agent_id": a.agent_id, "agent_type": a.name, "parent": a.event_id}

    @fail_open("an agent run")
    def agent_start(self, run: Run, key, name: str, parent_key=None, parent_event: str | None = None,
                    data: dict | None = None) -> Agent | None:
        # short, distinct and stable: the framework's own id is kept in data
        agent_id = ev.derived_id(run.session_id, "agent", str(key))[:16]
        parent = run.agents.get(parent_key) if parent_key is not None else None
        d = {"framework": self.framework, "agent": name, "framework_id": str(key), **(data or {})}
        if parent is not None:
            d["parent_agent_id"] = parent.agent_id
        e = self._emit(run, ev.SUBAGENT_START, id=ev.derived_id(run.session_id, "subagent.start", agent_id),
                       name=name, agent_id=agent_id, agent_type=name,
                       parent=parent_event or (parent.event_id if parent else None), data=d)
        a = Agent(agent_id, name, e["id"])
        with self.lock:
            run.agents[key] = a
        return a

    @fail_open("the end of an agent run")
    def agent_end(self, run: Run, key, error: str | None = None, data: dict | None = None) -> None:
        a = run.agents.get(key)
        if a is None:
            return
        fields = {"status": ev.ERROR, "error": {"message": error}} if error else {"status": ev.OK}
        self._emit(run, ev.SUBAGENT_STOP, id=ev.derived_id(run.session_id, "subagent.stop", a.agent_id),
                   name=a.name, agent_id=a.agent_id, agent_type=a.name, parent=a.event_id,
                   data={"framework": self.framework, "agent": a.name, **(data or {})}, **fields)

    # -- tools ------------------------------------------------------------------
    def tool_call(self, run: Run, key, tool: str, tool_use_id: str | None, arguments, agent_key=None,
                  data: dict | None = None) -> dict | None:
        """The ``tool.call`` event (also what rules decide on)."""
        try:
            call_id = str(tool_use_id or key)
            fields = self._agent_fields(run, agent_key)
            e = self._emit(run, ev.TOOL_CALL, id=ev.derived_id(run.session_id, "tool.call", call_id),
                           name=tool, tool=tool, tool_use_id=call_id,
                           data={"tool_input": json_arguments(arguments), "framework": self.framework,
                                 **(data or {})}, **fields)
            with self.lock:
                run.calls[key] = (e, time.perf_counter())
            return e
        except Exception as exc:
            say(self.framework, "could not record a tool call", exc)
            return None

    @fail_open("a tool result")
    def tool_end(self, run: Run, key, result=_MISSING, error: dict | str | None = None,
                 data: dict | None = None) -> None:
        with self.lock:
            call, t0 = run.calls.pop(key, (None, None))
        if call is None:
            return
        ms = round((time.perf_counter() - t0) * 1000, 3)
        common = {"id": ev.derived_id(run.session_id, "tool.result", call["tool_use_id"]), "name": call["tool"],
                  "tool": call["tool"], "tool_use_id": call["tool_use_id"], "parent": call["id"],
                  "agent_id": call.get("agent_id"), "agent_type": call.get("agent_type"), "duration_ms": ms}
        d = {"framework": self.framework, **(data or {})}
        if error is not None:
            err = error if isinstance(error, dict) else {"message": str(error)}
            if result is not _MISSING:
                d["tool_response"] = to_json(result)
            self._emit(run, ev.TOOL_ERROR, status=ev.ERROR, error=err, data=d, **common)
        else:
            d["tool_response"] = None if result is _MISSING else to_json(result)
            self._emit(run, ev.TOOL_RESULT, status=ev.OK, data=d, **common)

    def call_event(self, run: Run, key) -> dict | None:
        with self.lock:
            got = run.calls.get(key)
        return got[0] if got else None

    # -- model calls ----------------------------------------------------------------
    @fail_open("a model call")
    def model_start(self, run: Run, key, agent_key=None) -> None:
        """Open the frame the HTTP instrumentation fills (same context only)."""
        fields = self._agent_fields(run, agent_key)
        frame: dict[str, Any] = {"agent_id": fields.get("agent_id"), "agent_type": fields.get("agent_type"), "ids": [],
                 "session": run.session_id}
        token = tracing.llm_frame.set(frame)
        with self.lock:
            run.models[key] = (frame, token, time.perf_counter())

    @fail_open("a model call")
    def model_end(self, run: Run, key, agent_key=None, model: str | None = None, usage: dict | None = None,
                  response_id: str | None = None, error: str | None = None, data: dict | None = None) -> None:
        with self.lock:
            frame, token, t0 = run.models.pop(key, (None, None, None))
        if frame is not None:
            frame["closed"] = True
            try:
                tracing.llm_frame.reset(token)
            except ValueError:  # ended in another context than it started in
                pass
        if frame is not None and frame["ids"]:
            return  # the HTTP instrumentation recorded this very call, with the agent stamped on it
        fields = self._agent_fields(run, agent_key)
        d = {"framework": self.framework, **(data or {})}
        if response_id:
            d["message_id"] = response_id
            fields["id"] = llm_event_id(run.session_id, response_id)  # the HTTP capture's id for it
        if error:
            fields.update(status=ev.ERROR, error={"message": error})
        else:
            fields["status"] = ev.OK
        ms = round((time.perf_counter() - t0) * 1000, 3) if t0 is not None else None
        self._emit(run, ev.LLM_RESPONSE, name=self.framework, model=model, usage=usage, duration_ms=ms, data=d,
                   **fields)

    # -- the rest -------------------------------------------------------------------
    @fail_open("an event")
    def note(self, run: Run, name: str, agent_key=None, status: str | None = None, error: dict | None = None,
             data: dict | None = None) -> None:
        """A handoff, a guardrail result...: a ``generic`` event named ``name``."""
        self._emit(run, ev.GENERIC, name=name, status=status, error=error,
                   data={"framework": self.framework, **(data or {})}, **self._agent_fields(run, agent_key))


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in str(key))[:80]
