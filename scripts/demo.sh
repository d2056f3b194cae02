#!/usr/bin/env bash
# lupa's main job on bundled real apps, from nothing: make the base image (mmdebstrap, once),
# build the apps' images, explore Debian's nginx under wrk and redis under redis-benchmark in
# Docker containers, commit both runs into a fresh git results database, then regenerate the
# plots and the HTML report from it. Everything lands in ./demo-out/.
#   scripts/demo.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
lupa=$build/cli/lupa
[ -x "$lupa" ] || { echo "demo: $lupa is missing: run 'make build' first" >&2; exit 1; }
out=$PWD/demo-out
rm -rf "$out"
mkdir -p "$out"
db=$out/lupadb

start=$(date +%s)
for recipe in nginx/wrk.toml redis/redis-benchmark.toml; do
  echo "demo: lupa generate apps/$recipe --db $db"
  "$lupa" generate "$root/apps/$recipe" --db "$db" > "$out/$(dirname "$recipe").txt"
done
echo "demo: lupa plots and lupa report from $db"
"$lupa" -q plots --db "$db" -o "$out/plots" -a '*' -w bench
"$lupa" -q report --db "$db" -o "$out/report" > /dev/null
end=$(date +%s)

echo
"$lupa" search --db "$db" -a '*' -w bench
echo
git -C "$db" log --format='demo: commit %h %s' | cat
echo "demo: done in $((end - start)) s"
echo "demo: verdicts: $out/nginx.txt $out/redis.txt"
echo "demo: database: $db (a git repository: git -C $db log --stat)"
echo "demo: plots:    $out/plots/  report: $out/report/index.html"
