#!/usr/bin/env bash
# The main job on a bundled real program: explore Debian's nginx driven by wrk, on this host.
# Writes Loupe's dyn.csv and lupa's results.json into ./demo-out/ and prints a summary.
#   scripts/demo.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
explore=$build/explorer/lupa-explore
out=$PWD/demo-out
source "$root/bench/nginx_fixture.sh"
nginx_fixture_check
[ -x "$explore" ] || { echo "demo: $explore is missing: run 'make build' first" >&2; exit 1; }

work=$(mktemp -d /tmp/lupa-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
nginx_fixture "$work/nginx" "${PORT:-18090}"

jobs=1
if [ "$(id -u)" = 0 ] && [ "$(nproc)" -ge 2 ]; then
  jobs=2 # parallel probes, each in its own network namespace
fi
echo "demo: exploring /usr/sbin/nginx under wrk (${jobs} parallel probe(s)); results in $out"
start=$(date +%s)
"$explore" --output-csv --jobs "$jobs" --out "$out" -t "$nginx_test" \
  -b /usr/sbin/nginx -- "${nginx_args[@]}" > /dev/null
end=$(date +%s)
cp "$work/nginx/nginx.conf" "$work/nginx/test.sh" "$out/"

# dyn.csv columns: syscall, used, works faked (only), works stubbed (only), works both.
awk -F, -v seconds=$((end - start)) '
  /^#/ || $2 != "Y" { next }
  { used++ }
  $3 == "Y" { fake++ }
  $4 == "Y" { stub++ }
  $5 == "Y" { both++ }
  $3 == "N" && $4 == "N" && $5 == "N" { required++ }
  END {
    printf "demo: %d syscalls used; %d work stubbed only, %d faked only, %d both; %d required (%d s)\n",
           used, stub, fake, both, required, seconds
  }' "$out/dyn.csv"
unstable=$(tr -d '\n ' < "$out/results.json" | grep -o '"unstable":\[[^]]*\]' | sed 's/"unstable"://')
echo "demo: unstable verdicts: ${unstable:-[]}"
echo "demo: files: $out/dyn.csv $out/results.json (and the nginx.conf and test.sh used)"
