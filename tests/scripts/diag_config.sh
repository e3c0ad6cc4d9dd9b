#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120 again=1
# diag_config: every GREEN_ variable is checked.  A bad value prints one
# line naming the variable, the value and what is accepted; the default is
# used and the program runs as usual (same stdout as natively, exit 0).
# Good values print nothing.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
PROG=$BUILD/tests/diag_stats_threads
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }

timeout 60 "$PROG" 20 > "$tmp/native.out" || fail "native run"

bad=(
	GREEN_THREADS=bogus
	GREEN_STACK_SIZE=huge GREEN_STACK_SIZE=8X GREEN_STACK_SIZE=1K
	GREEN_STACK_SIZE=17179869185G GREEN_STACK_SIZE=-8M
	GREEN_RESOLVER=dnsmasq
	GREEN_DNS_SERVERS=not-an-address GREEN_DNS_SERVERS=127.0.0.1:99999
	GREEN_POOL_SIZE=0 GREEN_POOL_SIZE=many GREEN_POOL_SIZE=2000
	GREEN_FILEIO=async
	GREEN_BACKEND=kqueue GREEN_BACKEND=iouring
	GREEN_INHERIT=yes
	GREEN_STATS=yes
	GREEN_WATCHDOG_MS=-1 GREEN_WATCHDOG_MS=10s
	GREEN_DEADLOCK=panic
	GREEN_TLS=fast
	GREEN_CLOCK=fake GREEN_CLOCK_IDLE_MS=soon GREEN_CLOCK_IDLE_MS=-5
)
for kv in "${bad[@]}"; do
	timeout 60 env "$kv" LD_PRELOAD="$LIBGREEN" "$PROG" 20 > "$tmp/out" 2> "$tmp/err" ||
		fail "$kv: the program did not run to the end"
	cmp -s "$tmp/native.out" "$tmp/out" || fail "$kv: stdout differs from native"
	lines=$(grep -c '^libgreen:' "$tmp/err")
	[ "$lines" = 1 ] || fail "$kv: $lines libgreen lines, want 1: $(cat "$tmp/err")"
	grep -qF "libgreen: $kv is not valid (accepted: " "$tmp/err" ||
		fail "$kv: the line does not name the variable, value and accepted values: $(cat "$tmp/err")"
done
echo "--- e.g.:" >&2
timeout 60 env GREEN_THREADS=bogus LD_PRELOAD="$LIBGREEN" "$PROG" 20 2>&1 >/dev/null | head -1 >&2

good=(
	GREEN_THREADS=green GREEN_THREADS=native GREEN_STACK_SIZE=64K
	GREEN_STACK_SIZE=1048576 GREEN_RESOLVER=ares GREEN_RESOLVER=thread
	GREEN_RESOLVER=block "GREEN_DNS_SERVERS=127.0.0.1:5353,[::1]:53"
	GREEN_DNS_SERVERS=::1 GREEN_POOL_SIZE=8 GREEN_FILEIO=inline
	GREEN_FILEIO=pool GREEN_FILEIO=nowait GREEN_BACKEND=epoll
	GREEN_BACKEND=poll GREEN_BACKEND=select GREEN_INHERIT=0
	GREEN_INHERIT=1 GREEN_STATS=0 GREEN_WATCHDOG_MS=0
	GREEN_WATCHDOG_MS=60000 GREEN_DEADLOCK=report GREEN_DEADLOCK=abort
	GREEN_DEADLOCK=ignore GREEN_CLOCK=real GREEN_CLOCK=virtual
	GREEN_CLOCK_IDLE_MS=0 GREEN_CLOCK_IDLE_MS=200
)
for kv in "${good[@]}"; do
	timeout 60 env "$kv" LD_PRELOAD="$LIBGREEN" "$PROG" 20 > "$tmp/out" 2> "$tmp/err" ||
		fail "$kv: the program failed"
	cmp -s "$tmp/native.out" "$tmp/out" || fail "$kv: stdout differs from native"
	grep -q '^libgreen:' "$tmp/err" && fail "$kv: a message for a good value: $(cat "$tmp/err")"
done
# The virtual clock needs green threads: with native ones, one clear line.
timeout 60 env GREEN_THREADS=native GREEN_CLOCK=virtual LD_PRELOAD="$LIBGREEN" \
	"$PROG" 20 > "$tmp/out" 2> "$tmp/err" || fail "native + virtual clock: the program failed"
cmp -s "$tmp/native.out" "$tmp/out" || fail "native + virtual clock: stdout differs"
lines=$(grep -c '^libgreen:' "$tmp/err")
[ "$lines" = 1 ] && grep -q 'GREEN_CLOCK=virtual.*GREEN_THREADS=native' "$tmp/err" ||
	fail "native + virtual clock: want one line naming both: $(cat "$tmp/err")"
exit $rc
