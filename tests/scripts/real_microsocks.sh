#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120 again=1
# real_microsocks: Debian's microsocks 1.0 (a SOCKS5 proxy, a thread per
# client, getaddrinfo for the target) natively and under the shim, in front
# of lighttpd on loopback:
#   - curl through it: a 1 MiB file (checksum), a page by the name
#     localhost resolved by the proxy (--socks5-hostname), a 404; both
#     runs' transcripts identical;
#   - 100 SOCKS5 sessions held open at once to lighttpd
#     (tests/helpers/py_hold.py --socks5), OS threads counted meanwhile (>= 100
#     natively, at most 4 under the shim plus one per hub beyond the first),
#     then a request on each: all 100
#     answered right;
#   - 200 fetches by curl, 50 at a time: all 200.
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_microsocks
rl_need microsocks lighttpd curl

LPORT=$(rl_port)
rl_lighttpd "$LPORT"

for mode in native shim; do
	SPORT=$(rl_port)
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	rl_start "microsocks.$mode" "${pre[@]}" microsocks -i 127.0.0.1 -p "$SPORT"
	SP=$RL_PID
	if ! rl_wait_port "$SPORT"; then
		fail "$mode: microsocks did not start"
		cat "$DIR/microsocks.$mode.log"
		continue
	fi
	px=(--socks5-hostname "127.0.0.1:$SPORT")
	rl_proxy_curl $mode "$LPORT" "${px[@]}"
	rl_proxy_hold $mode "$SPORT" "$SP" "$LPORT" --socks5

	urls=()
	for ((i = 0; i < 200; i++)); do
		urls+=(-o /dev/null "http://127.0.0.1:$LPORT/small.txt")
	done
	ok=$(timeout 60 curl -s --no-progress-meter "${px[@]}" --parallel \
		--parallel-max 50 -w '%{http_code}\n' "${urls[@]}" | grep -c '^200$')
	echo "$mode: parallel fetches: $ok of 200 ok"
	[ "$ok" = 200 ] || fail "$mode: $ok of 200 parallel fetches ok"
	kill -0 "$SP" 2>/dev/null || fail "$mode: microsocks died"
	rl_stop "$SP"
done

rl_proxy_compare
rl_done
