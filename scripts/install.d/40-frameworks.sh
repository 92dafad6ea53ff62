#!/usr/bin/env bash
# The agent frameworks the integration tests run (OpenAI Agents SDK, Claude
# Agent SDK, LangGraph/LangChain, Pydantic AI), pinned in
# tests/frameworks/requirements.txt, in their own cached virtualenv under
# .cache/ (the tests install it on first use too).  Warns, never fails.
cd "$(dirname "$0")/../.." || exit 0
.venv/bin/python tests/support/frameworks.py || echo "warning: agent frameworks not installed" >&2
