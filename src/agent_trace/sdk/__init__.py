"""The Python SDK: trace your own agent (see :mod:`.tracing`)."""

from .tracing import current, session, to_json, trace_llm, trace_tool

__all__ = ["current", "session", "to_json", "trace_llm", "trace_tool"]
