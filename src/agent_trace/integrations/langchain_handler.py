"""LangChain and LangGraph: one callback handler, sync and async.

    from agent_trace.integrations import instrument_langchain
    instrument_langchain()          # every run from now on; .remove() undoes it

* The handler joins every run through LangChain's own configure hook
  (``register_configure_hook``, the way LangSmith's tracer joins): no
  ``callbacks=`` argument to pass, and LangGraph's runs carry it too.  It is
  an inline handler (``run_inline``), so async runs call it in their own
  task, and a model call's frame reaches the HTTP instrumentation.
* A root run is a session; run ids are the parents.  A LangGraph graph
  (``create_agent``, ``create_react_agent``, your ``StateGraph``, a subgraph)
  is an agent run, found when its first node starts; each node run is a
  ``node`` event; tools and retrievers are tool calls (the model's own
  ``tool_call_id`` when LangGraph's ``ToolNode`` runs them); chat models and
  LLMs are model calls with usage.
* Rules: the pre-tool point is ``on_tool_start`` (and ``on_retriever_start``).
  A denied tool does not run: :class:`~agent_trace.integrations.ToolDenied`
  is raised in its place.  LangGraph's ``ToolNode(handle_tool_errors=True)``
  (or a handler that accepts it) hands the reason to the model; otherwise the
  run stops with that exception.  Removing the instrumentation switches the
  handler off (LangChain has no call to unregister a hook).
"""

from __future__ import annotations

import json
import threading

from .. import event as ev
from ..capture.llm_reassemble import usage_openai
from ..sdk.tracing import to_json
from . import rules
from .recorder import Recorder, say

FRAMEWORK = "langchain"

_lock = threading.Lock()
_handler = None


def _usage(message, llm_output) -> dict | None:
    """LangChain's ``usage_metadata`` (input includes cache reads and writes) -> ours."""
    um = getattr(message, "usage_metadata", None) if message is not None else None
    if isinstance(um, dict) and isinstance(um.get("input_tokens"), int):
        det = um.get("input_token_details") or {}
        read, write = det.get("cache_read") or 0, det.get("cache_creation") or 0
        return ev.usage(input=um["input_tokens"] - read - write, output=um.get("output_tokens"),
                        cache_read=read or None, cache_write=write or None)
    if isinstance(llm_output, dict):
        u = llm_output.get("token_usage") or llm_output.get("usage")
        if isinstance(u, dict):
            return usage_openai(u)
    return None


def _tool_output(output):
    """A tool's result as JSON: a ToolMessage's content (JSON text parsed back)."""
    if getattr(output, "type", None) == "tool" and hasattr(output, "content"):
        content = output.content
        if isinstance(content, str):
            try:
                parsed = json.loads(content)
                if isinstance(parsed, (dict, list)):
                    content = parsed
            except ValueError:
                pass
        out = to_json(content)
        if getattr(output, "artifact", None) is not None:
            return {"content": out, "artifact": to_json(output.artifact)}
        return out
    return to_json(output)


