#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=150 again=1
# real_tinyproxy: Debian's tinyproxy 1.11 (a thread per connection; it
# resolves and connects upstream itself) natively and under the shim, in
# front of lighttpd on loopback.  For each run:
#   - curl through the proxy: a 1 MiB file (checksum), a page by the name
#     localhost (tinyproxy's getaddrinfo), a 404; both runs' transcripts
#     must be identical;
#   (rl_proxy_round in tests/helpers/real_lib.sh)
#   - 100 connections held open at once (tests/helpers/py_hold.py), then a
#     request on each: all 100 answered right; tinyproxy's OS threads while
#     they are held: >= 100 natively, at most 4 under the shim (1 plus the
#     shim's own) plus one per hub beyond the first;
#   - ab -X proxy -c 100 -n 3000: all complete, none failed, no non-2xx;
#     meanwhile tinyproxy's CPU per task from /proc (rl_cpu_end, printed:
#     CPU% of one core, OS threads): under the shim with 2 or more hubs on
#     2 or more CPUs, at least 2 tasks each did >= 20% of the busiest
#     one's work (issue 13: the daemon uses the cores).
# The configuration is TARGETS.md's with no User line (we run as root and
# tinyproxy then keeps the current user) and LogLevel Error (at Info it
# fsyncs every log line).
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_tinyproxy
rl_need tinyproxy lighttpd curl ab
# Under several hubs the shim must spread tinyproxy over the cores.
RL_CPU_CHECK=1

LPORT=$(rl_port)
rl_lighttpd "$LPORT"

for mode in native shim; do
	TPORT=$(rl_port)
	cat > "$DIR/tinyproxy.$mode.conf" <<-EOF
	Port $TPORT
	Listen 127.0.0.1
	MaxClients 2000
	Timeout 60
	LogLevel Error
	EOF
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	rl_start "tinyproxy.$mode" "${pre[@]}" tinyproxy -d -c "$DIR/tinyproxy.$mode.conf"
	TP=$RL_PID
	if ! rl_wait_port "$TPORT"; then
		fail "$mode: tinyproxy did not start"
		cat "$DIR/tinyproxy.$mode.log"
		continue
	fi
	rl_proxy_round $mode "$TPORT" "$TP" "$LPORT"
	rl_stop "$TP"
	grep -v '^$' "$DIR/tinyproxy.$mode.log" | grep -v 'SHOULD set a UserName' |
		head -5 | sed "s/^/$mode log: /"
done

rl_proxy_compare
rl_done
