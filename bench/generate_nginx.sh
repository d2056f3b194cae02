#!/usr/bin/env bash
# `lupa generate` end to end on the bundled nginx recipe (apps/nginx/wrk.toml) in Docker:
#   loupe-r2   Loupe's way: one bit at a time, one worker, fixed 0.4 s sleep, test always run,
#              2 replicas (Loupe's default)
#   loupe-r1   the same with 1 replica
#   group      lupa's default: screening + group testing over one worker container per core
# All three explore whole syscalls only, as Loupe does (--no-features --no-paths
# --no-collective --no-static); DEPTH=1 adds a run of lupa's default with every part, and
# JOBS="3 4" a run of group with that many worker containers each (more than one per core:
# the issue bounds the default by the cores, these rows show how far the waits would let it go).
# Same image, same discovery backend, same test script. Prints each run's exploration time
# and probe runs, the speed-ups over loupe-r2 and loupe-r1 measured in this one run, and fails
# unless all reached the same verdicts (dyn.csv identical).
#   bench/generate_nginx.sh [BUILD_DIR]     ONLY=accept4,close,... explores a subset
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(cd "${1:-build}" && pwd)
lupa=$build/cli/lupa
[ -x "$lupa" ] || { echo "bench: $lupa is missing: build first" >&2; exit 1; }
work=$(mktemp -d /tmp/lupa-bench-generate.XXXXXX)
trap 'rm -rf "$work"' EXIT
only=()
[ -n "${ONLY:-}" ] && only=(--only-syscalls "$ONLY")
syscall_level=(--no-features --no-paths --no-collective --no-static)

# The image is built (and cached) before anything is timed.
"$lupa" -q discover "$root/apps/nginx/wrk.toml" > /dev/null

declare -A seconds runs
names=()
run() {
  local name=$1; shift
  "$lupa" -q generate "$root/apps/nginx/wrk.toml" --db "$work/$name" "${only[@]}" "$@" > /dev/null
  local dir
  dir=$(echo "$work/$name"/nginx/benchmark-wrk/*)
  seconds[$name]=$(python3 -c "import json,sys; print('%.1f' % json.load(open(sys.argv[1]))['timings']['exploration'])" "$dir/provenance.json")
  runs[$name]=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['stats']['probe_runs'])" "$dir/results.json")
  cp "$dir/data/dyn.csv" "$work/$name.csv"
  names+=("$name")
}
run loupe-r2 --strategy loupe --replicas 2 "${syscall_level[@]}"
run loupe-r1 --strategy loupe --replicas 1 "${syscall_level[@]}"
run group "${syscall_level[@]}"
[ -n "${DEPTH:-}" ] && run group-all
for jobs in ${JOBS:-}; do
  run "group-j$jobs" --jobs "$jobs" "${syscall_level[@]}"
done

used=$(awk -F, '!/^#/ && $2 == "Y"' "$work/group.csv" | wc -l)
echo "lupa generate apps/nginx/wrk.toml: $used syscalls used${ONLY:+, exploring $ONLY}, $(nproc) CPUs, Docker"
printf "  %-10s %6s %9s %13s %13s\n" strategy runs seconds "vs loupe-r2" "vs loupe-r1"
for name in "${names[@]}"; do
  printf "  %-10s %6s %9s %12sx %12sx\n" "$name" "${runs[$name]}" "${seconds[$name]}" \
    "$(awk -v a="${seconds[loupe-r2]}" -v b="${seconds[$name]}" 'BEGIN { printf "%.1f", a / b }')" \
    "$(awk -v a="${seconds[loupe-r1]}" -v b="${seconds[$name]}" 'BEGIN { printf "%.1f", a / b }')"
done
status=0
for name in "${names[@]}"; do
  if ! cmp -s "$work/loupe-r2.csv" "$work/$name.csv"; then
    echo "bench: $name reached other verdicts than loupe-r2:" >&2
    diff "$work/loupe-r2.csv" "$work/$name.csv" | grep '^[<>]' | head -20 >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "  every strategy reached the same verdicts (dyn.csv identical)"
exit $status
