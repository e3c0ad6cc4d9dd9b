#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120 again=1
# real_curl: Debian's curl, natively and under the shim, against local
# servers: lighttpd and CPython's `python3 -m http.server` (a
# ThreadingHTTPServer), each run natively and under the shim.
# For each server and each curl: a 1 MiB file (checksum), a page by the name
# localhost (curl resolves names on a thread of its own), a 404, 40 URLs on
# up to 10 parallel connections; the transcripts of native and shim curl
# must be identical.  Then, with curl natively and under the shim: a server
# that never answers gives exit 28 after --max-time 1 (1 to 3 s), a closed
# port exit 7.  wget gets the same file, page, 404 and time-out natively and
# under the shim.  Finally ab -c 50 -n 1000 against the http.server under
# the shim: every request complete, none failed.
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_curl
rl_need curl wget lighttpd ab
[ -x "$PY" ] || { echo "SKIP: $PY is not installed"; exit 77; }

LPORT=$(rl_port)
rl_lighttpd "$LPORT"
LSPORT=$(rl_port)
rl_lighttpd "$LSPORT" shim	# event loop, sendfile64: nothing to park
WANT_SUM=$(sha256sum < "$DIR/www/big.bin")

PNPORT=$(rl_port)
rl_start pyserver.native "$PY" -m http.server --bind 127.0.0.1 -d "$DIR/www" "$PNPORT"
PSPORT=$(rl_port)
rl_start pyserver.shim env "LD_PRELOAD=$LIBGREEN" "$PY" -m http.server \
	--bind 127.0.0.1 -d "$DIR/www" "$PSPORT"
PYSHIM_PID=$RL_PID
for p in "$PNPORT" "$PSPORT"; do
	rl_wait_port "$p" || { fail "http.server on $p did not start"; rl_done; }
done

# A listener that never accepts: connections complete in its backlog and
# then nothing is ever answered.
HPORT=$(rl_port)
rl_start blackhole "$PY" -c "import socket, time
s = socket.socket()
s.bind(('127.0.0.1', $HPORT))
s.listen(16)
time.sleep(100)"
rl_wait_port "$HPORT" || fail "black hole did not start"
CPORT=$(rl_port)	# nothing listens there

# transcript CURL... : what curl fetched from each server, on stdout.
transcript() {
	local port sum code urls i name
	for name in lighttpd lighttpd-shim http.server http.server-shim; do
		case $name in
		lighttpd) port=$LPORT ;;
		lighttpd-shim) port=$LSPORT ;;
		http.server) port=$PNPORT ;;
		*) port=$PSPORT ;;
		esac
		sum=$(timeout 30 "$@" -sS "http://127.0.0.1:$port/big.bin" | sha256sum)
		[ "$sum" = "$WANT_SUM" ] && echo "$name big.bin: checksum ok" ||
			echo "$name big.bin: checksum WRONG"
		echo "$name index.html by name: $(timeout 30 "$@" -sS \
			-w ' %{http_code}' "http://localhost:$port/index.html")"
		code=$(timeout 30 "$@" -s -o /dev/null -w '%{http_code}' \
			"http://127.0.0.1:$port/missing")
		echo "$name missing: $code"
		urls=()
		for ((i = 0; i < 40; i++)); do
			urls+=("http://127.0.0.1:$port/small.txt?$i")
		done
		echo "$name parallel: $(timeout 30 "$@" -sS --no-progress-meter --parallel \
			--parallel-max 10 "${urls[@]}" | sha256sum)"
	done
}

transcript curl > "$DIR/curl.native.txt" 2> "$DIR/curl.native.err"
transcript env "LD_PRELOAD=$LIBGREEN" curl > "$DIR/curl.shim.txt" 2> "$DIR/curl.shim.err"
cat "$DIR/curl.native.err" "$DIR/curl.shim.err"
if ! diff -u "$DIR/curl.native.txt" "$DIR/curl.shim.txt"; then
	fail "native and shim curl fetched different things"
fi
echo "--- transcript (both)"
cat "$DIR/curl.shim.txt"
if grep -q WRONG "$DIR/curl.native.txt"; then
	fail "native curl: a checksum is wrong (the servers, not the shim?)"
