"""Pydantic AI: its OpenTelemetry GenAI spans, received in-process, and a
capability for rules.

    from agent_trace.integrations import instrument_pydantic_ai
    handle = instrument_pydantic_ai()                 # every agent run is recorded
    agent = Agent(model, capabilities=[handle.rules()])   # rules answer before its tools run

* Recording: Pydantic AI instruments agents with OpenTelemetry
  (``Agent.instrument_all(InstrumentationSettings(tracer_provider=...))``).
  We give it a tracer provider of our own whose span processor turns the
  spans into events as they start and end, in the run's thread: nothing is
  exported anywhere, nothing is batched.  ``invoke_agent`` spans are agent
  runs (an agent called from a tool is a subagent under that tool call),
  ``execute_tool`` spans tool calls (arguments and results are JSON in the
  span's attributes; a ``ModelRetry`` or an exception is a tool error),
  ``chat`` spans model calls (usage, response id).  With
  ``tracer_provider=yours`` we add our processor to your provider and leave
  ``instrument_all`` alone.  ``remove()`` restores the previous default.
* Rules: the pre-tool point is a capability's ``before_tool_execute`` hook
  (:meth:`Handle.rules` builds one): a deny skips the tool and the model gets
  the reason as its result (``SkipToolExecution``); a stop ends the run with
  :class:`~agent_trace.integrations.ToolDenied`.
* Requires the OpenTelemetry SDK (``opentelemetry-sdk``, in the
  ``pydantic-ai`` extra).
"""

from __future__ import annotations

import json
import threading

from .. import event as ev
from . import rules
from .recorder import Recorder, json_arguments, say

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FRAMEWORK = "pydantic-ai"

_lock = threading.Lock()
_state: dict[str, Any] = {"processor": None, "provider": None, "previous": None, "installed": False}


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _usage(a: dict) -> dict | None:
    """GenAI usage attributes (input includes cache reads and writes) -> ours."""
    inp = _int(a.get("gen_ai.usage.input_tokens"))
    read = _int(a.get("gen_ai.usage.cache_read.input_tokens")) or 0
    write = _int(a.get("gen_ai.usage.cache_creation.input_tokens")) or 0
    return ev.usage(input=None if inp is None else inp - read - write,
                    output=_int(a.get("gen_ai.usage.output_tokens")), cache_read=read or None,
                    cache_write=write or None)


def _result(raw):
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


