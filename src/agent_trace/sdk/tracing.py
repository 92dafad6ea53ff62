"""Tracing your own Python agent: ``session()``, ``@trace_tool``, ``@trace_llm``.

    from agent_trace.sdk import session, trace_tool

    @trace_tool
    def search(query: str) -> list[str]: ...

    with session("my-agent"):
        search("weather")

* The active session lives in a :mod:`contextvars` variable, so nesting follows
  ``await`` and tasks; threads started with ``contextvars.copy_context()``
  (or ``asyncio.to_thread``) carry it too.
* Arguments and results are stored as JSON: dataclasses and pydantic models
  (``model_dump``) become objects, bytes are marked (``{"__bytes__": n,
  "b64": ...}``: the encoder redacts inside), ``nan``/``inf`` floats are
  marked (``{"__float__": "nan"}``: not JSON otherwise), anything else falls
  back to a marked ``repr``.
* Exceptions are recorded with their type and message, then re-raised.
* Generators and async generators are traced as streams: the result is the
  list of yielded items, recorded when the stream ends.
* With no active session a traced function costs one context-variable read.
"""

from __future__ import annotations

import base64
import contextvars
import dataclasses
import functools
import inspect
import time

from .. import event as ev


_current: contextvars.ContextVar = contextvars.ContextVar("agent_strace_session", default=None)
# A framework integration opens a frame (a dict: agent_id, agent_type,
# session, ids) around one model call; the HTTP instrumentation stamps the
# agent on the events it records for the call and appends the llm.response
# id to ``ids``, so the call is recorded once (see agent_trace.integrations).
llm_frame: contextvars.ContextVar = contextvars.ContextVar("agent_strace_llm_frame", default=None)
# cassettes in use, and the player that replays from / records into the last
# one (both kept by agent_trace.cassette.active; this module never imports
# the cassette package)
_cassettes: list = []
_player = None
MAX_BYTES_INLINE = 65536


