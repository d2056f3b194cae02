#!/usr/bin/env bash
# Runs the whole test suite from build dir $1 and prints the skipped tests with their reasons.
set -uo pipefail
build=${1:-build}
# Unit tests in parallel; integration tests one at a time (they time real apps and bind ports).
# CTest's LastTest.log holds the tests' own output (a skip's reason is the line before its
# "[  SKIPPED ]"); each run overwrites it, so it is kept after each.
logs=$build/Testing/Temporary
ctest --test-dir "$build" -L unit --output-on-failure -j "$(nproc)" ; rc_unit=$?
cp "$logs/LastTest.log" "$logs/unit-tests.log" 2>/dev/null
ctest --test-dir "$build" -LE unit --output-on-failure ; rc_int=$?
cp "$logs/LastTest.log" "$logs/integration-tests.log" 2>/dev/null
skipped=$(awk '/^\[  SKIPPED \] .* \([0-9]+ ms\)$/ { print "  " $4 ": " previous } { previous = $0 }' \
  "$logs/unit-tests.log" "$logs/integration-tests.log" 2>/dev/null | sort -u)
echo "--- skipped tests and why: $(printf '%s' "$skipped" | grep -c . || true)"
[ -n "$skipped" ] && printf '%s\n' "$skipped"
[ $rc_unit -eq 0 ] && [ $rc_int -eq 0 ]
