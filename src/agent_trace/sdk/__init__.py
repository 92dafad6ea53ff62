"""The Python SDK: trace your own agent (:mod:`.tracing`), record the
openai/anthropic SDKs' calls (:mod:`.instrument`), and record/replay
cassettes (:mod:`agent_trace.cassette`)."""

from .instrument import instrument, uninstrument
from .tracing import current, session, to_json, trace_llm, trace_tool

__all__ = ["current", "instrument", "session", "to_json", "trace_llm", "trace_tool", "uninstrument"]
