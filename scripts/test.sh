#!/usr/bin/env bash
# Set up everything the tests need, then lint and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/mypy
# The suite runs in a process group of its own; whatever it leaves behind (a helper process
# of a test stopped half-way) is ended with it, so nothing outlives the run.
setsid .venv/bin/python -m pytest -n 2 "$@" &
pid=$!
trap 'kill -INT -- -"$pid" 2>/dev/null' INT TERM
set +e
wait "$pid"
rc=$?
kill -TERM -- -"$pid" 2>/dev/null
exit "$rc"
