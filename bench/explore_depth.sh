#!/usr/bin/env bash
# Exploration in depth of Debian's nginx under wrk: everything lupa-explore does by default
# (discovery, static analysis, syscalls, sub-features, pseudo-files, the collective check), with
# the time of each part, the probe runs of each, what was found and explored, and whether the
# collective check held. Then (unless CHECK=0) the sub-features and pseudo-files once more, one
# at a time (Loupe's strategy with readiness detection), which must give the same verdicts.
#   bench/explore_depth.sh [BUILD_DIR]       JOBS=1 for one probe at a time (default 2 as root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
explore=$build/explorer/lupa-explore
port=${PORT:-18092}
source "$here/nginx_fixture.sh"
nginx_fixture_check
[ -x "$explore" ] || { echo "bench: $explore is missing: build first" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench: python3 reads the results" >&2; exit 1; }

work=$(mktemp -d /tmp/lupa-bench-depth.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
nginx_fixture "$work/nginx" "$port"
# Every probe in its own network namespace when possible (a faked SO_REUSEADDR works on a fresh
# port only), and then two at a time.
parallel=()
if [ "$(id -u)" = 0 ]; then
  parallel=(--isolate-net --jobs "${JOBS:-2}")
fi

# One discovery for both explorations (the same sub-features and counts), timed on its own.
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
start=$(date +%s.%N)
"$explore" -q --discover-only "${parallel[@]:0:1}" -t "$nginx_test" -b /usr/sbin/nginx -- \
  "${nginx_args[@]}" > "$work/discovery.json"
discovered=$(date +%s.%N)
"$explore" -q --output-csv --out "$work/all" --discovery "$work/discovery.json" "${parallel[@]}" \
  -t "$nginx_test" -b /usr/sbin/nginx -- "${nginx_args[@]}" > /dev/null
end=$(date +%s.%N)

echo "nginx + wrk, explored in depth (${parallel[*]:-one probe at a time}; $(nproc) CPUs):" \
  "$(seconds "$start" "$end") s"
python3 - "$work/all/results.json" "$(seconds "$start" "$discovered")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["stats"]["step_seconds"]["discovery"] = float(sys.argv[2])  # the --discover-only run
s = r["stats"]
steps = s["step_seconds"]
runs = s["runs"]
def part_runs(prefix):
    return sum(v for k, v in runs.items() if k.startswith(prefix + "-"))
syscall_runs = sum(v for k, v in runs.items() if k in ("screen", "single", "group"))
def verdict_counts(items, a, b):
    tested = [i for i in items if i[a]["verdict"] != "untested" or i[b]["verdict"] != "untested"]
    return len(tested)
features = r["features"]
paths = r["paths"]
static = r["static_syscalls"] or []
used = [x["nr"] for x in r["syscalls"]]
required = [x["nr"] for x in r["syscalls"]
            if x["stub"]["verdict"] == "fails" and x["fake"]["verdict"] == "fails"]
print(f"  found: {len(used)} syscalls, {len(features)} sub-features "
      f"({len(set(f['syscall'] for f in features))} syscalls), {len(paths)} pseudo-files")
print(f"  explored: {verdict_counts(features, 'stub', 'fake')} sub-features, "
      f"{verdict_counts(paths, 'enoent', 'empty')} pseudo-files")
print(f"  {'part':<14} {'seconds':>8} {'runs':>6}  (discovery: --discover-only, traced)")
rows = [("baseline", steps.get("baseline", 0), runs.get("baseline", 0)),
        ("discovery", steps.get("discovery", 0), 0),
        ("static", steps.get("static", 0), 0),
        ("syscalls", steps.get("syscalls", 0), syscall_runs),
        ("sub-features", steps.get("sub-features", 0), part_runs("sub-features")),
        ("pseudo-files", steps.get("pseudo-files", 0), part_runs("pseudo-files")),
        ("collective", steps.get("collective", 0), runs.get("collective", 0)),
        ("total", steps.get("total", 0), s["probe_runs"])]
for name, sec, n in rows:
    print(f"  {name:<14} {sec:8.1f} {n:6d}")
print(f"  static {len(static)} / used {len(used)} / required {len(required)}; "
      f"reachable but never exercised: {len(set(static) - set(used))}, "
      f"used but not found statically: {len(set(used) - set(static))}")
c = r["collective"]
held = c["ran"] and not c["conflicts"] and c["final_works"] is not False
print(f"  collective check: all stubs {c['all_stubs_work']}, all fakes {c['all_fakes_work']}, "
      f"both {c['stubs_and_fakes_work']}; {len(c['conflicts'])} conflicts; "
      f"{'held' if held else 'did not hold'}")
PY

status=0
if [ "${CHECK:-1}" != 0 ]; then
  "$explore" -q --output-csv --out "$work/one" --discovery "$work/discovery.json" \
    --no-syscalls --no-collective --no-static --strategy loupe --readiness detect \
    "${parallel[@]:0:1}" -t "$nginx_test" \
    -b /usr/sbin/nginx -- "${nginx_args[@]}" > /dev/null
  for file in features.csv pseudo_files.csv; do
    if ! cmp -s "$work/all/$file" "$work/one/$file"; then
      echo "  DIFFERENT VERDICTS in $file: group vs one at a time:" >&2
      diff "$work/one/$file" "$work/all/$file" >&2 || true
      status=1
    fi
  done
  one=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['stats']['step_seconds']['exploration'])" "$work/one/results.json")
  [ $status = 0 ] && printf "  one at a time: same sub-feature and pseudo-file verdicts (%.1f s)\n" "$one"
fi
exit $status