class Tracker:
    """The handler's logic, free of LangChain types (the handler class built
    in :func:`_handler_class` forwards to it).  Thread-safe."""

    def __init__(self):
        self.rec = Recorder(FRAMEWORK)
        self.active = False
        self.lock = threading.Lock()
        self.parents: dict = {}  # run id -> parent run id
        self.names: dict = {}  # run id -> name
        self.roots: dict = {}  # root run id -> Run
        self.agents: set = set()  # run ids that are agent runs (graphs)
        self.nodes: set = set()  # run ids that are graph nodes
        self.tools: set = set()  # run ids that are tool calls

    # -- the tree ------------------------------------------------------------------
    def _root(self, run_id):
        seen = 0
        while run_id in self.parents and self.parents[run_id] is not None and seen < 1000:
            run_id, seen = self.parents[run_id], seen + 1
        return run_id

    def _agent_of(self, run_id):
        p = self.parents.get(run_id)
        seen = 0
        while p is not None and seen < 1000:
            if p in self.agents:
                return p
            p, seen = self.parents.get(p), seen + 1
        return None

    def _tool_between(self, run_id, agent):
        """The tool run between ``run_id`` and its agent (a subagent called as a tool)."""
        p, seen = self.parents.get(run_id), 0
        while p is not None and p != agent and seen < 1000:
            if p in self.tools:
                return p
            p, seen = self.parents.get(p), seen + 1
        return None

    def _enter(self, run_id, parent_run_id, name, root_name=None):
        """Note a run in the tree; the Run (session) it writes to."""
        with self.lock:
            self.parents[run_id] = parent_run_id
            self.names[run_id] = name
            root = self._root(run_id)
            run = self.roots.get(root)
            if run is None and root == run_id:
                run = self.rec.start_run(str(run_id), root_name or name)
                if run is not None:
                    self.roots[run_id] = run
            return run

    def _leave(self, run_id, error=None) -> None:
        with self.lock:
            run = self.roots.pop(run_id, None) if self.parents.get(run_id) is None else None
            self.names.pop(run_id, None)
            self.agents.discard(run_id)
            self.nodes.discard(run_id)
            self.tools.discard(run_id)
            if run is not None:  # the root ended: forget its whole tree
                for k in [k for k in self.parents if self._root(k) == run_id and k != run_id]:
                    self.parents.pop(k, None)
                    self.names.pop(k, None)
                self.parents.pop(run_id, None)
        if run is not None:
            self.rec.end_run(run, error=error)

    def _run(self, run_id):
        with self.lock:
            return self.roots.get(self._root(run_id))

    # -- chains, graphs, nodes -----------------------------------------------------
    def chain_start(self, run_id, parent_run_id, name, metadata) -> None:
        run = self._enter(run_id, parent_run_id, name)
        if run is None or not isinstance(metadata, dict):
            return
        node = metadata.get("langgraph_node")
        if node is not None and node == name and parent_run_id is not None and "langgraph_step" in metadata:
            with self.lock:
                self.nodes.add(run_id)
                promote = parent_run_id not in self.agents
                if promote:
                    self.agents.add(parent_run_id)
                parent_agent = self._agent_of(parent_run_id)
                via = self._tool_between(parent_run_id, parent_agent)
            if promote:  # a graph: an agent run, found at its first node
                call = self.rec.call_event(run, via) if via is not None else None
                self.rec.agent_start(run, parent_run_id, self.names.get(parent_run_id) or "graph",
                                     parent_key=parent_agent, parent_event=call["id"] if call else None,
                                     data={"kind": "graph", **({"via": "tool"} if call else {})})

    def chain_end(self, run_id, error=None, outputs=None) -> None:
        run = self._run(run_id)
        if run is not None:
            if run_id in self.nodes:
                self.rec.note(run, "node", self._agent_of(run_id), status=ev.ERROR if error else ev.OK,
                              error={"message": error} if error else None,
                              data={"node": self.names.get(run_id)})
            if run_id in self.agents:
                self.rec.agent_end(run, run_id, error=error)
        self._leave(run_id, error)

    # -- tools and retrievers ------------------------------------------------------
    def tool_start(self, run_id, parent_run_id, name, arguments, tool_call_id=None, kind="tool"):
        run = self._enter(run_id, parent_run_id, name)
        if run is None:
            return
        with self.lock:
            self.tools.add(run_id)
        call = self.rec.tool_call(run, run_id, name, tool_call_id or str(run_id), arguments,
                                  self._agent_of(run_id), data={"kind": kind} if kind != "tool" else None)
        d = rules.check(run, call, FRAMEWORK, name)
        if rules.blocks(d):
            self.rec.tool_end(run, run_id, error={"message": rules.message(d), "type": "denied"})
            self._leave(run_id)
            raise rules.denied(d, name)

    def tool_end(self, run_id, output=None, error=None) -> None:
        run = self._run(run_id)
        if run is not None:
            if error is not None:
                self.rec.tool_end(run, run_id, error={"message": str(error) or type(error).__name__,
                                                      "type": type(error).__name__})
            else:
                self.rec.tool_end(run, run_id, result=_tool_output(output))
        self._leave(run_id, str(error) if error is not None else None)

    # -- model calls ---------------------------------------------------------------
    def model_start(self, run_id, parent_run_id, name) -> None:
        run = self._enter(run_id, parent_run_id, name)
        if run is not None:
            self.rec.model_start(run, run_id, self._agent_of(run_id))

    def model_end(self, run_id, response=None, error=None) -> None:
        run = self._run(run_id)
        if run is not None:
            model = rid = usage = message = None
            data: dict = {}
            if response is not None:
                llm_output = response.llm_output if isinstance(response.llm_output, dict) else {}
                gen = response.generations[0][0] if response.generations and response.generations[0] else None
                message = getattr(gen, "message", None)
                meta = getattr(message, "response_metadata", None) or {}
                model = meta.get("model_name") or meta.get("model") or llm_output.get("model_name")
                rid = meta.get("id") or llm_output.get("id")
                usage = _usage(message, llm_output)
                stop = meta.get("finish_reason") or meta.get("stop_reason")
                if stop:
                    data["stop_reason"] = stop
                calls = getattr(message, "tool_calls", None)
                if calls:
                    data["tool_calls"] = to_json(calls)
            self.rec.model_end(run, run_id, self._agent_of(run_id), model=model, usage=usage, response_id=rid,
                               error=str(error) if error is not None else None, data=data)
        self._leave(run_id, str(error) if error is not None else None)


