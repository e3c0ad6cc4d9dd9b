#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120 again=1
# diag_watchdog: GREEN_WATCHDOG_MS=100 reports a green thread that holds
# its hub, once per episode, naming it.
#  1. diag_watchdog_spin 300 300: "spinner" computes 300 ms without a
#     blocking call while three threads sleep: exactly one report, naming
#     'spinner' and saying it runs its own code; stdout as natively.
#  2. diag_watchdog_spin 300 5: the same work in 5 ms slices with
#     sched_yield between them: no report.
#  3. without GREEN_WATCHDOG_MS: no report.
#  Cases 1-3 run with GREEN_PREEMPT_MS=0 (no time slices, as before
#  preemption).
#  4. diag_watchdog_spin 300 300 with preemption on (the default): the
#     spinner is preempted, so it holds its hub for no more than a slice:
#     no report.
#  5. diag_watchdog_spin 300 300 handler, preemption on: the work is in a
#     signal handler, where no thread is preempted: one report, saying so.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
PROG=$BUILD/tests/diag_watchdog_spin
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }

timeout 60 "$PROG" 300 300 > "$tmp/native.out" || fail "native run"

export GREEN_PREEMPT_MS=0

# 1
GREEN_WATCHDOG_MS=100 timeout 60 env LD_PRELOAD="$LIBGREEN" "$PROG" 300 300 \
	> "$tmp/1.out" 2> "$tmp/1.err" || fail "shim run (spin)"
cmp -s "$tmp/native.out" "$tmp/1.out" || fail "stdout differs from native"
n=$(grep -c '^libgreen: watchdog:' "$tmp/1.err")
[ "$n" = 1 ] || fail "expected exactly one watchdog report, found $n"
grep '^libgreen: watchdog:' "$tmp/1.err" | grep -q "'spinner'" ||
	fail "the report does not name 'spinner'"
grep '^libgreen: watchdog:' "$tmp/1.err" | grep -q "running its own code" ||
	fail "the report does not say the thread runs its own code"
echo "--- report:" >&2
cat "$tmp/1.err" >&2

# 2
GREEN_WATCHDOG_MS=100 timeout 60 env LD_PRELOAD="$LIBGREEN" "$PROG" 300 5 \
	> "$tmp/2.out" 2> "$tmp/2.err" || fail "shim run (slices)"
cmp -s "$tmp/native.out" "$tmp/2.out" || fail "stdout differs from native (slices)"
grep -q 'watchdog' "$tmp/2.err" && fail "a report for a thread that yields every 5 ms: $(cat "$tmp/2.err")"

# 3
timeout 60 env LD_PRELOAD="$LIBGREEN" "$PROG" 300 300 > /dev/null 2> "$tmp/3.err" ||
	fail "shim run without the watchdog"
grep -q 'watchdog' "$tmp/3.err" && fail "a report without GREEN_WATCHDOG_MS"

# 4
GREEN_PREEMPT_MS=10 GREEN_WATCHDOG_MS=100 timeout 60 env LD_PRELOAD="$LIBGREEN" "$PROG" 300 300 \
	> "$tmp/4.out" 2> "$tmp/4.err" || fail "shim run with preemption"
cmp -s "$tmp/native.out" "$tmp/4.out" || fail "stdout differs from native (preemption)"
grep -q 'watchdog' "$tmp/4.err" && fail "a report for a thread that is preempted: $(cat "$tmp/4.err")"

# 5
timeout 60 "$PROG" 300 300 handler > "$tmp/native5.out" || fail "native run (handler)"
GREEN_PREEMPT_MS=10 GREEN_WATCHDOG_MS=100 timeout 60 env LD_PRELOAD="$LIBGREEN" "$PROG" 300 300 handler \
	> "$tmp/5.out" 2> "$tmp/5.err" || fail "shim run (handler)"
cmp -s "$tmp/native5.out" "$tmp/5.out" || fail "stdout differs from native (handler)"
n=$(grep -c '^libgreen: watchdog:' "$tmp/5.err")
[ "$n" = 1 ] || fail "handler: expected exactly one watchdog report, found $n"
grep '^libgreen: watchdog:' "$tmp/5.err" | grep -q "could not be preempted: it was in a signal handler" ||
	fail "the report does not say it could not be preempted in a handler: $(cat "$tmp/5.err")"

exit $rc