fi
# The parallel fetches of small.txt must be 40 copies of it.
want_par=$(for ((i = 0; i < 40; i++)); do cat "$DIR/www/small.txt"; done | sha256sum)
n=$(grep -c "parallel: $want_par" "$DIR/curl.shim.txt")
[ "$n" -eq 4 ] || fail "parallel fetches wrong on $((4 - n)) server(s)"
[ "$(grep -c ' 200$' "$DIR/curl.shim.txt")" -eq 4 ] || fail "a page was not 200"
[ "$(grep -c 'missing: 404' "$DIR/curl.shim.txt")" -eq 4 ] || fail "a 404 was not 404"

for mode in native shim; do
	pre=()
	[ $mode = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	t0=$EPOCHREALTIME
	timeout 20 "${pre[@]}" curl -s --max-time 1 "http://127.0.0.1:$HPORT/" > /dev/null
	rc=$?
	took=$(echo "$EPOCHREALTIME - $t0" | bc)
	echo "$mode curl, server that never answers: exit $rc after $took s"
	[ $rc -eq 28 ] || fail "$mode curl --max-time 1: exit $rc, want 28"
	if [ "$(echo "$took < 1 || $took > 3" | bc)" = 1 ]; then
		fail "$mode curl --max-time 1 took $took s"
	fi
	timeout 20 "${pre[@]}" curl -s "http://127.0.0.1:$CPORT/" > /dev/null
	rc=$?
	echo "$mode curl, closed port: exit $rc"
	[ $rc -eq 7 ] || fail "$mode curl to a closed port: exit $rc, want 7"
done

# wget (single-threaded, so under the shim it mostly passes through; it
# must still get the same things): the 1 MiB file and a page by name from
# lighttpd and from the http.server under the shim, a 404 (exit 8), and a
# server that never answers with --timeout=1 --tries=1 (exit 4).
wget_transcript() {
	local port name
	for name in lighttpd http.server-shim; do
		[ $name = lighttpd ] && port=$LPORT || port=$PSPORT
		if [ "$(timeout 30 "$@" -q -O - "http://127.0.0.1:$port/big.bin" | sha256sum)" = "$WANT_SUM" ]; then
			echo "wget $name big.bin: checksum ok"
		else
			echo "wget $name big.bin: checksum WRONG"
		fi
		echo "wget $name index.html by name: $(timeout 30 "$@" -q -O - \
			"http://localhost:$port/index.html" | sha256sum | cut -c1-16)"
		timeout 30 "$@" -q -O /dev/null "http://127.0.0.1:$port/missing"
		echo "wget $name missing: exit $?"
	done
	timeout 20 "$@" -q -O /dev/null --timeout=1 --tries=1 "http://127.0.0.1:$HPORT/"
	echo "wget server that never answers: exit $?"
}
wget_transcript wget > "$DIR/wget.native.txt" 2>&1
wget_transcript env "LD_PRELOAD=$LIBGREEN" wget > "$DIR/wget.shim.txt" 2>&1
cat "$DIR/wget.shim.txt"
diff -u "$DIR/wget.native.txt" "$DIR/wget.shim.txt" ||
	fail "native and shim wget differ"
grep -q WRONG "$DIR/wget.shim.txt" && fail "wget under the shim: a checksum is wrong"
[ "$(grep -c 'missing: exit 8$' "$DIR/wget.shim.txt")" -eq 2 ] || fail "wget: a 404 was not exit 8"
grep -q 'never answers: exit 4$' "$DIR/wget.shim.txt" || fail "wget --timeout=1: not exit 4"

# Load on CPython's server under the shim.
timeout 60 ab -q -c 50 -n 1000 "http://127.0.0.1:$PSPORT/small.txt" > "$DIR/ab.txt" 2>&1
grep -E 'Complete requests|Failed requests|Non-2xx|Requests per second' "$DIR/ab.txt"
grep -q '^Complete requests: *1000$' "$DIR/ab.txt" || fail "ab: not 1000 complete"
grep -q '^Failed requests: *0$' "$DIR/ab.txt" || fail "ab: failed requests"
grep -q 'Non-2xx' "$DIR/ab.txt" && fail "ab: non-2xx responses"
kill -0 "$PYSHIM_PID" 2>/dev/null || fail "http.server under the shim died"
rl_done
