#!/bin/bash
# Does haproxy on 127.0.0.1:8080 work? The script starts haproxy's backend (lighttpd on
# 127.0.0.1:8081, stopped again on exit), fetches the page through haproxy with curl (the
# backend's marker line and haproxy's X-Lupa-Proxy header must both be there), then runs wrk
# through haproxy for 1 s with 8 connections: a request rate, at least 100 requests, no
# non-2xx/3xx responses and no socket errors.
# Exit 0: works; 1: does not; 200: the tools or the backend themselves failed.
set -u
proxy=http://127.0.0.1:8080
backend=http://127.0.0.1:8081
for tool in curl wrk lighttpd; do command -v $tool >/dev/null || exit 200; done

fail() { echo "haproxy test: $*" | tr "\n" " "; echo; exit 1; }  # on one line: lupa quotes the last line

lighttpd -D -f /etc/lighttpd/lupa-backend.conf </dev/null >/dev/null 2>&1 &
backend_pid=$!
trap 'kill $backend_pid 2>/dev/null; wait $backend_pid 2>/dev/null' EXIT
for _ in $(seq 50); do
  curl -s --max-time 1 -o /dev/null "$backend/" && break
  kill -0 $backend_pid 2>/dev/null || { echo "haproxy test: the backend did not start"; exit 200; }
  sleep 0.02
done
curl -s --max-time 1 -o /dev/null "$backend/" || { echo "haproxy test: no backend"; exit 200; }

response=$(curl -sS --max-time 2 -i "$proxy/" 2>&1) || fail "GET / through haproxy: $response"
grep -q 'lupa-haproxy-backend: served by lighttpd' <<<"$response" || fail "GET /: not the backend's page"
grep -qi '^x-lupa-proxy: haproxy' <<<"$response" || fail "GET /: no X-Lupa-Proxy header"

out=$(timeout 3 wrk -t1 -c8 -d1s "$proxy/index.html" 2>&1) || fail "wrk exited $?: $out"
grep -qE '^Requests/sec: +[0-9]+(\.[0-9]+)?$' <<<"$out" || fail "wrk: no request rate"
requests=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' <<<"$out")
[ "${requests:-0}" -ge 100 ] || fail "wrk: only ${requests:-0} requests"
grep -q 'Non-2xx or 3xx responses' <<<"$out" && fail "wrk: $(grep 'Non-2xx' <<<"$out")"
grep -q 'Socket errors' <<<"$out" && fail "wrk: $(grep 'Socket errors' <<<"$out")"
exit 0
