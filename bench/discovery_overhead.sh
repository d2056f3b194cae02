#!/usr/bin/env bash
# Discovery overhead on a syscall-heavy loop: a fixture calling getppid N times (default 1M),
# run natively, under lupa-explore's discovery (seccomp RET_TRACE + one ptrace stop per call)
# and under `strace -f -c`. Prints seconds, ns per call and the ratios to native, all measured
# in this one run, and checks that discovery counted every call.
#   bench/discovery_overhead.sh [BUILD_DIR] [N]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
n=${2:-1000000}
prog=$build/tests/testprogs/lupa_testprog
explore=$build/explorer/lupa-explore
for f in "$prog" "$explore"; do
  [ -x "$f" ] || { echo "bench: $f is missing: build first (cmake --build $build)" >&2; exit 1; }
done

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
per_call() { awk -v s="$1" -v n="$n" 'BEGIN { printf "%.0f", s * 1e9 / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

t0=$(now); "$prog" getppid "$n"; t1=$(now)
native=$(elapsed "$t0" "$t1")

out=$(mktemp)
trap 'rm -f "$out"' EXIT
t0=$(now)
"$explore" -q --discover-only --test-sequential --timeout 600 -b "$prog" -- getppid "$n" > "$out"
t1=$(now)
lupa=$(elapsed "$t0" "$t1")
counted=$(tr -d ' \n' < "$out" | grep -o '"count":[0-9]*,"name":"getppid"' | grep -o '[0-9]*' || true)

strace_s=n/a
if command -v strace > /dev/null; then
  t0=$(now); strace -f -c -o /dev/null "$prog" getppid "$n"; t1=$(now)
  strace_s=$(elapsed "$t0" "$t1")
fi

echo "discovery overhead, $n getppid calls ($(nproc) CPUs, $(uname -r))"
printf "  %-28s %9s s %8s ns/call %8s\n" "native" "$native" "$(per_call "$native")" "1.0x"
printf "  %-28s %9s s %8s ns/call %7sx\n" "lupa-explore --discover-only" "$lupa" \
  "$(per_call "$lupa")" "$(ratio "$lupa" "$native")"
if [ "$strace_s" != n/a ]; then
  printf "  %-28s %9s s %8s ns/call %7sx\n" "strace -f -c" "$strace_s" "$(per_call "$strace_s")" \
    "$(ratio "$strace_s" "$native")"
  echo "  lupa discovery vs strace: $(ratio "$strace_s" "$lupa")x faster"
fi
echo "  getppid calls counted by discovery: ${counted:-missing} (expected $n)"
[ "${counted:-}" = "$n" ] || { echo "bench: discovery miscounted" >&2; exit 1; }