class SpanProcessor:
    """An OpenTelemetry span processor: called on the span's thread, it must
    not block or throw (their contract and ours)."""

    def __init__(self):
        self.rec = Recorder(FRAMEWORK)
        self.active = False
        self.lock = threading.Lock()
        self.traces: dict = {}  # trace id -> {"run", "root", "kinds", "parents", "denied"}

    def _ids(self, span):
        ctx = span.get_span_context() if hasattr(span, "get_span_context") else span.context
        parent = span.parent.span_id if span.parent is not None else None
        return ctx.trace_id, ctx.span_id, parent

    def _agent_of(self, t: dict, span_id):
        """The nearest agent span above, and the tool span between them."""
        tool, p = None, t["parents"].get(span_id)
        while p is not None:
            kind = t["kinds"].get(p)
            if kind == "invoke_agent":
                return p, tool
            if kind == "execute_tool" and tool is None:
                tool = p
            p = t["parents"].get(p)
        return None, tool

    def on_start(self, span, parent_context=None) -> None:
        if not self.active:
            return
        try:
            trace_id, span_id, parent = self._ids(span)
            a = dict(span.attributes or {})
            kind = a.get("gen_ai.operation.name")
            with self.lock:
                t = self.traces.get(trace_id)
            if t is None:
                run = self.rec.start_run(format(trace_id, "032x"), a.get("gen_ai.agent.name") or span.name,
                                         {"conversation_id": a.get("gen_ai.conversation.id")})
                if run is None:
                    return
                t = {"run": run, "root": span_id, "kinds": {}, "parents": {}, "denied": {}}
                with self.lock:
                    self.traces[trace_id] = t
            t["kinds"][span_id] = kind
            t["parents"][span_id] = parent if parent in t["kinds"] else None
            run = t["run"]
            if kind == "invoke_agent":
                agent, tool = self._agent_of(t, span_id)
                call = self.rec.call_event(run, tool) if tool is not None else None
                self.rec.agent_start(run, span_id, a.get("gen_ai.agent.name") or a.get("agent_name") or "agent",
                                     parent_key=agent, parent_event=call["id"] if call else None,
                                     data={"via": "tool"} if call else None)
            elif kind == "execute_tool":
                agent, _ = self._agent_of(t, span_id)
                name = a.get("gen_ai.tool.name") or "tool"
                self.rec.tool_call(run, span_id, name, a.get("gen_ai.tool.call.id"),
                                   json_arguments(a.get("gen_ai.tool.call.arguments")), agent)
            elif kind == "chat":
                agent, _ = self._agent_of(t, span_id)
                self.rec.model_start(run, span_id, agent)
        except Exception as e:
            say(FRAMEWORK, "could not record a span", e)

    def on_end(self, span) -> None:
        if not self.active:
            return
        try:
            trace_id, span_id, _ = self._ids(span)
            with self.lock:
                t = self.traces.get(trace_id)
            if t is None or span_id not in t["kinds"]:
                return
            run, kind = t["run"], t["kinds"][span_id]
            a = dict(span.attributes or {})
            failed = span.status is not None and span.status.status_code.name == "ERROR"
            error = _exception_text(span) if failed else None
            if kind == "invoke_agent":
                self.rec.agent_end(run, span_id, error=error, data={"final_result": a.get("final_result")}
                                   if a.get("final_result") is not None else None)
            elif kind == "execute_tool":
                call = self.rec.call_event(run, span_id)
                d = t["denied"].pop(call["tool_use_id"], None) if call else None
                result = _result(a.get("gen_ai.tool.call.result"))
                if d is not None:
                    self.rec.tool_end(run, span_id, error={"message": rules.message(d), "type": "denied"})
                elif failed:
                    cause = a.get("pydantic_ai.tool.retry.cause")
                    self.rec.tool_end(run, span_id, result=result,
                                      error={"message": error or str(result), **({"type": cause} if cause else {})})
                else:
                    self.rec.tool_end(run, span_id, result=result)
            elif kind == "chat":
                agent, _ = self._agent_of(t, span_id)
                data = {"api": a.get("gen_ai.provider.name")}
                reasons = a.get("gen_ai.response.finish_reasons")
                if reasons:
                    data["stop_reason"] = list(reasons)[0] if not isinstance(reasons, str) else reasons
                self.rec.model_end(run, span_id, agent, model=a.get("gen_ai.response.model") or
                                   a.get("gen_ai.request.model"), usage=_usage(a),
                                   response_id=a.get("gen_ai.response.id"), error=error, data=data)
            if span_id == t["root"]:
                with self.lock:
                    self.traces.pop(trace_id, None)
                self.rec.end_run(run, error=error)
        except Exception as e:
            say(FRAMEWORK, "could not record a span", e)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    # -- rules ----------------------------------------------------------------------
    def decide(self, tool: str, call_id: str | None, args):
        from opentelemetry import trace as otel

        ctx = otel.get_current_span().get_span_context()
        with self.lock:
            t = self.traces.get(ctx.trace_id) if ctx.is_valid else None
        run = t["run"] if t is not None else None
        call = None
        if run is not None:
            with self.rec.lock:
                call = next((c for c, _ in run.calls.values() if c.get("tool_use_id") == call_id), None)
        own = None
        if run is None:  # not instrumented: rules still answer, in a session of their own
            run = own = self.rec.start_run(f"untraced-{call_id}", tool)
        if call is None and run is not None:
            call = self.rec.tool_call(run, ("rules", call_id), tool, call_id, args)
        d = rules.check(run, call, FRAMEWORK, tool)
        if rules.blocks(d) and call is not None:
            if t is not None:
                t["denied"][call["tool_use_id"]] = d
            elif own is not None:
                self.rec.tool_end(own, ("rules", call_id), error={"message": rules.message(d), "type": "denied"})
        if own is not None:
            self.rec.end_run(own)
        return d


