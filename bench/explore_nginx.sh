#!/usr/bin/env bash
# Exploration wall time on nginx under wrk, same discovery for every strategy:
#   loupe         Loupe's way: one bit at a time, fixed 0.4 s sleep, test run even if the app died
#   loupe+ready   one bit at a time, with readiness detection and fail-fast
#   group         lupa's default: screening + group testing (one worker)
#   group -j2     the same with 2 parallel probes, each in its own network namespace (root)
# Prints runs, seconds and speed-ups over loupe measured in this one run, and fails unless
# every strategy reached the same verdicts (dyn.csv identical).
#   bench/explore_nginx.sh [BUILD_DIR]      ONLY=accept4,close,... explores a subset
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
explore=$build/explorer/lupa-explore
port=${PORT:-18091}
source "$here/nginx_fixture.sh"
nginx_fixture_check
[ -x "$explore" ] || { echo "bench: $explore is missing: build first" >&2; exit 1; }

work=$(mktemp -d /tmp/lupa-bench-nginx.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
nginx_fixture "$work/nginx" "$port"
only=()
[ -n "${ONLY:-}" ] && only=(--only-syscalls "$ONLY")
# Every probe in a fresh network namespace when possible, for every strategy alike: no probe
# then sees the TIME_WAIT sockets of the previous ones (a faked setsockopt(SO_REUSEADDR) works
# on a fresh port, not on a used one), and parallel probes cannot clash.
isolate=()
if [ "$(id -u)" = 0 ]; then
  isolate=(--isolate-net)
fi

# One discovery for all, so every strategy explores exactly the same syscalls.
"$explore" -q --discover-only "${isolate[@]}" -t "$nginx_test" -b /usr/sbin/nginx -- \
  "${nginx_args[@]}" > "$work/discovery.json"
used=$(grep -c '"name"' "$work/discovery.json")

declare -A seconds runs
names=()
run() {
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$explore" -q --output-csv --out "$work/$name" --discovery "$work/discovery.json" "${only[@]}" \
    "${isolate[@]}" "$@" -t "$nginx_test" -b /usr/sbin/nginx -- "${nginx_args[@]}" > /dev/null
  end=$(date +%s.%N)
  seconds[$name]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  runs[$name]=$(grep -o '"probe_runs": [0-9]*' "$work/$name/results.json" | grep -o '[0-9]*$')
  names+=("$name")
}
run loupe --strategy loupe
run loupe+ready --strategy loupe --readiness detect
run group
if [ "$(id -u)" = 0 ] && [ "$(nproc)" -ge 2 ]; then
  run "group-j2" --jobs 2
fi

echo "nginx + wrk exploration: $used syscalls used${ONLY:+, exploring $ONLY} ($(nproc) CPUs${isolate:+, probes in their own network namespaces})"
printf "  %-12s %6s %9s %9s\n" strategy runs seconds speed-up
for name in "${names[@]}"; do
  printf "  %-12s %6s %9s %8sx\n" "$name" "${runs[$name]}" "${seconds[$name]}" \
    "$(awk -v a="${seconds[loupe]}" -v b="${seconds[$name]}" 'BEGIN { printf "%.2f", a / b }')"
done
status=0
for name in "${names[@]}"; do
  if ! cmp -s "$work/loupe/dyn.csv" "$work/$name/dyn.csv"; then
    echo "  DIFFERENT VERDICTS: $name vs loupe:" >&2
    diff "$work/loupe/dyn.csv" "$work/$name/dyn.csv" >&2 || true
    status=1
  fi
  grep -h '"unstable"' "$work/$name/results.json" | sed "s/^ */  $name: /"
done
[ $status = 0 ] && echo "  same verdicts (dyn.csv identical) for every strategy"
exit $status
