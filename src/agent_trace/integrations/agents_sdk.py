"""OpenAI Agents SDK (``openai-agents``): a trace processor and a tool guardrail.

    from agent_trace.integrations import instrument_openai_agents
    handle = instrument_openai_agents()      # every run is recorded
    handle.guard(triage_agent)               # rules answer before its tools run

* Recording is a ``TracingProcessor`` registered with the SDK's own
  ``add_trace_processor`` (no monkey-patching): traces become sessions,
  agent spans agent runs, function spans tool calls (function tools and MCP
  tools), response/generation spans model calls (Responses API and Chat
  Completions, streamed or not), hosted tool calls in a response's output
  (web search, file search, code interpreter, hosted MCP...) tool calls that
  ran on the server, handoff and guardrail spans ``handoff``/``guardrail``
  events.  The SDK has no remove call, so :meth:`Handle.remove` switches the
  registered processor off; instrumenting again switches it back on.
* A function span does not carry its call id, and its arguments are set just
  after it starts: the model's output that asked for the call (seen when the
  model span ends) gives both, matched by tool name in the order asked.
* Rules: the SDK's pre-tool point is a tool input guardrail.
  :meth:`Handle.guard` adds ours to every function tool of the agents given
  (and of the agents they hand off to): a deny answers the model with the
  reason (``reject_content``), a stop ends the run
  (``ToolInputGuardrailTripwireTriggered``).
* What the SDK does not trace, we cannot see: with
  ``trace_include_sensitive_data=False`` arguments, results and response
  ids are missing; with tracing disabled nothing is recorded.
"""

from __future__ import annotations

import threading

from ..capture.llm_reassemble import usage_openai
from . import rules
from .recorder import Recorder, json_arguments, say

FRAMEWORK = "openai-agents"
HOSTED_CALLS = ("web_search_call", "file_search_call", "code_interpreter_call", "computer_call",
                "image_generation_call", "mcp_call", "local_shell_call", "shell_call", "apply_patch_call",
                "tool_search_call")

_lock = threading.Lock()
_processor = None
_guardrail = None


def _dump(obj):
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json", exclude_none=True)
        except Exception:
            return dump()
    return obj


class _State:
    """Per trace: the run, the span tree, the calls the model asked for."""

    def __init__(self, run):
        self.run = run
        self.parents: dict = {}  # span id -> parent span id
        self.kinds: dict = {}  # span id -> span type
        self.asked: dict = {}  # agent span id -> [(tool name, call id, arguments)] not yet matched
        self.handoffs: dict = {}  # target agent name -> (from agent span id, handoff event id)
        self.deferred: dict = {}  # function span id -> agent span id (call recorded at the end)
        self.denied: dict = {}  # tool_use_id -> decision


