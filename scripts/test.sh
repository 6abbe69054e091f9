#!/usr/bin/env bash
# Set up everything the tests need, then lint and run the whole suite (fast tier first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/mypy
# Two tiers, each test in exactly one: the fast tier (no LibreOffice, PostgreSQL, browser or
# real-process tests) first, so a failure there stops the run early, then
# the rest. Each runs in a process group of its own; whatever it leaves behind (a helper
# process of a test stopped half-way) is ended with it, so nothing outlives the run.
FAST="not office and not postgres and not browser and not slow"
tier() {
    setsid .venv/bin/python -m pytest -n 2 "$@" &
    pid=$!
    trap 'kill -INT -- -"$pid" 2>/dev/null' INT TERM
    set +e
    wait "$pid"
    rc=$?
    set -e
    kill -TERM -- -"$pid" 2>/dev/null || true
    trap - INT TERM
    # 5: nothing selected (a path given to run holds tests of one tier only).
    [ "$rc" -eq 5 ] && rc=0
    return "$rc"
}
tier -m "$FAST" "$@"
tier -m "not ($FAST)" "$@"
