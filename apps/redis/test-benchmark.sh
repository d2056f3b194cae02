#!/bin/bash
# Does redis-server on 127.0.0.1:6379 work? A SET/GET round trip with redis-cli, then a short
# redis-benchmark run (8 commands x 2000 requests, 8 clients) whose every result line must
# report a rate. redis-benchmark waits forever for a server that does not answer, hence the
# timeouts. Exit 0: works; 1: does not; 200: the tools themselves are missing.
set -u
port=6379
command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null || exit 200

fail() { echo "redis test: $*" | tr "\n" " "; echo; exit 1; }  # on one line: lupa quotes the last line
cli() { timeout 2 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>&1; }

pong=$(cli PING) || fail "PING failed: $pong"
[ "$pong" = PONG ] || fail "PING answered '$pong'"
value="lupa-$$-$RANDOM"
[ "$(cli SET lupa:test "$value")" = OK ] || fail "SET failed"
[ "$(cli GET lupa:test)" = "$value" ] || fail "GET did not return what SET stored"

out=$(timeout 3 redis-benchmark -h 127.0.0.1 -p "$port" -n 2000 -c 8 -q \
        -t set,get,incr,lpush,lpop,sadd,hset,lrange_100 2>&1) || fail "redis-benchmark failed: ${out##*$'\r'}"
# Progress lines end in \r; the results are the lines "NAME: 12345.67 requests per second, ...".
out=$(tr '\r' '\n' <<<"$out")
for cmd in SET GET INCR LPUSH LPOP SADD HSET 'LRANGE_100 \(first 100 elements\)'; do
  grep -qE "^ *$cmd: [0-9]+(\.[0-9]+)? requests per second" <<<"$out" || fail "no rate for $cmd"
done
exit 0
