#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=150 again=1
# real_redis: Debian's redis-server 7 (jemalloc linked in; background
# threads for lazy free, fsync and close) natively and under the shim on
# loopback, driven by redis-benchmark (native):
#   - redis-benchmark -n 20000 -c 50 -t set,get,incr,lpush,lpop completes
#     every test in both runs;
#   - afterwards counter:__rand_int__ is 20000 (every INCR arrived once),
#     mylist is empty (every LPUSH popped), INFO names jemalloc;
#   - BGSAVE (a fork of the whole server) ends with status ok;
#   - OS threads: redis's 4 or more natively (main and bio), at most 3
#     under the shim (its bio threads are green), plus one per hub beyond
#     the first (shim_threads, tests/scripts/lib/witness.sh).
# Before the shim kept its own memory out of the program's malloc,
# redis-server died at start under the shim (SIGSEGV: jemalloc ->
# pthread_mutex_lock -> the shim's first-use calloc -> jemalloc ...).
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_redis
rl_need redis-server redis-benchmark redis-cli
N=20000
MAX_SHIM_THREADS=$(shim_threads 3)

for mode in native shim; do
	port=$(rl_port)
	mkdir -p "$DIR/$mode"
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	rl_start "redis.$mode" "${pre[@]}" redis-server --port "$port" \
		--bind 127.0.0.1 --save '' --appendonly no --dir "$DIR/$mode" \
		--daemonize no --logfile ''
	RP=$RL_PID
	if ! rl_wait_port "$port"; then
		fail "$mode: redis-server did not start"
		head -20 "$DIR/redis.$mode.log"
		continue
	fi
	cli() { timeout 10 redis-cli -h 127.0.0.1 -p "$port" "$@"; }
	threads=$(rl_threads "$RP")
	timeout 90 redis-benchmark -h 127.0.0.1 -p "$port" -n $N -c 50 \
		-t set,get,incr,lpush,lpop --csv > "$DIR/bench.$mode.csv" 2>&1
	rc=$?
	sed "s/^/$mode: /" "$DIR/bench.$mode.csv"
	[ $rc -eq 0 ] || fail "$mode: redis-benchmark exited $rc"
	for t in SET GET INCR LPUSH LPOP; do
		grep -q "^\"$t\"," "$DIR/bench.$mode.csv" || fail "$mode: no $t result"
	done
	{
		echo "counter: $(cli get counter:__rand_int__)"
		echo "mylist: $(cli llen mylist)"
		echo "allocator: $(cli info memory | tr -d '\r' |
			sed -n 's/^mem_allocator:\(jemalloc\).*/\1/p')"
		cli bgsave > /dev/null
		for ((i = 0; i < 100; i++)); do
			cli info persistence | tr -d '\r' |
				grep -q '^rdb_bgsave_in_progress:0' && break
			sleep 0.1
		done
		echo "bgsave: $(cli info persistence | tr -d '\r' |
			sed -n 's/^rdb_last_bgsave_status://p')"
	} > "$DIR/state.$mode.txt" 2>&1
	sed "s/^/$mode: /" "$DIR/state.$mode.txt"
	echo "$mode: OS threads: $threads"
	if [ $mode = native ]; then
		[ "${threads:-0}" -ge 4 ] ||
			fail "native: ${threads:-no} threads (redis has main + 3 bio)"
	else
		[ -n "$threads" ] && [ "$threads" -ge 1 ] &&
			[ "$threads" -le "$MAX_SHIM_THREADS" ] ||
			fail "shim: ${threads:-no} OS threads (want <= $MAX_SHIM_THREADS)"
	fi
	kill -0 "$RP" 2>/dev/null || fail "$mode: redis-server died"
	rl_stop "$RP"
done

want="counter: $N
mylist: 0
allocator: jemalloc
bgsave: ok"
for mode in native shim; do
	[ "$(cat "$DIR/state.$mode.txt" 2>/dev/null)" = "$want" ] ||
		fail "$mode: state after the benchmark is not as expected"
done
rl_done
