#!/usr/bin/env bash
# code-server (a real VS Code, on Node 24 from npm) and playwright-core for the
# VS Code extension and browser tests, cached under .cache/.  The tests install
# them on first use too, but then inside a test's time limit: on a fresh
# machine code-server's native modules alone can take minutes.  Warns, never fails.
cd "$(dirname "$0")/../.." || exit 0
PYTHONPATH=tests .venv/bin/python -m support.code_server || echo "warning: code-server not installed" >&2
