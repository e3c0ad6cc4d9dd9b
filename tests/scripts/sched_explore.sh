#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=240
# sched_explore: seeded schedules find a race and replay it.
#  - tests/progs/sched_race (a check-then-act race between two threads that
#    shows in about 1 of 100 random interleavings): `green explore -n 2000`
#    stops at a failing run and prints the seed and the replay command;
#    `green replay SEED` fails 10 times out of 10; the program itself
#    printed the seed on stderr at its non-zero exit;
#  - the locked version never fails over 2,000 seeds;
#  - the same seed gives the same interleaving (random and pct), and
#    different seeds give different ones; a bad GREEN_SCHED gets one line.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
GREEN=$BUILD/green
PROG=$BUILD/tests/sched_race
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

"$GREEN" explore -n 2000 -- "$PROG" > "$tmp/explore" 2>&1
st=$?
cat "$tmp/explore"
[ $st = 1 ] || fail "explore: exit $st, want 1 (a failing seed found)"
seed=$(sed -n 's/^replay: .* replay \([0-9]*\) -- .*/\1/p' "$tmp/explore")
[ -n "$seed" ] || fail "explore printed no replay command"
grep -q "^green explore: [0-9]* runs, 1 failures, " "$tmp/explore" || fail "no summary line"
if [ -n "$seed" ]; then
	n=0
	for _ in $(seq 10); do
		"$GREEN" replay "$seed" -- "$PROG" > /dev/null 2> "$tmp/err"
		[ $? = 1 ] && n=$((n + 1))
	done
	echo "replay $seed: failed $n of 10"
	[ $n = 10 ] || fail "replay $seed failed $n times of 10"
	grep -q "^libgreen: exit status 1 with GREEN_SCHED=random:$seed " "$tmp/err" ||
		fail "the program did not print its seed: $(cat "$tmp/err")"
fi

"$GREEN" explore -n 2000 -- "$PROG" locked > "$tmp/locked" 2>&1
st=$?
cat "$tmp/locked"
[ $st = 0 ] || fail "locked: exit $st"
grep -q "^green explore: 2000 runs, 0 failures, " "$tmp/locked" || fail "locked: not 2000 clean runs"

# the same seed, the same interleaving; other seeds, others
for sched in random:7 pct:7:3:300; do
	a=$(GREEN_SCHED=$sched LD_PRELOAD=$LIBGREEN "$PROG" trace 2>/dev/null | md5sum)
	b=$(GREEN_SCHED=$sched LD_PRELOAD=$LIBGREEN "$PROG" trace 2>/dev/null | md5sum)
	[ "$a" = "$b" ] || fail "$sched: two runs interleaved differently"
done
distinct=$(for s in 1 2 3 4 5; do GREEN_SCHED=random:$s LD_PRELOAD=$LIBGREEN "$PROG" trace 2>/dev/null | md5sum; done | sort -u | wc -l)
[ "$distinct" -ge 3 ] || fail "5 seeds gave only $distinct interleavings"
# The plain FIFO order is a promise of one hub (green(1): GREEN_HUBS=1 for
# reproducible runs); with two, the idle hub may be handed b while a runs.
fifo=$(GREEN_HUBS=1 LD_PRELOAD=$LIBGREEN "$PROG" trace | head -1)
[ "$fifo" = "$(printf 'a%.0s' $(seq 150))$(printf 'a%.0s' $(seq 150))$(printf 'b%.0s' $(seq 300))" ] ||
	fail "fifo order changed: $fifo"

out=$(GREEN_SCHED=random:x LD_PRELOAD=$LIBGREEN "$PROG" 2>&1 >/dev/null)
[ "$(echo "$out" | grep -c '^libgreen:')" = 1 ] && echo "$out" | grep -q 'GREEN_SCHED=random:x is not valid' ||
	fail "bad GREEN_SCHED: '$out'"
exit $rc