class Processor:
    """The SDK calls these on the run's thread and context: they must not
    raise or block (the SDK's contract and ours)."""

    def __init__(self):
        self.rec = Recorder(FRAMEWORK)
        self.active = False
        self.traces: dict = {}  # trace id -> _State

    # -- trace ------------------------------------------------------------------
    def on_trace_start(self, trace) -> None:
        if not self.active:
            return
        try:
            exp = trace.export() or {}
            data = {k: exp.get(k) for k in ("group_id", "metadata") if exp.get(k)}
            key = trace.trace_id.removeprefix("trace_")
            run = self.rec.start_run(key, trace.name, {"trace_id": trace.trace_id, **data})
            if run is not None:
                self.traces[trace.trace_id] = _State(run)
        except Exception as e:
            say(FRAMEWORK, "could not record a trace", e)

    def on_trace_end(self, trace) -> None:
        st = self.traces.pop(getattr(trace, "trace_id", None), None)
        if st is not None:
            self.rec.end_run(st.run)

    # -- spans ------------------------------------------------------------------
    def _agent_of(self, st: _State, span_id):
        """The nearest agent span above ``span_id`` (and the function span
        between them, for agents run as tools)."""
        tool = None
        p = st.parents.get(span_id)
        while p is not None:
            kind = st.kinds.get(p)
            if kind == "agent":
                return p, tool
            if kind == "function" and tool is None:
                tool = p
            p = st.parents.get(p)
        return None, tool

    def on_span_start(self, span) -> None:
        st = self.traces.get(getattr(span, "trace_id", None)) if self.active else None
        if st is None:
            return
        try:
            data = span.span_data
            kind = data.type
            st.parents[span.span_id] = span.parent_id
            st.kinds[span.span_id] = kind
            if kind == "agent":
                self._agent_start(st, span, data)
            elif kind == "function":
                self._function_start(st, span, data)
            elif kind in ("response", "generation"):
                agent, _ = self._agent_of(st, span.span_id)
                self.rec.model_start(st.run, span.span_id, agent)
        except Exception as e:
            say(FRAMEWORK, "could not record a span", e)

    def on_span_end(self, span) -> None:
        st = self.traces.get(getattr(span, "trace_id", None)) if self.active else None
        if st is None:
            return
        try:
            data = span.span_data
            kind = data.type
            if kind == "agent":
                self.rec.agent_end(st.run, span.span_id, error=_error_text(span.error),
                                   data={"tools": data.tools, "handoffs": data.handoffs,
                                         "output_type": data.output_type})
            elif kind == "function":
                self._function_end(st, span, data)
            elif kind == "response":
                self._response_end(st, span, data)
            elif kind == "generation":
                self._generation_end(st, span, data)
            elif kind == "handoff":
                agent, _ = self._agent_of(st, span.span_id)
                self.rec.note(st.run, "handoff", agent, data={"from_agent": data.from_agent,
                                                             "to_agent": data.to_agent})
                if data.to_agent:
                    st.handoffs[data.to_agent] = agent
            elif kind == "guardrail":
                agent, _ = self._agent_of(st, span.span_id)
                self.rec.note(st.run, "guardrail", agent, data={"guardrail": data.name,
                                                               "triggered": bool(data.triggered)})
        except Exception as e:
            say(FRAMEWORK, "could not record a span", e)

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass

    # -- agents -------------------------------------------------------------------
    def _agent_start(self, st: _State, span, data) -> None:
        parent, tool_span = self._agent_of(st, span.span_id)
        extra = {"tools": data.tools, "handoffs": data.handoffs}
        parent_event = None
        if tool_span is not None:  # an agent run as a tool: under that tool call
            call = self.rec.call_event(st.run, tool_span)
            parent_event = call["id"] if call else None
            extra["via"] = "tool"
        elif data.name in st.handoffs:  # handed off to: under the agent that handed off
            parent = st.handoffs.pop(data.name)
            extra["via"] = "handoff"
        self.rec.agent_start(st.run, span.span_id, data.name, parent_key=parent, parent_event=parent_event,
                             data=extra)

    # -- tools --------------------------------------------------------------------
    def _function_start(self, st: _State, span, data) -> None:
        agent, _ = self._agent_of(st, span.span_id)
        asked = st.asked.get(agent) or []
        hit = next((a for a in asked if a[0] == data.name), None)
        if hit is None:  # not seen in the model's output: record it when the span ends, with its input
            st.deferred[span.span_id] = agent
            return
        asked.remove(hit)
        self.rec.tool_call(st.run, span.span_id, data.name, hit[1], hit[2], agent,
                           data={"mcp": data.mcp_data} if data.mcp_data else None)

    def _function_end(self, st: _State, span, data) -> None:
        if span.span_id in st.deferred:
            agent = st.deferred.pop(span.span_id)
            self.rec.tool_call(st.run, span.span_id, data.name, None, data.input, agent,
                               data={"mcp": data.mcp_data} if data.mcp_data else None)
        call = self.rec.call_event(st.run, span.span_id)
        d = st.denied.pop(call["tool_use_id"], None) if call else None
        if d is not None:
            self.rec.tool_end(st.run, span.span_id, error={"message": rules.message(d), "type": "denied"})
            return
        err = _error_text(span.error)
        if err:
            self.rec.tool_end(st.run, span.span_id, result=data.output, error={"message": err})
        else:
            self.rec.tool_end(st.run, span.span_id, result=data.output)

    # -- model calls ----------------------------------------------------------------
    def _asked(self, st: _State, agent, items) -> None:
        """Remember the function calls the model asked for; record hosted
        tool calls (they ran on the server) as they are."""
        for item in items or ():
            item = _dump(item)
            if not isinstance(item, dict):
                continue
            t = item.get("type")
            if t == "function_call":
                st.asked.setdefault(agent, []).append((item.get("name"), item.get("call_id"),
                                                       json_arguments(item.get("arguments"))))
            elif "tool_calls" in item:  # a Chat Completions message
                for c in item.get("tool_calls") or ():
                    fn = c.get("function") or {}
                    st.asked.setdefault(agent, []).append((fn.get("name"), c.get("id"),
                                                           json_arguments(fn.get("arguments"))))
            elif isinstance(item.get("output"), list) and t in (None, "response"):  # a streamed Response
                self._asked(st, agent, item["output"])
            elif t in HOSTED_CALLS:
                key = ("hosted", item.get("id"))
                name = item.get("name") or t
                args = item.get("arguments") if "arguments" in item else item.get("action") or item.get("query")
                self.rec.tool_call(st.run, key, name, item.get("id"), args, agent,
                                   data={"hosted": True, "item": item})
                err = item.get("error")
                if err or item.get("status") == "failed":
                    self.rec.tool_end(st.run, key, result=item, error={"message": str(err or "failed")})
                else:
                    self.rec.tool_end(st.run, key, result=item.get("output", item))

    def _response_end(self, st: _State, span, data) -> None:
        agent, _ = self._agent_of(st, span.span_id)
        resp = data.response
        model = usage = rid = None
        if resp is not None:
            rid, model = getattr(resp, "id", None), getattr(resp, "model", None)
            usage = usage_openai(_dump(getattr(resp, "usage", None)))
            self._asked(st, agent, getattr(resp, "output", None))
        else:
            rid = getattr(data, "_response_id", None)
        if usage is None and isinstance(data.usage, dict):
            usage = usage_openai(data.usage)
        self.rec.model_end(st.run, span.span_id, agent, model=model, usage=usage, response_id=rid,
                           error=_error_text(span.error), data={"api": "openai.responses"})

    def _generation_end(self, st: _State, span, data) -> None:
        agent, _ = self._agent_of(st, span.span_id)
        self._asked(st, agent, data.output)
        usage = usage_openai(data.usage) if isinstance(data.usage, dict) else None
        self.rec.model_end(st.run, span.span_id, agent, model=data.model, usage=usage,
                           error=_error_text(span.error), data={"api": "openai.chat"})

    # -- rules ----------------------------------------------------------------------
    def decide(self, ctx, agent) -> object:
        """The guardrail's question: may this call run?"""
        from agents.tracing import get_current_trace

        trace = get_current_trace()
        st = self.traces.get(trace.trace_id) if trace is not None else None
        run = st.run if st is not None else None
        call_id = getattr(ctx, "tool_call_id", None)
        tool = getattr(ctx, "tool_name", None) or "?"
        call = None
        if run is not None:
            with self.rec.lock:
                call = next((c for c, _ in run.calls.values() if c.get("tool_use_id") == call_id), None)
        if run is None:  # tracing off for this run: rules still answer, in a session of their own
            run = self.rec.start_run(f"untraced-{call_id}", getattr(agent, "name", None))
        if call is None and run is not None:
            call = self.rec.tool_call(run, ("guard", call_id), tool, call_id,
                                      getattr(ctx, "tool_arguments", None))
        d = rules.check(run, call, FRAMEWORK, tool)
        if st is not None and rules.blocks(d) and call is not None:
            st.denied[call["tool_use_id"]] = d
        if st is None and run is not None:
            if rules.blocks(d):
                self.rec.tool_end(run, ("guard", call_id), error={"message": rules.message(d), "type": "denied"})
            self.rec.end_run(run)
        return d


