#!/bin/bash
# Does memcached on 127.0.0.1:11211 work? A store/fetch round trip of a fresh value with
# memccp/memccat, then memcslap (libmemcached-tools) setting, then getting, 2000 keys from each
# of 4 threads. memcslap exits 0 even when it cannot connect, so its report is checked: every
# key done ("Time to set 8000 keys by 4 threads") and no error line.
# Exit 0: works; 1: does not; 200: the tools themselves are missing.
set -u
server=127.0.0.1:11211
for tool in memcping memccp memccat memcslap; do command -v $tool >/dev/null || exit 200; done

fail() { echo "memcached test: $*" | tr "\n" " "; echo; exit 1; }  # on one line: lupa quotes the last line

timeout 2 memcping --servers=$server >/dev/null 2>&1 || fail "memcping: no answer from $server"

dir=$(mktemp -d) || exit 200
trap 'rm -rf "$dir"' EXIT
key=lupa-$$-$RANDOM
value="value of $key"
echo "$value" > "$dir/$key"
(cd "$dir" && timeout 2 memccp --servers=$server "$key") || fail "memccp could not store $key"
got=$(timeout 2 memccat --servers=$server "$key" 2>&1) || fail "memccat could not fetch $key"
[ "$got" = "$value" ] || fail "fetched '$got' instead of '$value'"

for test in set get; do
  out=$(timeout 3 memcslap --servers=$server --concurrency=4 --execute-number=2000 --test=$test 2>&1) \
    || fail "memcslap --test=$test exited $?"
  grep -qiE 'error|fail' <<<"$out" && fail "memcslap --test=$test: $(grep -iE -m1 'error|fail' <<<"$out")"
  grep -qE "^Time to $test +8000 keys by +4 threads:" <<<"$out" \
    || fail "memcslap --test=$test did not do all 8000 keys"
done
exit 0
