#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120
# real_socat: Debian's socat (fork per connection: the fork and exec paths,
# not threads) natively and under the shim, on loopback.
#   relay   socat TCP-LISTEN:P,bind=127.0.0.1,fork,reuseaddr TCP:127.0.0.1:L
#           in front of lighttpd: curl of a 1 MiB file (checksum) and of a
#           page 20 times in a row, then ab -c 20 -n 1000 through it (all
#           complete, none failed);
#   exec    socat TCP-LISTEN:P,...,fork EXEC:cat (a child execs cat per
#           connection; under the shim the children inherit the preload):
#           20 socat clients at once (each itself native or under the
#           shim, as the server) send 256 KiB and must get them back.
# The transcripts of the native and the shim runs must be identical.
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_socat
rl_need socat lighttpd curl ab
C=20

LPORT=$(rl_port)
rl_lighttpd "$LPORT"
WANT_SUM=$(sha256sum < "$DIR/www/big.bin")
head -c 262144 /dev/urandom > "$DIR/payload"

for mode in native shim; do
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	t=$DIR/transcript.$mode

	RPORT=$(rl_port)
	rl_start "relay.$mode" "${pre[@]}" socat \
		"TCP-LISTEN:$RPORT,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$LPORT"
	RP=$RL_PID
	rl_wait_port "$RPORT" || { fail "$mode: the relay did not start"; continue; }
	sum=$(timeout 30 curl -sS "http://127.0.0.1:$RPORT/big.bin" | sha256sum)
	[ "$sum" = "$WANT_SUM" ] && echo "relay big.bin: checksum ok" > "$t" ||
		echo "relay big.bin: checksum WRONG" > "$t"
	good=0
	for ((i = 0; i < 20; i++)); do
		[ "$(timeout 30 curl -sS "http://127.0.0.1:$RPORT/")" = "hello from lighttpd" ] &&
			good=$((good + 1))
	done
	echo "relay page x20: $good good" >> "$t"
	timeout 60 ab -q -c 20 -n 1000 "http://127.0.0.1:$RPORT/small.txt" \
		> "$DIR/ab.$mode" 2>&1
	grep -E 'Complete requests|Failed requests|Non-2xx|Requests per second' \
		"$DIR/ab.$mode" | sed "s/^/$mode ab: /"
	grep -q '^Complete requests: *1000$' "$DIR/ab.$mode" ||
		fail "$mode ab: not 1000 complete"
	grep -q '^Failed requests: *0$' "$DIR/ab.$mode" || fail "$mode ab: failures"
	kill -0 "$RP" 2>/dev/null || fail "$mode: the relay died"
	rl_stop "$RP"

	EPORT=$(rl_port)
	rl_start "exec.$mode" "${pre[@]}" socat \
		"TCP-LISTEN:$EPORT,bind=127.0.0.1,fork,reuseaddr" EXEC:cat
	EP=$RL_PID
	rl_wait_port "$EPORT" || { fail "$mode: the exec server did not start"; continue; }
	pids=()
	for ((i = 0; i < C; i++)); do
		timeout 30 "${pre[@]}" socat -t 10 - "TCP:127.0.0.1:$EPORT" \
			< "$DIR/payload" > "$DIR/echo.$mode.$i" 2> "$DIR/echo.$mode.$i.err" &
		pids+=($!)
	done
	good=0
	for ((i = 0; i < C; i++)); do
		wait "${pids[$i]}" && cmp -s "$DIR/payload" "$DIR/echo.$mode.$i" &&
			good=$((good + 1))
	done
	echo "exec cat: $good of $C clients got their 256 KiB back" >> "$t"
	kill -0 "$EP" 2>/dev/null || fail "$mode: the exec server died"
	rl_stop "$EP"
	sed "s/^/$mode: /" "$t"
done

if ! diff -u "$DIR/transcript.native" "$DIR/transcript.shim"; then
	fail "native and shim runs differ"
fi
grep -q WRONG "$DIR/transcript.shim" && fail "a checksum is wrong"
grep -q "x20: 20 good" "$DIR/transcript.shim" || fail "relayed pages wrong"
grep -q "$C of $C clients" "$DIR/transcript.shim" || fail "exec cat echoes wrong"
rl_done
