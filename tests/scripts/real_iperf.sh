#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=90 again=1
# real_iperf: Debian's iperf 2.1 (a thread per connection on both sides, a
# reporter thread, timed by its own threads) on loopback, both sides native,
# then both sides under the shim:
#   iperf -s -B 127.0.0.1 -p PORT   /   iperf -c 127.0.0.1 -p PORT -P 20 -t 2
# Each run: the client exits 0 after 2 to 10 s and reports 20 streams, each
# with a transfer, and a [SUM]; the server reports 20 connections and a
# [SUM]; the server keeps running.  OS threads in the middle of the run:
# >= 20 on each side natively, at most 4 on each side under the shim
# plus one per hub beyond the first (shim_threads, lib/witness.sh).
# Throughputs are printed for the record, not compared.
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_iperf
rl_need iperf
P=20
MAX_SHIM_THREADS=$(shim_threads 4)

for mode in native shim; do
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	PORT=$(rl_port)
	rl_start "server.$mode" "${pre[@]}" iperf -s -B 127.0.0.1 -p "$PORT"
	SP=$RL_PID
	# Not rl_wait_port: its probe would be a 21st connection.
	for ((i = 0; i < 200; i++)); do
		grep -q 'Server listening' "$DIR/server.$mode.log" && break
		sleep 0.05
	done
	grep -q 'Server listening' "$DIR/server.$mode.log" ||
		{ fail "$mode: iperf -s did not start"; continue; }
	t0=$EPOCHREALTIME
	timeout 30 "${pre[@]}" iperf -c 127.0.0.1 -p "$PORT" -P $P -t 2 \
		> "$DIR/client.$mode.log" 2>&1 < /dev/null &
	CP=$!
	RL_PIDS+=("$CP")
	sleep 1
	ct=$(rl_threads "$(pgrep -P "$CP" -x iperf || echo "$CP")")
	st=$(rl_threads "$SP")
	wait "$CP"
	rc=$?
	took=$(echo "$EPOCHREALTIME - $t0" | bc)
	sleep 0.5	# the server prints its [SUM] after the last stream ends
	c=$DIR/client.$mode.log
	s=$DIR/server.$mode.log
	cstreams=$(grep -cE '^\[ *[0-9]+\] 0\.0+-[0-9.]+ sec +[0-9.]+ [KMG]Bytes' "$c")
	cconn=$(grep -c 'connected with 127.0.0.1' "$c")
	sconn=$(grep -c 'connected with 127.0.0.1' "$s")
	csum=$(grep -E '^\[SUM\]' "$c" | tail -1)
	ssum=$(grep -E '^\[SUM\]' "$s" | tail -1)
	echo "$mode: client exit $rc after $took s; streams $cstreams, connected" \
		"$cconn/$sconn; OS threads client $ct, server $st"
	echo "$mode client: $csum"
	echo "$mode server: $ssum"
	[ $rc -eq 0 ] || { fail "$mode: iperf -c exited $rc"; cat "$c"; }
	[ "$(echo "$took >= 2 && $took < 10" | bc)" = 1 ] ||
		fail "$mode: a 2 s run took $took s"
	[ "$cstreams" -eq $P ] && [ "$cconn" -eq $P ] && [ "$sconn" -eq $P ] ||
		fail "$mode: want $P streams and connections on both sides"
	[[ $csum =~ [0-9.]+\ [KMG]Bytes ]] || fail "$mode: no client [SUM]"
	[[ $ssum =~ [0-9.]+\ [KMG]Bytes ]] || fail "$mode: no server [SUM]"
	kill -0 "$SP" 2>/dev/null || fail "$mode: the server died"
	if [ $mode = native ]; then
		[ "${ct:-0}" -ge $P ] && [ "${st:-0}" -ge $P ] ||
			fail "native: $ct/$st threads for $P streams"
	else
		[ -n "$ct" ] && [ -n "$st" ] && [ "$ct" -le "$MAX_SHIM_THREADS" ] &&
			[ "$st" -le "$MAX_SHIM_THREADS" ] ||
			fail "shim: OS threads client ${ct:-?}, server ${st:-?} (want <= $MAX_SHIM_THREADS)"
	fi
	rl_stop "$SP"
done
rl_done