def _error_text(err) -> str | None:
    if not err:
        return None
    if isinstance(err, dict):
        msg = err.get("message") or "error"
        data = err.get("data")
        detail = data.get("error") if isinstance(data, dict) else None
        return f"{msg}: {detail}" if detail else str(msg)
    return str(err)


def _make_guardrail():
    from agents import ToolGuardrailFunctionOutput, ToolInputGuardrail

    async def agent_strace_rules(data):
        try:
            d = _processor.decide(data.context, data.agent)
        except Exception as e:  # fails closed
            from ..control.engine import Decision

            d = Decision("deny", "rules-engine", f"rules could not be evaluated ({type(e).__name__}: {e}), "
                                                 "so the call is denied")
        if d is None or not rules.blocks(d):
            return ToolGuardrailFunctionOutput.allow()
        info = {"rule": d.rule, "action": d.action, "reason": d.reason}
        if d.action in ("stop", "kill"):
            return ToolGuardrailFunctionOutput.raise_exception(output_info=info)
        return ToolGuardrailFunctionOutput.reject_content(rules.message(d), output_info=info)

    return ToolInputGuardrail(guardrail_function=agent_strace_rules, name="agent_strace_rules")


class Handle:
    """What :func:`instrument` returns: ``remove()`` undoes it (idempotent)."""

    framework = FRAMEWORK

    def __init__(self):
        self.guarded: list = []  # (tool, guardrail) pairs we added

    @property
    def active(self) -> bool:
        return _processor is not None and _processor.active

    def guard(self, *agents) -> "Handle":
        """Add our rules guardrail to every function tool of ``agents`` and of
        the agents they hand off to (idempotent)."""
        try:
            from agents import FunctionTool

            seen, todo = set(), list(agents)
            while todo:
                a = todo.pop()
                a = getattr(a, "agent", a)  # a Handoff made from an agent
                if id(a) in seen or not hasattr(a, "tools"):
                    continue
                seen.add(id(a))
                for tool in a.tools or ():
                    if not isinstance(tool, FunctionTool):
                        continue
                    current = list(tool.tool_input_guardrails or [])
                    if _guardrail not in current:
                        tool.tool_input_guardrails = [_guardrail, *current]
                        self.guarded.append(tool)
                todo.extend(getattr(a, "handoffs", None) or ())
        except Exception as e:
            say(FRAMEWORK, "could not add the rules guardrail", e)
        return self

    def remove(self) -> None:
        try:
            if _processor is not None:
                _processor.active = False
            for tool in self.guarded:
                tool.tool_input_guardrails = [g for g in tool.tool_input_guardrails or [] if g is not _guardrail]
            self.guarded = []
        except Exception as e:
            say(FRAMEWORK, "could not remove the instrumentation", e)


def _registered(proc) -> bool | None:
    """Whether ``proc`` is still among the SDK's processors (None: cannot tell;
    the SDK has no public way to list them)."""
    try:
        from agents.tracing import get_trace_provider

        return proc in get_trace_provider()._multi_processor._processors
    except Exception:
        return None


def instrument() -> Handle:
    """Register our trace processor (once per process) and switch it on."""
    global _processor, _guardrail
    handle = Handle()
    try:
        from agents import add_trace_processor
        from agents.tracing import TracingProcessor

        with _lock:
            if _processor is None:
                cls = type("AgentStraceProcessor", (Processor, TracingProcessor), {})
                _processor = cls()
                _guardrail = _make_guardrail()
                add_trace_processor(_processor)
            elif _registered(_processor) is False:  # set_trace_processors() replaced every processor
                add_trace_processor(_processor)
            _processor.active = True
    except Exception as e:  # no agents SDK, or an API we do not know: the program goes on
        say(FRAMEWORK, "not instrumented", e)
    return handle


__all__ = ["Handle", "instrument"]