def _name(serialized, kw: dict, default: str) -> str:
    name = kw.get("name") or (serialized.get("name") if isinstance(serialized, dict) else None)
    return str(name) if name else default


def _handler_class():
    from langchain_core.callbacks import BaseCallbackHandler

    class AgentStraceHandler(BaseCallbackHandler):
        """Forwards to :class:`Tracker`; swallows everything but a rule's deny."""

        run_inline = True  # async runs call it in their own task and context
        raise_error = True  # so a ToolDenied reaches the tool; our own failures never do

        def __init__(self, tracker: Tracker):
            self.t = tracker

        def _do(self, what, fn, *a, **kw):
            if not self.t.active:
                return
            try:
                fn(*a, **kw)
            except rules.ToolDenied:
                raise
            except Exception as e:
                say(FRAMEWORK, f"could not record {what}", e)

        def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, metadata=None, **kw):
            self._do("a chain", self.t.chain_start, run_id, parent_run_id, _name(serialized, kw, "chain"), metadata)

        def on_chain_end(self, outputs, *, run_id, **kw):
            self._do("a chain", self.t.chain_end, run_id)

        def on_chain_error(self, error, *, run_id, **kw):
            self._do("a chain", self.t.chain_end, run_id, f"{type(error).__name__}: {error}")

        def on_tool_start(self, serialized, input_str, *, run_id, parent_run_id=None, inputs=None, **kw):
            name = _name(serialized, kw, "tool")
            args = inputs if inputs is not None else input_str
            self._do("a tool call", self.t.tool_start, run_id, parent_run_id, name, args, kw.get("tool_call_id"))

        def on_tool_end(self, output, *, run_id, **kw):
            self._do("a tool result", self.t.tool_end, run_id, output)

        def on_tool_error(self, error, *, run_id, **kw):
            self._do("a tool error", self.t.tool_end, run_id, None, error)

        def on_retriever_start(self, serialized, query, *, run_id, parent_run_id=None, **kw):
            name = _name(serialized, kw, "retriever")
            self._do("a retriever call", self.t.tool_start, run_id, parent_run_id, name, {"query": query}, None,
                     "retriever")

        def on_retriever_end(self, documents, *, run_id, **kw):
            self._do("a retriever result", self.t.tool_end, run_id, list(documents or ()))

        def on_retriever_error(self, error, *, run_id, **kw):
            self._do("a retriever error", self.t.tool_end, run_id, None, error)

        def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kw):
            self._do("a model call", self.t.model_start, run_id, parent_run_id, kw.get("name") or "chat_model")

        def on_llm_start(self, serialized, prompts, *, run_id, parent_run_id=None, **kw):
            self._do("a model call", self.t.model_start, run_id, parent_run_id, kw.get("name") or "llm")

        def on_llm_end(self, response, *, run_id, **kw):
            self._do("a model call", self.t.model_end, run_id, response)

        def on_llm_error(self, error, *, run_id, **kw):
            self._do("a model call", self.t.model_end, run_id, None, error)

    return AgentStraceHandler


class Handle:
    """What :func:`instrument` returns: ``remove()`` undoes it (idempotent)."""

    framework = FRAMEWORK

    @property
    def active(self) -> bool:
        return _handler is not None and _handler.t.active

    @property
    def handler(self):
        """The callback handler itself, to pass as ``callbacks=[...]`` where a
        run is configured by hand."""
        return _handler

    def remove(self) -> None:
        if _handler is not None:
            _handler.t.active = False


def instrument() -> Handle:
    """Join every LangChain run from now on (once per process; idempotent)."""
    global _handler
    try:
        from contextvars import ContextVar

        from langchain_core.tracers.context import register_configure_hook

        with _lock:
            if _handler is None:
                h = _handler_class()(Tracker())
                register_configure_hook(ContextVar("agent_strace_langchain", default=h), True)
                _handler = h
            _handler.t.active = True
    except Exception as e:  # no LangChain, or an API we do not know: the program goes on
        say(FRAMEWORK, "not instrumented", e)
    return Handle()