def to_json(value, depth: int = 0):
    """A JSON-safe copy of ``value`` (lossless where JSON allows, marked otherwise)."""
    if isinstance(value, float) and value - value != 0.0:  # nan, inf, -inf
        return {"__float__": repr(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > 20:
        return {"__repr__": repr(value)[:1000]}
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        out: dict[str, object] = {"__bytes__": len(raw)}
        if len(raw) <= MAX_BYTES_INLINE:
            out["b64"] = base64.b64encode(raw).decode()
        return out
    if isinstance(value, dict):
        return {str(k): to_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v, depth + 1) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return to_json(dump(mode="json"), depth + 1)
        except TypeError:
            return to_json(dump(), depth + 1)
    return {"__repr__": repr(value)[:1000], "__type__": type(value).__qualname__}


class Session:
    """One traced run: events go to ``sink`` (the local store by default)."""

    def __init__(self, name: str | None = None, session_id: str | None = None, sink=None):
        self.id = session_id or f"py-{name or 'agent'}-{ev.new_id()[:12]}"
        self.name = name
        self._sink = sink
        self._token: contextvars.Token[Session] | None = None

    @property
    def sink(self):
        if self._sink is None:
            from ..capture.sink import open_sink
            from ..store import Store

            self._sink = open_sink(Store.open())
        return self._sink

    def emit(self, etype: str, **fields) -> dict:
        e = ev.make_event(etype, self.id, "python-sdk", **fields)
        try:
            self.sink.emit(e)
        except Exception as exc:  # tracing never breaks the traced program
            import sys

            sys.stderr.write(f"agent-strace: could not record an event: {exc}\n")
        return e

    def __enter__(self) -> "Session":
        self._token = _current.set(self)
        import os

        # the folder the agent runs in: where `grade` checks its work, how its cassette moves
        self.emit(ev.SESSION_START, name=self.name, data={"name": self.name, "cwd": os.getcwd()})
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        fields = {}
        if exc is not None:
            fields = {"status": ev.ERROR, "error": {"type": exc_type.__name__, "message": str(exc)}}
        self.emit(ev.SESSION_END, name=self.name, **fields)
        _current.reset(self._token)  # type: ignore[arg-type]  # __exit__ follows __enter__, which set the token

    async def __aenter__(self) -> "Session":
        return self.__enter__()

    async def __aexit__(self, *exc) -> None:
        self.__exit__(*exc)


def session(name: str | None = None, session_id: str | None = None, sink=None) -> Session:
    """A context manager (``with`` or ``async with``) that records a session."""
    return Session(name, session_id, sink)


def current() -> Session | None:
    return _current.get()


def _error(exc: BaseException) -> dict:
    err = {"type": type(exc).__name__, "message": str(exc)}
    if type(exc).__module__ != "builtins":
        err["module"] = type(exc).__module__
    return err


def bind_arguments(fn, args, kwargs) -> dict:
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
        return {k: to_json(v) for k, v in bound.arguments.items() if k not in ("self", "cls")}
    except (TypeError, ValueError):
        return {"args": to_json(args), "kwargs": to_json(kwargs)}


def _tracer(kind: str, name: str | None = None, model: str | None = None):
    def decorate(fn):
        label = name or fn.__qualname__

        def start(s: Session, args, kwargs):
            call_id = ev.new_id()[:16]
            inp = bind_arguments(fn, args, kwargs)
            if kind == "tool":
                call = s.emit(ev.TOOL_CALL, tool=label, tool_use_id=call_id, data={"tool_input": inp})
            else:
                call = s.emit(ev.LLM_REQUEST, name=label, model=model or inp.get("model"),
                              data={"function": label, "arguments": inp})
            return call, call_id, time.perf_counter()

        def finish(s: Session, started, result=None, exc=None):
            call, call_id, t0 = started
            ms = round((time.perf_counter() - t0) * 1000, 3)
            if kind == "tool":
                if exc is not None:
                    s.emit(ev.TOOL_ERROR, tool=label, tool_use_id=call_id, duration_ms=ms, status=ev.ERROR,
                           parent=call["id"], error=_error(exc))
                else:
                    s.emit(ev.TOOL_RESULT, tool=label, tool_use_id=call_id, duration_ms=ms, status=ev.OK,
                           parent=call["id"], data={"tool_response": to_json(result)})
            else:
                fields = {"name": label, "model": call.get("model"), "duration_ms": ms, "parent": call["id"]}
                if exc is not None:
                    s.emit(ev.LLM_RESPONSE, status=ev.ERROR, error=_error(exc), **fields)
                else:
                    s.emit(ev.LLM_RESPONSE, status=ev.OK, data={"result": to_json(result)}, **fields)

        def real(args, kwargs):
            return lambda: fn(*args, **kwargs)

        if inspect.isasyncgenfunction(fn):
            @functools.wraps(fn)
            async def agen_wrapper(*args, **kwargs):
                s = _current.get()
                if s is None and not _cassettes:
                    async for item in fn(*args, **kwargs):
                        yield item
                    return
                source = _through_cassette("astream", label, fn, args, kwargs, real(args, kwargs))
                if s is None:
                    async for item in source:
                        yield item
                    return
                started, items = start(s, args, kwargs), []
                try:
                    async for item in source:
                        items.append(item)
                        yield item
                except BaseException as exc:
                    finish(s, started, exc=exc)
                    raise
                finish(s, started, items)
            return agen_wrapper

        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                s = _current.get()
                if s is None and not _cassettes:
                    return (yield from fn(*args, **kwargs))
                source = _through_cassette("stream", label, fn, args, kwargs, real(args, kwargs))
                if s is None:
                    return (yield from source)
                started, items = start(s, args, kwargs), []
                try:
                    for item in source:
                        items.append(item)
                        yield item
                except BaseException as exc:
                    finish(s, started, exc=exc)
                    raise
                finish(s, started, items)
            return gen_wrapper

        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def async_wrapper(*args, **kwargs):
                s = _current.get()
                if s is None and not _cassettes:
                    return await fn(*args, **kwargs)
                if s is None:
                    return await _through_cassette("acall", label, fn, args, kwargs, real(args, kwargs))
                started = start(s, args, kwargs)
                try:
                    result = await _through_cassette("acall", label, fn, args, kwargs, real(args, kwargs))
                except BaseException as exc:
                    finish(s, started, exc=exc)
                    raise
                finish(s, started, result)
                return result
            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            s = _current.get()
            if s is None and not _cassettes:
                return fn(*args, **kwargs)
            if s is None:
                return _through_cassette("call", label, fn, args, kwargs, real(args, kwargs))
            started = start(s, args, kwargs)
            try:
                result = _through_cassette("call", label, fn, args, kwargs, real(args, kwargs))
            except BaseException as exc:
                finish(s, started, exc=exc)
                raise
            finish(s, started, result)
            return result
        return wrapper

    return decorate


def _through_cassette(kind: str, label, fn, args, kwargs, run):
    """Run a traced call through the cassette in use (``kind`` is call, acall,
    stream or astream); without one, just run it."""
    player = _player
    if player is None or not _cassettes:
        return run()
    return getattr(player, kind)(_cassettes[-1], label, fn, args, kwargs, run)


def trace_tool(fn=None, *, name: str | None = None):
    """Record each call of ``fn`` as a tool call and its result or error."""
    return _tracer("tool", name)(fn) if fn is not None else _tracer("tool", name)


def trace_llm(fn=None, *, name: str | None = None, model: str | None = None):
    """Record each call of ``fn`` as an LLM request and response."""
    return _tracer("llm", name, model)(fn) if fn is not None else _tracer("llm", name, model)
