#!/usr/bin/env bash
# Install everything the tests need and run the whole suite.
#   - a virtualenv in .venv with agent-strace and its [dev] extra
#   - Node/npm packages the end-to-end tests use (cached in .cache/, git-ignored)
#   - Debian's chromium for the dashboard browser tests (apt, when missing)
# Safe to run on a fresh machine and to re-run (installs are cached).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e '.[dev,otlp,parquet]'

# Real Claude Code for the end-to-end tests (the tests install it on demand too).
CLAUDE_VERSION=${AGENT_STRACE_CLAUDE_VERSION:-2.1.328}
if command -v npm >/dev/null 2>&1; then
  spec="@anthropic-ai/claude-code@$CLAUDE_VERSION"
  if [ "$(cat .cache/npm-claude/specs.txt 2>/dev/null)" != "$spec" ]; then
    mkdir -p .cache/npm-claude
    npm install --no-audit --no-fund --prefix .cache/npm-claude "$spec" >/dev/null
    printf '%s' "$spec" > .cache/npm-claude/specs.txt
  fi
else
  echo "warning: npm not found; end-to-end tests with Claude Code will be skipped" >&2
fi

# Headless Chromium for the browser tests (playwright-core is installed by the tests).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q chromium >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q chromium >/dev/null; } \
    || echo "warning: could not install chromium; browser tests will be skipped" >&2
fi

.venv/bin/ruff check src tests benchmarks
exec .venv/bin/python -m pytest "$@"
