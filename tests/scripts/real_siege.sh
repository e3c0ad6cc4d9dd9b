#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120 again=1
# real_siege: Debian's siege 4.0 (a thread per simulated user; a timer
# thread ends a timed run by cancelling them) against lighttpd on loopback,
# natively and under the shim.
#   - siege -b -c 100 -r 20 http://localhost:PORT/: exactly 2,000
#     transactions, 2,000 successful, 0 failed, availability 100.00, in
#     both runs (each user resolves localhost and connects per request);
#   - siege -b -c 100 -t 3S: 0 failed, availability 100.00, the run ends
#     (by cancelling the users) within 2 to 15 s (siege counts from its own start); siege's OS threads in
#     the middle of it: >= 100 natively, at most 4 under the shim plus one per
#     hub beyond the first.
# siege keeps its configuration in $HOME/.siege: HOME is the scratch dir.
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_siege
rl_need siege lighttpd
MAX_SHIM_THREADS=$(shim_threads 4)

LPORT=$(rl_port)
rl_lighttpd "$LPORT"
URL=http://localhost:$LPORT/index.html

# field FILE NAME: a number from siege's JSON summary.
field() {
	sed -n "s/^[{[:space:]]*\"$2\":[[:space:]]*\([0-9.]*\),\{0,1\}$/\1/p" "$1"
}

for mode in native shim; do
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	out=$DIR/siege.$mode.r.json
	HOME=$DIR timeout 60 "${pre[@]}" siege -b -q -c 100 -r 20 "$URL" \
		> "$out" 2> "$DIR/siege.$mode.r.err" < /dev/null
	rc=$?
	t=$(field "$out" transactions)
	s=$(field "$out" successful_transactions)
	f=$(field "$out" failed_transactions)
	a=$(field "$out" availability)
	echo "$mode -r 20: exit $rc, transactions $t, successful $s, failed $f," \
		"availability $a, $(field "$out" transaction_rate) trans/s"
	echo "-r 20: transactions $t successful $s failed $f availability $a exit $rc" \
		> "$DIR/summary.$mode"
	[ $rc -eq 0 ] && [ "$t" = 2000 ] && [ "$s" = 2000 ] && [ "$f" = 0 ] &&
		[ "$a" = 100.00 ] || {
		fail "$mode siege -r 20: not 2,000 good transactions"
		cat "$out" "$DIR/siege.$mode.r.err"
	}

	out=$DIR/siege.$mode.t.json
	# Native siege can deadlock at its end: it cancels its user threads
	# when the time is up, and one cancelled inside free() leaves glibc's
	# arena lock held, so the others wait on it for ever while exiting
	# (seen once in a suite run; SIGTERM stays pending, as siege blocks it
	# for its sigwait thread).  So: KILL after TERM, and the native run
	# goes again once if it was killed so.
	for try in 1 2; do
		t0=$EPOCHREALTIME
		HOME=$DIR timeout -k 3 30 "${pre[@]}" siege -b -q -c 100 -t 3S "$URL" \
			> "$out" 2> "$DIR/siege.$mode.t.err" < /dev/null &
		SP=$!
		RL_PIDS+=("$SP")
		sleep 1.5
		threads=$(rl_threads "$(pgrep -P "$SP" -x siege || echo "$SP")")
		wait "$SP"
		rc=$?
		took=$(echo "$EPOCHREALTIME - $t0" | bc)
		[ $mode = native ] && [ $try = 1 ] &&
			{ [ $rc = 124 ] || [ $rc = 137 ]; } || break
		echo "note: native siege -t 3S hung at its end (exit $rc, siege's own deadlock); again"
	done
	f=$(field "$out" failed_transactions)
	a=$(field "$out" availability)
	echo "$mode -t 3S: exit $rc after $took s, transactions" \
		"$(field "$out" transactions), failed $f, availability $a," \
		"OS threads $threads"
	[ $rc -eq 0 ] && [ "$f" = 0 ] && [ "$a" = 100.00 ] || {
		fail "$mode siege -t 3S: failures"
		cat "$out" "$DIR/siege.$mode.t.err"
	}
	[ "$(echo "$took >= 2 && $took < 15" | bc)" = 1 ] ||
		fail "$mode siege -t 3S took $took s"
	if [ $mode = native ]; then
		[ "${threads:-0}" -ge 100 ] ||
			fail "native siege: $threads threads for 100 users"
	else
		[ -n "$threads" ] && [ "$threads" -le "$MAX_SHIM_THREADS" ] ||
			fail "shim siege: ${threads:-no} OS threads (want <= $MAX_SHIM_THREADS)"
	fi
done
if ! diff -u "$DIR/summary.native" "$DIR/summary.shim"; then
	fail "siege -r 20: native and shim results differ"
fi
rl_done
