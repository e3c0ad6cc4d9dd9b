#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120 again=1
# diag_deadlock: when every green thread waits on something only another
# green thread could end, the shim says so once, naming the threads and
# what they wait for.  tests/helpers/diag_deadlock hangs natively too, so
# it runs only under the shim, with `timeout`.
#  1. mutex: 'locker-a' and 'locker-b' lock m1 and m2 in opposite order,
#     main joins: one report naming both threads and both mutexes (their
#     addresses, printed by the program) and main's join; the program keeps
#     waiting (GREEN_DEADLOCK=report, the default) until timeout kills it.
#  2. GREEN_DEADLOCK=abort: the same report, then a non-zero exit at once.
#  3. GREEN_DEADLOCK=ignore: no report.
#  4. cond / sem: a condition nobody signals, a semaphore nobody posts.
#  5. diag_no_deadlock (waits that a signal handler, a glibc timer thread,
#     a timer or an fd end) with GREEN_DEADLOCK=abort: no report, exit 0.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
PROG=$BUILD/helpers/diag_deadlock
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }

# run NAME MODE ARG: run under the shim for at most 3 s.
run() {
	GREEN_DEADLOCK=$2 timeout 3 env LD_PRELOAD="$LIBGREEN" "$PROG" "$3" \
		> "$tmp/$1.out" 2> "$tmp/$1.err"
	echo $? > "$tmp/$1.rc"
}

# 1
run mutex report mutex
[ "$(cat "$tmp/mutex.rc")" = 124 ] || fail "report mode: the program did not keep waiting (rc $(cat "$tmp/mutex.rc"))"
n=$(grep -c '^libgreen: deadlock' "$tmp/mutex.err")
[ "$n" = 1 ] || fail "expected one deadlock report, found $n"
m1=$(sed -n 's/^m1 //p' "$tmp/mutex.out")
m2=$(sed -n 's/^m2 //p' "$tmp/mutex.out")
[ -n "$m1" ] && [ -n "$m2" ] || fail "the program did not print its mutexes"
grep -q "'locker-a'.*waits for mutex $m2" "$tmp/mutex.err" || fail "locker-a waiting for m2 ($m2) not reported"
grep -q "'locker-b'.*waits for mutex $m1" "$tmp/mutex.err" || fail "locker-b waiting for m1 ($m1) not reported"
grep -q "main thread.*join" "$tmp/mutex.err" || fail "main's join not reported"
echo "--- report:" >&2
cat "$tmp/mutex.err" >&2

# 2
start=$(date +%s%N)
run abort abort mutex
ms=$(( ($(date +%s%N) - start) / 1000000 ))
r=$(cat "$tmp/abort.rc")
[ "$r" != 0 ] && [ "$r" != 124 ] || fail "GREEN_DEADLOCK=abort: rc $r (want non-zero, not a timeout)"
[ "$ms" -lt 2500 ] || fail "GREEN_DEADLOCK=abort took $ms ms"
grep -q "'locker-a'" "$tmp/abort.err" && grep -q "'locker-b'" "$tmp/abort.err" ||
	fail "GREEN_DEADLOCK=abort: no report naming both threads"

# 3
run ignore ignore mutex
[ "$(cat "$tmp/ignore.rc")" = 124 ] || fail "ignore mode: rc $(cat "$tmp/ignore.rc")"
grep -q 'deadlock' "$tmp/ignore.err" && fail "GREEN_DEADLOCK=ignore printed a report"

# 4
run cond abort cond
cv=$(sed -n 's/^cv //p' "$tmp/cond.out")
grep -q "'waiter'.*waits for condition variable $cv" "$tmp/cond.err" ||
	fail "cond: no report of 'waiter' on $cv"
run sem abort sem
s=$(sed -n 's/^sem //p' "$tmp/sem.out")
grep -q "main thread.*waits for semaphore $s" "$tmp/sem.err" ||
	fail "sem: no report of main waiting on $s"

# 5
GREEN_DEADLOCK=abort timeout 30 env LD_PRELOAD="$LIBGREEN" "$BUILD/tests/diag_no_deadlock" \
	> /dev/null 2> "$tmp/no.err" || fail "diag_no_deadlock failed under GREEN_DEADLOCK=abort"
grep -q 'deadlock' "$tmp/no.err" && fail "a false deadlock report: $(cat "$tmp/no.err")"

exit $rc
