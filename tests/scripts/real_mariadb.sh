#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=240
# real_mariadb: Debian's mariadbd 10.11 (a thread per connection, a tpool
# of workers whose current thread is a C++ thread_local, InnoDB's
# asynchronous I/O through liburing) natively and under the shim, driven
# by sysbench oltp_read_only over its unix socket:
#   - a fresh data directory, the server up, sysbench prepares 2 tables of
#     10,000 rows and runs 16 and 64 client threads for 4 s each, with
#     transactions done and no errors, in both runs;
#   - afterwards each table has its 10,000 rows; SHUTDOWN ends the server
#     with status 0 (its io_uring completion thread is woken and joined);
#   - OS threads: dozens natively, at most 4 under the shim (the hub, the
#     worker that waits for io_uring completions, the shim's own), plus
#     one per hub beyond the first (shim_threads, tests/scripts/lib/witness.sh).
# Before per-green-thread TLS mariadbd crashed in close_thread_tables()
# under the shim (a thread_local shared by all green threads); before the
# shim had liburing's waits, it never finished starting (its completion
# thread slept in io_uring_enter with the whole hub).
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_mariadb
rl_need mariadbd mariadb-install-db mariadb sysbench
MAX_SHIM_THREADS=$(shim_threads 4)
ROWS=10000

for mode in native shim; do
	d=$DIR/$mode
	mkdir -p "$d"
	if ! timeout 60 mariadb-install-db --no-defaults --datadir="$d/data" \
		--user=root --auth-root-authentication-method=normal \
		> "$d/install.log" 2>&1; then
		fail "$mode: mariadb-install-db"
		tail -5 "$d/install.log"
		continue
	fi
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	rl_start "mariadbd.$mode" "${pre[@]}" mariadbd --no-defaults \
		--datadir="$d/data" --socket="$d/sock" --skip-networking \
		--user=root --pid-file="$d/pid" --innodb-buffer-pool-size=64M \
		--max-connections=200
	MP=$RL_PID
	for ((i = 0; i < 300; i++)); do
		[ -S "$d/sock" ] && break
		sleep 0.1
	done
	if [ ! -S "$d/sock" ]; then
		fail "$mode: mariadbd did not start in 30 s"
		tail -20 "$DIR/mariadbd.$mode.log"
		continue
	fi
	sql() { timeout 30 mariadb --no-defaults -S "$d/sock" -uroot -N -e "$1"; }
	sql "CREATE DATABASE sbtest" || fail "$mode: CREATE DATABASE"
	sb=(timeout 60 sysbench oltp_read_only --db-driver=mysql
		--mysql-socket="$d/sock" --mysql-user=root --tables=2
		"--table-size=$ROWS")
	"${sb[@]}" prepare > "$d/prepare.log" 2>&1 ||
		{ fail "$mode: sysbench prepare"; tail -5 "$d/prepare.log"; }
	for t in 16 64; do
		"${sb[@]}" --threads=$t --time=4 run > "$d/run$t.log" 2>&1 ||
			fail "$mode: sysbench run with $t threads exited $?"
		tx=$(awk '/transactions:/ { print $2 }' "$d/run$t.log")
		tps=$(awk '/transactions:/ { gsub(/[(]/, "", $3); print $3 }' \
			"$d/run$t.log")
		errs=$(awk '/ignored errors:/ { print $3 }' "$d/run$t.log")
		echo "$mode: $t threads: ${tx:-?} transactions, ${tps:-?}/s, errors ${errs:-?}"
		[ "${tx:-0}" -gt 0 ] || fail "$mode: no transactions with $t threads"
		[ "${errs:-1}" = 0 ] || fail "$mode: errors with $t threads"
	done
	threads=$(rl_threads "$MP")
	echo "$mode: OS threads: $threads"
	for tb in 1 2; do
		n=$(sql "SELECT COUNT(*) FROM sbtest.sbtest$tb")
		[ "$n" = $ROWS ] || fail "$mode: sbtest$tb has ${n:-no} rows"
	done
	if [ $mode = native ]; then
		[ "${threads:-0}" -ge 10 ] ||
			fail "native: ${threads:-no} OS threads (mariadbd has dozens)"
	else
		[ -n "$threads" ] && [ "$threads" -le "$MAX_SHIM_THREADS" ] ||
			fail "shim: ${threads:-no} OS threads (want <= $MAX_SHIM_THREADS)"
	fi
	sql "SHUTDOWN" || fail "$mode: SHUTDOWN"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$MP" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$MP" 2>/dev/null; then
		fail "$mode: mariadbd still running 30 s after SHUTDOWN"
		rl_stop "$MP"
	else
		wait "$MP"
		rc=$?
		[ $rc -eq 0 ] || fail "$mode: mariadbd exited $rc after SHUTDOWN"
	fi
	grep -iE "got signal|assertion|crash" "$DIR/mariadbd.$mode.log" &&
		fail "$mode: the server log reports a crash"
done
rl_done
