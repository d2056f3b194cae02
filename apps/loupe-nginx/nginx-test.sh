#!/bin/bash
# Loupe's nginx test, made stricter: curl must get Debian's default page from port 80, then a
# 1 s wrk run must report a transfer rate, at least 100 requests, no non-2xx/3xx responses and
# no socket errors. Exit 0: nginx works; 1: it does not; 200: the tools are missing.
set -u
command -v curl >/dev/null && command -v wrk >/dev/null || exit 200

fail() { echo "nginx test: $*" | tr "\n" " "; echo; exit 1; }  # on one line: lupa quotes the last line

page=$(curl -sS --max-time 2 http://localhost:80/index.nginx-debian.html 2>&1) || fail "GET: $page"
grep -q '<h1>Welcome to nginx!</h1>' <<<"$page" || fail "GET: not nginx's default page"

bench=$(timeout 3 wrk -t1 -c8 -d1s http://localhost:80/index.nginx-debian.html 2>&1) \
  || fail "wrk exited $?: $bench"
grep -qP '^Transfer/sec:\s*\d+(?:\.\d+)?[KMG]?B$' <<<"$bench" || fail "wrk: no transfer rate"
requests=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' <<<"$bench")
[ "${requests:-0}" -ge 100 ] || fail "wrk: only ${requests:-0} requests"
grep -q 'Non-2xx or 3xx responses' <<<"$bench" && fail "wrk: $(grep 'Non-2xx' <<<"$bench")"
grep -q 'Socket errors' <<<"$bench" && fail "wrk: $(grep 'Socket errors' <<<"$bench")"
exit 0
