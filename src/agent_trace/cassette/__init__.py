"""Cassettes: record an agent's calls once, replay them forever.

    from agent_trace.cassette import use_cassette, record, replay

    with use_cassette("tests/cassettes/weather.json"):   # mode "once"
        run_my_agent()

Intercepted: LLM API calls over httpx/httpx2 (so the openai and anthropic
SDKs, sync, async and streaming), and functions decorated with
``@trace_tool`` / ``@trace_llm``.  See :mod:`.core` for the modes and
``docs/cassettes.md`` for the file format, matching and the replay servers.
"""

from .core import (MODES, Cassette, CassetteDivergence, CassetteError, CassetteUnplayed, record, replay,
                   use_cassette)

__all__ = ["MODES", "Cassette", "CassetteDivergence", "CassetteError", "CassetteUnplayed", "record", "replay",
           "use_cassette"]
