#!/usr/bin/env bash
# Install everything the tests need and run the whole suite.
#   - a virtualenv in .venv with agent-strace and its [dev] extra
#   - Node/npm packages the end-to-end tests use (cached in .cache/, git-ignored)
#   - Debian's chromium (browser tests) and libkrb5-dev (code-server), via apt when missing
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

# Headless Chromium for the browser tests (playwright-core is installed by the
# tests), and libkrb5-dev for a native module of code-server (the VS Code test).
APT_NEED=""
[ -x /usr/bin/chromium ] || APT_NEED="$APT_NEED chromium"
[ -e /usr/include/gssapi/gssapi.h ] || [ -e /usr/include/krb5.h ] || APT_NEED="$APT_NEED libkrb5-dev"
if [ -n "$APT_NEED" ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q $APT_NEED >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q $APT_NEED >/dev/null; } \
    || echo "warning: could not install$APT_NEED; browser tests will be skipped" >&2
fi

# Components with their own installer (one file each, run in name order; each
# is idempotent, caches under .cache/ and warns rather than fails when it
# cannot install: the tests that need it then say why they skip).
for installer in scripts/install.d/*.sh; do
  [ -e "$installer" ] || continue
  bash "$installer" || echo "warning: $installer failed" >&2
done

.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
