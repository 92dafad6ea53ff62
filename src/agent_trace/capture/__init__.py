"""Capture sources: each turns foreign input into events for one sink.

* :mod:`.hooks`       agent CLI hook payloads (Claude Code, Codex, Gemini CLI)
* :mod:`.transcript`  Claude Code session transcripts -> LLM turns with usage
"""
