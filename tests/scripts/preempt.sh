#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=300
# preempt: time-slice preemption (GREEN_PREEMPT_MS, runtime/core/preempt.c).
#  1. preempt_libc_spin: 8 threads in malloc/snprintf/qsort for 8 s; stdout
#     as natively, and GREEN_STATS shows preemptions and deferrals for
#     PCs in libc (it is never preempted there).
#  2. GREEN_PREEMPT_MS=0 is today's behaviour: the same run works, the
#     stats say preemption is off, and preempt_spin's sleeper starves.
#  3. preempt_sig_taken under GREEN_STATS: the program takes SIGRTMAX-2,
#     preemption moves to another signal (62 -> 61).
#  4. A bad GREEN_PREEMPT_MS / GREEN_PREEMPT_SIG gets one line on stderr.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
T=$BUILD/tests
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }
stat_of() { sed -n "s/^$1 *\([0-9]*\).*/\1/p" "$2" | head -1; }

# 1
timeout 60 "$T/preempt_libc_spin" 8000 > "$tmp/native.out" 2>/dev/null || fail "native run"
GREEN_STATS=1 timeout 60 env LD_PRELOAD="$LIBGREEN" "$T/preempt_libc_spin" 8000 \
	> "$tmp/1.out" 2> "$tmp/1.err" || fail "shim run: $(tail -3 "$tmp/1.err")"
cmp -s "$tmp/native.out" "$tmp/1.out" || fail "stdout differs from native"
grep '^preempt' "$tmp/1.err" >&2
p=$(stat_of preemptions "$tmp/1.err")
[ "${p:-0}" -gt 10 ] || fail "expected preemptions, found '${p:-}'"
grep '^preemptions deferred' "$tmp/1.err" | grep -q 'libc [1-9]' ||
	fail "no preemption deferred for a PC in libc"
# every thread had turns: none was starved behind the others
n=$(grep -c '^thread [0-9]: [1-9][0-9]* rounds' "$tmp/1.err")
[ "$n" = 8 ] || fail "only $n of 8 threads did any rounds"

# 2
GREEN_PREEMPT_MS=0 GREEN_STATS=1 timeout 60 env LD_PRELOAD="$LIBGREEN" \
	"$T/preempt_libc_spin" 2000 > "$tmp/2.out" 2> "$tmp/2.err" || fail "shim run, preemption off"
grep -q '^preemptions  *off' "$tmp/2.err" || fail "stats do not say preemption is off"
GREEN_PREEMPT_MS=0 timeout 60 env LD_PRELOAD="$LIBGREEN" "$T/preempt_spin" 500 30 \
	> /dev/null 2> "$tmp/2b.err" && fail "preempt_spin passed without preemption"
grep -q 'starved' "$tmp/2b.err" || fail "no starvation without preemption: $(cat "$tmp/2b.err")"

# 3
GREEN_STATS=1 timeout 60 env LD_PRELOAD="$LIBGREEN" "$T/preempt_sig_taken" \
	> "$tmp/3.out" 2> "$tmp/3.err" || fail "preempt_sig_taken: $(cat "$tmp/3.err")"
grep -q '^preemptions .*signal 61)' "$tmp/3.err" ||
	fail "preemption did not move to signal 61: $(grep '^preempt' "$tmp/3.err")"

# 4
GREEN_PREEMPT_MS=abc timeout 60 env LD_PRELOAD="$LIBGREEN" /bin/true 2> "$tmp/4.err"
grep -q 'GREEN_PREEMPT_MS=abc is not valid' "$tmp/4.err" || fail "no line for a bad GREEN_PREEMPT_MS"
GREEN_PREEMPT_SIG=63 timeout 60 env LD_PRELOAD="$LIBGREEN" /bin/true 2> "$tmp/4b.err"
grep -q 'GREEN_PREEMPT_SIG=63 is not valid' "$tmp/4b.err" || fail "no line for GREEN_PREEMPT_SIG=63"

exit $rc