def _exception_text(span) -> str:
    for e in span.events or ():
        if e.name == "exception":
            a = dict(e.attributes or {})
            typ, msg = a.get("exception.type"), a.get("exception.message")
            if typ or msg:
                return f"{typ}: {msg}" if typ and msg else str(typ or msg)
    return (span.status.description if span.status is not None else None) or "error"


def _processor() -> SpanProcessor:
    if _state["processor"] is None:
        from opentelemetry.sdk.trace import SpanProcessor as Base

        cls = type("AgentStraceSpanProcessor", (SpanProcessor, Base), {})
        _state["processor"] = cls()
    return _state["processor"]


class Handle:
    """What :func:`instrument` returns: ``remove()`` undoes it (idempotent)."""

    framework = FRAMEWORK

    @property
    def active(self) -> bool:
        p = _state["processor"]
        return p is not None and p.active

    def rules(self):
        """A Pydantic AI capability whose ``before_tool_execute`` asks our rules."""
        return rules_capability()

    def remove(self) -> None:
        try:
            with _lock:
                p = _state["processor"]
                if p is not None:
                    p.active = False
                if _state["installed"]:
                    from pydantic_ai import Agent

                    Agent.instrument_all(_state["previous"])
                    _state["installed"] = False
        except Exception as e:
            say(FRAMEWORK, "could not remove the instrumentation", e)


def rules_capability():
    """``Hooks`` with a ``before_tool_execute`` that asks our rules (fails closed)."""
    from pydantic_ai.capabilities import Hooks
    from pydantic_ai.exceptions import SkipToolExecution

    hooks = Hooks()

    @hooks.on.before_tool_execute
    async def agent_strace_rules(ctx, /, *, call, tool_def, args):
        try:
            d = _processor().decide(call.tool_name, call.tool_call_id, args)
        except Exception as e:  # fails closed
            from ..control.engine import Decision

            d = Decision("deny", "rules-engine", f"rules could not be evaluated ({type(e).__name__}: {e}), "
                                                 "so the call is denied")
        if not rules.blocks(d):
            return args
        if d.action in ("stop", "kill"):
            raise rules.denied(d, call.tool_name)
        raise SkipToolExecution(rules.message(d))

    return hooks


def instrument(tracer_provider=None) -> Handle:
    """Receive Pydantic AI's spans in-process (idempotent)."""
    try:
        from opentelemetry.sdk.trace import TracerProvider
        from pydantic_ai import Agent
        from pydantic_ai.models.instrumented import InstrumentationSettings

        with _lock:
            proc = _processor()
            if tracer_provider is not None:
                if getattr(tracer_provider, "_agent_strace", False) is False:
                    tracer_provider.add_span_processor(proc)
                    tracer_provider._agent_strace = True
            elif not _state["installed"]:
                if _state["provider"] is None:
                    _state["provider"] = TracerProvider()
                    _state["provider"].add_span_processor(proc)  # type: ignore[attr-defined]  # just assigned above
                _state["previous"] = getattr(Agent, "_instrument_default", False)
                Agent.instrument_all(InstrumentationSettings(tracer_provider=_state["provider"],
                                                             include_model_request_parameters=False))
                _state["installed"] = True
            proc.active = True
    except Exception as e:  # no Pydantic AI / OpenTelemetry SDK: the program goes on
        say(FRAMEWORK, "not instrumented", e)
    return Handle()
