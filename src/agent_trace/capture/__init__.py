"""Capture sources: each turns foreign input into events for one sink.

* :mod:`.hooks`           agent CLI hook payloads (Claude Code, Codex, Gemini CLI)
* :mod:`.transcript`      Claude Code session transcripts -> LLM turns with usage
* :mod:`.mcp_stdio`, :mod:`.mcp_http`, :mod:`.mcp_frames`, :mod:`.mcp_log`
                          MCP traffic through the stdio and HTTP proxies
* :mod:`.llm_wire`, :mod:`.llm_reassemble`
                          LLM API exchanges (proxy and SDK) -> events
* :mod:`.sink`            where every source writes: the store, and a server
                          when ``AGENT_STRACE_ENDPOINT`` is set

Other sources live in their own packages: :mod:`agent_trace.proxy` (the HTTP
forwarder the LLM and MCP proxies run on), :mod:`agent_trace.sdk` (Python
tracing and SDK instrumentation) and :mod:`agent_trace.server` (OTLP in).
"""
