#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=90 again=1
# real_wrk: Debian's wrk 4.1 as a client (4 threads, each its own epoll
# event loop over 25 connections) natively and under the shim, against a
# native lighttpd on loopback, 2 s per run:
#   - requests done, no socket errors (connect, read, write, timeout) and
#     no non-2xx responses, in both runs;
#   - the shim run does at least a tenth of the native run's requests (a
#     hub that blocked in one thread's epoll_wait would starve the other
#     three: then only one thread's 25 connections would move, or none);
#   - wrk's OS threads under the shim at most 3 plus one per hub beyond
#     the first (5 natively).
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_wrk
rl_need wrk lighttpd

LPORT=$(rl_port)
rl_lighttpd "$LPORT"
declare -A REQS
MAX_SHIM_THREADS=$(shim_threads 3)

for mode in native shim; do
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	"${pre[@]}" timeout 30 wrk -t 4 -c 100 -d 2s \
		"http://127.0.0.1:$LPORT/small.txt" > "$DIR/wrk.$mode.txt" 2>&1 &
	wp=$!
	sleep 1
	threads=$(rl_threads "$(pgrep -P "$wp" -x wrk)")
	wait "$wp" || fail "$mode: wrk exited $?"
	sed "s/^/$mode: /" "$DIR/wrk.$mode.txt"
	echo "$mode: OS threads of wrk: ${threads:-?}"
	REQS[$mode]=$(awk '/requests in/ { print $1 }' "$DIR/wrk.$mode.txt")
	[ "${REQS[$mode]:-0}" -gt 0 ] || fail "$mode: no requests"
	grep -q 'Socket errors' "$DIR/wrk.$mode.txt" && fail "$mode: socket errors"
	grep -q 'Non-2xx' "$DIR/wrk.$mode.txt" && fail "$mode: non-2xx responses"
	if [ $mode = shim ] && [ -n "$threads" ]; then
		[ "$threads" -le "$MAX_SHIM_THREADS" ] ||
			fail "shim: wrk has $threads OS threads (want <= $MAX_SHIM_THREADS)"
	fi
done
[ "${REQS[shim]:-0}" -ge $((${REQS[native]:-0} / 10)) ] ||
	fail "the shim run did ${REQS[shim]:-0} requests, natively ${REQS[native]:-0}"
rl_done
