#!/bin/bash
# Does lighttpd on 127.0.0.1:8080 work? curl fetches the index page (its marker line must be
# there) and a 256 KiB file (every byte must arrive), then wrk runs 1 s with 8 connections:
# its report must show a request rate, at least 100 requests, no non-2xx/3xx responses and no
# socket errors. Exit 0: works; 1: does not; 200: the tools themselves are missing.
set -u
base=http://127.0.0.1:8080
command -v curl >/dev/null && command -v wrk >/dev/null || exit 200

fail() { echo "lighttpd test: $*" | tr "\n" " "; echo; exit 1; }  # on one line: lupa quotes the last line

page=$(curl -sS --max-time 2 "$base/" 2>&1) || fail "GET /: $page"
grep -q 'lupa-lighttpd-index: served by lighttpd' <<<"$page" || fail "GET /: not the index page"
got=$(curl -sS --max-time 2 -o /dev/null -w '%{http_code} %{size_download}' "$base/big.txt" 2>&1) \
  || fail "GET /big.txt: $got"
[ "$got" = "200 262144" ] || fail "GET /big.txt: status and size '$got', not '200 262144'"

out=$(timeout 3 wrk -t1 -c8 -d1s "$base/index.html" 2>&1) || fail "wrk exited $?: $out"
grep -qE '^Requests/sec: +[0-9]+(\.[0-9]+)?$' <<<"$out" || fail "wrk: no request rate"
requests=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' <<<"$out")
[ "${requests:-0}" -ge 100 ] || fail "wrk: only ${requests:-0} requests"
grep -q 'Non-2xx or 3xx responses' <<<"$out" && fail "wrk: $(grep 'Non-2xx' <<<"$out")"
grep -q 'Socket errors' <<<"$out" && fail "wrk: $(grep 'Socket errors' <<<"$out")"
exit 0
