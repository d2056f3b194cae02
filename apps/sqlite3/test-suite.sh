#!/bin/bash
# Did the sqlite3 shell run suite.sql correctly? Its output ($1: what the app printed, stdout
# and stderr) must be exactly expected-output.txt, from the first section to "== done".
# Exit 0: works; 1: does not; 200: the expected output itself is missing.
set -u
expected=$(dirname "$0")/expected-output.txt
[ -r "$expected" ] || exit 200
output=${1:-}
[ -n "$output" ] && [ -f "$output" ] || { echo "sqlite3 suite: no output file '$output'"; exit 1; }
if ! diff -q "$expected" "$output" >/dev/null; then
  echo "sqlite3 suite: unexpected output: $(diff "$expected" "$output" | sed -n 2p)"
  exit 1
fi
exit 0
