#!/usr/bin/env bash
# Codex CLI, Gemini CLI and OpenCode for the end-to-end tests, in parallel,
# each into .cache/npm-<name> the way tests/support/npm.py installs them (the
# tests install on first use too; this only saves time).  Versions: the ones
# the tests verify (tests/support/{codex,gemini,opencode}_cli.py).
set -uo pipefail
cd "$(dirname "$0")/../.."
command -v npm >/dev/null 2>&1 || { echo "warning: npm not found; Codex/Gemini/OpenCode e2e tests will be skipped" >&2; exit 0; }
install() {  # cache-name spec; the same lock file as tests/support/npm.py
  local dir=".cache/$1" spec="$2"
  mkdir -p "$dir"
  exec {lock}>".cache/.$1.lock"
  command -v flock >/dev/null 2>&1 && flock "$lock"
  [ "$(cat "$dir/specs.txt" 2>/dev/null)" = "$spec" ] && [ -d "$dir/node_modules/.bin" ] && return 0
  if npm install --no-audit --no-fund --prefix "$dir" "$spec" >"$dir/install.log" 2>&1; then
    printf '%s' "$spec" > "$dir/specs.txt"
  else
    echo "warning: could not install $spec (see $dir/install.log)" >&2
  fi
}
install npm-codex "@openai/codex@${AGENT_STRACE_CODEX_VERSION:-0.171.0}" &
install npm-gemini "@google/gemini-cli@${AGENT_STRACE_GEMINI_VERSION:-0.61.0}" &
install npm-opencode "opencode-ai@${AGENT_STRACE_OPENCODE_VERSION:-1.18.33}" &
wait
