#!/bin/sh
# nginx works when it serves the page and survives a short wrk run without errors.
curl -sf --max-time 2 http://127.0.0.1:80/index.html | grep -q lupa-ok || exit 1
out=$(wrk -t1 -c2 -d1s http://127.0.0.1:80/index.html 2>&1) || exit 1
echo "$out" | grep -q 'Non-2xx' && exit 1
echo "$out" | grep -Eq 'Requests/sec: +[0-9.]+' || exit 1
exit 0
