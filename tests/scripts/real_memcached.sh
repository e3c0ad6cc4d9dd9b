#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120 again=1
# real_memcached: Debian's memcached 1.6 (4 worker threads, each running
# its own libevent loop over epoll, a listener thread handing connections
# to them over pipes, LRU maintainer and crawler threads) natively and
# under the shim, driven by tests/helpers/py_memcache.py over 100
# connections at once:
#   - 5,000 sets then 5,000 gets spread over the connections, every value
#     read back as written, a delete and an incr, in both runs;
#   - the server's own stats agree (curr_connections >= 100 while they are
#     open, cmd_set 5,000+, get_hits 5,000);
#   - OS threads: 10 or more natively, at most 4 under the shim, plus one
#     per hub beyond the first (shim_threads, tests/scripts/lib/witness.sh).
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_memcached
rl_need memcached
MAX_SHIM_THREADS=$(shim_threads 4)

for mode in native shim; do
	port=$(rl_port)
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	rl_start "memcached.$mode" "${pre[@]}" memcached -l 127.0.0.1 -p "$port" \
		-U 0 -t 4 -c 1024 -m 64 -u root
	MP=$RL_PID
	if ! rl_wait_port "$port"; then
		fail "$mode: memcached did not start"
		cat "$DIR/memcached.$mode.log"
		continue
	fi
	timeout 60 "$PY" "$SRC/tests/helpers/py_memcache.py" "$port" 100 5000 "$MP" \
		> "$DIR/mc.$mode.txt" 2>&1
	rc=$?
	sed "s/^/$mode: /" "$DIR/mc.$mode.txt"
	[ $rc -eq 0 ] || fail "$mode: the memcache client found a wrong answer"
	threads=$(sed -n 's/^threads-while-held: //p' "$DIR/mc.$mode.txt")
	if [ $mode = native ]; then
		[ "${threads:-0}" -ge 10 ] || fail "native: ${threads:-no} OS threads"
	else
		[ -n "$threads" ] && [ "$threads" -le "$MAX_SHIM_THREADS" ] ||
			fail "shim: ${threads:-no} OS threads (want <= $MAX_SHIM_THREADS)"
	fi
	kill -0 "$MP" 2>/dev/null || fail "$mode: memcached died"
	rl_stop "$MP"
done
sed '/^threads-while-held/d' "$DIR/mc.native.txt" > "$DIR/a"
sed '/^threads-while-held/d' "$DIR/mc.shim.txt" > "$DIR/b"
diff -u "$DIR/a" "$DIR/b" || fail "native and shim runs differ"
rl_done
