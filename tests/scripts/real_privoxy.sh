#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=150 again=1
# real_privoxy: Debian's privoxy 3.0 (a thread per connection, built with
# _FORTIFY_SOURCE: it waits in __poll_chk) natively and under the shim, in
# front of lighttpd on loopback, with the checks of rl_proxy_round
# (tests/helpers/real_lib.sh): curl through the proxy (1 MiB checksum, a
# page by the name localhost, a 404; both transcripts identical), 100
# connections held open at once (>= 100 OS threads natively, at most 4
# under the shim, plus one per hub beyond the first) and each then answered, ab -X -c 100 -n 3000 with none
# failed.  The configuration: a listen address, no action or filter files,
# no logging beyond errors.
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_privoxy
rl_need privoxy lighttpd curl ab

LPORT=$(rl_port)
rl_lighttpd "$LPORT"

for mode in native shim; do
	PPORT=$(rl_port)
	mkdir -p "$DIR/privoxy.$mode.d"
	cat > "$DIR/privoxy.$mode.conf" <<-EOF
	confdir $DIR/privoxy.$mode.d
	listen-address 127.0.0.1:$PPORT
	max-client-connections 2000
	keep-alive-timeout 5
	socket-timeout 60
	debug 0
	EOF
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	rl_start "privoxy.$mode" "${pre[@]}" privoxy --no-daemon "$DIR/privoxy.$mode.conf"
	PP=$RL_PID
	if ! rl_wait_port "$PPORT"; then
		fail "$mode: privoxy did not start"
		cat "$DIR/privoxy.$mode.log"
		continue
	fi
	rl_proxy_round $mode "$PPORT" "$PP" "$LPORT"
	rl_stop "$PP"
	grep -v '^$' "$DIR/privoxy.$mode.log" | head -5 | sed "s/^/$mode log: /"
done

rl_proxy_compare
rl_done
