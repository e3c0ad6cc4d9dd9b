#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=150
# real_tinyproxy: Debian's tinyproxy 1.11 (a thread per connection; it
# resolves and connects upstream itself) natively and under the shim, in
# front of lighttpd on loopback.  For each run:
#   - curl through the proxy: a 1 MiB file (checksum), a page by the name
#     localhost (tinyproxy's getaddrinfo), a 404; both runs' transcripts
#     must be identical;
#   - 100 connections held open at once (tests/helpers/py_hold.py), then a
#     request on each: all 100 answered right; tinyproxy's OS threads while
#     they are held: >= 100 natively, at most 4 under the shim (1 plus the
#     shim's own);
#   - ab -X proxy -c 100 -n 3000: all complete, none failed, no non-2xx.
# The configuration is TARGETS.md's with no User line (we run as root and
# tinyproxy then keeps the current user) and LogLevel Error (at Info it
# fsyncs every log line).
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_tinyproxy
rl_need tinyproxy lighttpd curl ab
N=100
MAX_SHIM_THREADS=4

LPORT=$(rl_port)
rl_lighttpd "$LPORT"
WANT_SUM=$(sha256sum < "$DIR/www/big.bin")

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
	px=(-x "127.0.0.1:$TPORT")
	{
		sum=$(timeout 30 curl -sS "${px[@]}" "http://127.0.0.1:$LPORT/big.bin" | sha256sum)
		[ "$sum" = "$WANT_SUM" ] && echo "big.bin: checksum ok" ||
			echo "big.bin: checksum WRONG"
		echo "by name: $(timeout 30 curl -sS "${px[@]}" -w ' %{http_code}' \
			"http://localhost:$LPORT/")"
		echo "missing: $(timeout 30 curl -s "${px[@]}" -o /dev/null \
			-w '%{http_code}' "http://127.0.0.1:$LPORT/missing")"
	} > "$DIR/curl.$mode.txt" 2>&1

	timeout 60 "$PY" "$SRC/tests/helpers/py_hold.py" "$TPORT" $N "$TP" \
		"http://127.0.0.1:$LPORT/small.txt" "$DIR/www/small.txt" \
		> "$DIR/hold.$mode.txt" 2>&1
	rc=$?
	sed "s/^/$mode: /" "$DIR/hold.$mode.txt"
	[ $rc -eq 0 ] || fail "$mode: not all $N held connections were answered right"
	threads=$(sed -n 's/^threads-while-held: //p' "$DIR/hold.$mode.txt")
	if [ $mode = native ]; then
		[ "${threads:-0}" -ge $N ] ||
			fail "native: $threads threads for $N connections (thread per connection?)"
	else
		[ -n "$threads" ] && [ "$threads" -ge 1 ] && [ "$threads" -le $MAX_SHIM_THREADS ] ||
			fail "shim: ${threads:-no} OS threads for $N connections (want <= $MAX_SHIM_THREADS)"
	fi

	timeout 60 ab -q -X "127.0.0.1:$TPORT" -c 100 -n 3000 \
		"http://127.0.0.1:$LPORT/small.txt" > "$DIR/ab.$mode.txt" 2>&1
	grep -E 'Complete requests|Failed requests|Non-2xx|Requests per second' \
		"$DIR/ab.$mode.txt" | sed "s/^/$mode ab: /"
	grep -q '^Complete requests: *3000$' "$DIR/ab.$mode.txt" ||
		fail "$mode ab: not 3000 complete"
	grep -q '^Failed requests: *0$' "$DIR/ab.$mode.txt" || fail "$mode ab: failed requests"
	grep -q 'Non-2xx' "$DIR/ab.$mode.txt" && fail "$mode ab: non-2xx responses"
	kill -0 "$TP" 2>/dev/null || fail "$mode: tinyproxy died"
	rl_stop "$TP"
	grep -v '^$' "$DIR/tinyproxy.$mode.log" | grep -v 'SHOULD set a UserName' |
		head -5 | sed "s/^/$mode log: /"
done

if ! diff -u "$DIR/curl.native.txt" "$DIR/curl.shim.txt"; then
	fail "curl through native and shim tinyproxy differ"
fi
echo "--- curl through the proxy (both)"
cat "$DIR/curl.shim.txt"
grep -q WRONG "$DIR/curl.shim.txt" && fail "a checksum is wrong"
rl_done
