"""Python agent frameworks, traced as agents and tools, with rules.

    from agent_trace.integrations import instrument_openai_agents
    instrument_openai_agents()          # one line; .remove() undoes it

* :func:`instrument_openai_agents`: a trace processor registered through the
  OpenAI Agents SDK's own tracing API (:mod:`.agents_sdk`).
* :func:`instrument_langchain`: a LangChain callback handler, sync and async,
  that LangGraph runs too (:mod:`.langchain_handler`).
* :func:`instrument_pydantic_ai`: Pydantic AI's OpenTelemetry spans received
  in-process (:mod:`.pydantic_ai_spans`).
* :func:`claude_agent_sdk_options`: ``ClaudeAgentOptions`` with our in-process
  hooks merged in (:mod:`.claude_sdk_hooks`).

Every framework's happenings become the one event (:mod:`.recorder`): agent
runs as ``subagent.start``/``subagent.stop`` with their parents, tool calls
with JSON arguments and results or errors, model calls with usage (counted
once with what :func:`agent_trace.sdk.instrument` saw), handoffs and
guardrail results.  Rules answer at each framework's pre-tool point
(:mod:`.rules`).  Capture never breaks the host program: a failure is one
line on stderr.  Each module imports its framework inside functions only;
the frameworks are optional extras.
"""

from __future__ import annotations

from .rules import ToolDenied


def instrument_openai_agents(**options):
    """Record every OpenAI Agents SDK run (see :mod:`.agents_sdk`)."""
    from .agents_sdk import instrument

    return instrument(**options)


def instrument_langchain(**options):
    """Record every LangChain / LangGraph run (see :mod:`.langchain_handler`)."""
    from .langchain_handler import instrument

    return instrument(**options)


def instrument_pydantic_ai(**options):
    """Record every Pydantic AI agent run (see :mod:`.pydantic_ai_spans`)."""
    from .pydantic_ai_spans import instrument

    return instrument(**options)


def claude_agent_sdk_options(**options):
    """``ClaudeAgentOptions(**options)`` with our hooks merged in (see :mod:`.claude_sdk_hooks`)."""
    from .claude_sdk_hooks import options_with_hooks

    return options_with_hooks(**options)


__all__ = ["ToolDenied", "claude_agent_sdk_options", "instrument_langchain", "instrument_openai_agents",
           "instrument_pydantic_ai"]
