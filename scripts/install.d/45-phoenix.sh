#!/usr/bin/env bash
# Arize Phoenix, the real OTLP receiver of the export tests, in its own cached
# virtualenv under .cache/phoenix-venv (the tests install it on first use
# too, but then inside a test's time limit).  Warns, never fails.
cd "$(dirname "$0")/../.." || exit 0
PYTHONPATH=tests .venv/bin/python -m support.phoenix || echo "warning: Arize Phoenix not installed" >&2
