#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=150 again=1
# diag_backend: every GREEN_BACKEND value keeps the program alive.  The
# echo server (tests/helpers/echo_server.c, a thread per connection) under
# the shim with 1,000 connections from echo_client, 20 round trips each:
#   - GREEN_BACKEND=iouring: refused with the one line bad values get
#     ("libgreen: GREEN_BACKEND=iouring is not valid (accepted: ..."), the
#     default (epoll) used, every round trip made, the server exits 0.
#     libev 4.33's io_uring backend asserted "did not consume all sqes"
#     under this load and aborted the server;
#   - poll, and select with 2,000 connections (descriptors past
#     FD_SETSIZE = 1024): no line, every round trip made, exit 0.
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init diag_backend
SERVER=$BUILD/helpers/echo_server
CLIENT=$BUILD/helpers/echo_client
[ -x "$SERVER" ] && [ -x "$CLIENT" ] || { echo "FAIL: echo helpers not built"; exit 1; }
ulimit -n 8192 2> /dev/null

check() {	# BACKEND CONNECTIONS WANT_LINE(0|1)
	local b=$1 c=$2 want=$3 port i rc lines
	rl_start "server.$b" env GREEN_BACKEND="$b" LD_PRELOAD="$LIBGREEN" \
		"$SERVER" -p 0 -n "$c"
	local sp=$RL_PID
	for ((i = 0; i < 100; i++)); do
		port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$DIR/server.$b.log")
		[ -n "$port" ] && break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		fail "$b: the server did not start"; cat "$DIR/server.$b.log"; return
	fi
	timeout 60 "$CLIENT" -p "$port" -c "$c" -r 20 -T 50 > "$DIR/client.$b" 2>&1
	rc=$?
	grep -E '^(connections|round trips):' "$DIR/client.$b" | sed "s/^/$b: /"
	[ $rc -eq 0 ] || fail "$b: echo_client exited $rc"
	grep -q "^connections: $c open: $c connect failures: 0 errors: 0" "$DIR/client.$b" ||
		fail "$b: not $c clean connections"
	grep -q "^round trips: $((c * 19)) in" "$DIR/client.$b" ||
		fail "$b: not $((c * 19)) measured round trips (the first is in the connect phase)"
	for ((i = 0; i < 200; i++)); do
		kill -0 "$sp" 2> /dev/null || break
		sleep 0.05
	done
	if kill -0 "$sp" 2> /dev/null; then
		fail "$b: the server did not exit after $c connections"
		rl_stop "$sp"
	else
		wait "$sp"
		rc=$?
		[ $rc -eq 0 ] || fail "$b: the server exited $rc"
	fi
	lines=$(grep -c '^libgreen:' "$DIR/server.$b.log")
	grep '^libgreen:' "$DIR/server.$b.log" | sed "s/^/$b stderr: /"
	if [ "$want" = 1 ]; then
		[ "$lines" = 1 ] || fail "$b: $lines libgreen lines, want 1"
		grep -qF "libgreen: GREEN_BACKEND=$b is not valid (accepted: " \
			"$DIR/server.$b.log" || fail "$b: no refusal line"
	else
		[ "$lines" = 0 ] || fail "$b: $lines libgreen lines, want none"
	fi
}

check iouring 1000 1
check poll 1000 0
check select 2000 0
rl_done
