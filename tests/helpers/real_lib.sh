# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# real_lib.sh - shared by tests/scripts/real_*.sh (sourced, not run).
#
# The real-program tests start Debian's servers and clients on loopback,
# natively and with LD_PRELOAD=$LIBGREEN, and compare what they do.  This
# file gives them a scratch directory, free ports, servers started in the
# background and always stopped by their PID (on any exit, also when the
# runner's timeout sends SIGTERM), and a few checks.
#
# Functions:
#   rl_init NAME            $DIR (scratch, removed at exit), traps, $PY
#   rl_need PROG...         exit 77 when a program is missing
#   rl_port                 print a free TCP port on 127.0.0.1
#   rl_start LABEL CMD...   start CMD in the background, output in
#                           $DIR/LABEL.log; its PID in $RL_PID (remembered
#                           and stopped at exit)
#   rl_stop PID             stop one server (TERM, then KILL after 3 s)
#   rl_wait_port PORT [S]   wait until 127.0.0.1:PORT accepts (at most S s)
#   rl_threads PID          OS threads of process PID (/proc/PID/status)
#   rl_lighttpd PORT [shim] start lighttpd on 127.0.0.1:PORT serving
#                           $DIR/www (index.html, small.txt, big.bin),
#                           under the shim if asked; $RL_PID is its PID
#   rl_witness FILE PROG [THREADS [BLOCKED]]
#                           fail unless the GREEN_STATS file FILE shows
#                           PROG ran under the shim (tests/scripts/lib/
#                           witness.sh: THREADS 0 if it makes none,
#                           BLOCKED ok if it may block the hub)
#   rl_proxy_curl MODE LPORT ARGS..., rl_proxy_hold MODE PORT PID LPORT
#                           [--socks5]: the first two parts of the below
#                           (ARGS: curl's proxy options), for other proxies
#   rl_proxy_compare        both runs' curl transcripts equal and right
#   rl_proxy_round MODE PORT PID LPORT
#                           the checks of an HTTP proxy on PORT (process
#                           PID, MODE native or shim) in front of
#                           rl_lighttpd on LPORT: curl transcript in
#                           $DIR/curl.MODE.txt (1 MiB checksum, a page by
#                           the name localhost, a 404), RL_HOLD connections
#                           held at once (OS threads >= RL_HOLD natively,
#                           <= RL_MAX_SHIM_THREADS under the shim: 4 plus
#                           one per hub beyond the first), then
#                           ab -X -c 100 -n 3000: all complete, none failed
#   fail MSG                print "FAIL: MSG" and remember the failure
#   rl_done                 exit 0 or 1 from the failures seen
# Needs LIBGREEN (or SRC/BUILD to find it).

SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
# Debian's interpreter: another python3 may come first on PATH.
PY=/usr/bin/python3
RL_PIDS=()
RL_FAILS=0
# shellcheck source=tests/scripts/lib/witness.sh
. "$SRC/tests/scripts/lib/witness.sh"

rl_witness() {
	if witness "$2" "${3:-1}" "${4:-no}" "$1"; then
		echo "witness: $2 under the shim: $WITNESS"
	else
		fail "$2 under the shim: $WITNESS"
	fi
}

fail() {
	echo "FAIL: $*"
	RL_FAILS=$((RL_FAILS + 1))
}

rl_done() {
	if [ "$RL_FAILS" -ne 0 ]; then
		echo "$RL_NAME: $RL_FAILS check(s) failed"
		exit 1
	fi
	echo "$RL_NAME: ok"
	exit 0
}

rl_cleanup() {
	local p
	for p in "${RL_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && rl_stop "$p"
	done
	[ -n "${DIR:-}" ] && rm -rf "$DIR"
}

rl_init() {
	RL_NAME=$1
	if [ ! -f "$LIBGREEN" ]; then
		echo "FAIL: $LIBGREEN is not built (make)"
		exit 1
	fi
	DIR=$(mktemp -d "/tmp/libgreen-$1.XXXXXX") || exit 1
	trap rl_cleanup EXIT
	# The runner stops a script that overruns with SIGTERM: the EXIT
	# trap still stops every server.
	trap 'exit 143' TERM INT HUP
}

rl_need() {
	local p
	for p in "$@"; do
		if ! command -v "$p" > /dev/null 2>&1; then
			echo "SKIP: $p is not installed (apt-get install it)"
			exit 77
		fi
	done
}

rl_port() {
	$PY -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

rl_start() {
	local label=$1
	shift
	"$@" > "$DIR/$label.log" 2>&1 < /dev/null &
	RL_PID=$!
	RL_PIDS+=("$RL_PID")
}

rl_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 60; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

rl_wait_port() {
	local port=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

rl_threads() {
	awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

rl_lighttpd() {
	local port=$1 pre=()
	[ "${2:-}" = shim ] && pre=(env "LD_PRELOAD=$LIBGREEN")
	mkdir -p "$DIR/www"
	echo "hello from lighttpd" > "$DIR/www/index.html"
	seq 1 200 > "$DIR/www/small.txt"
	[ -f "$DIR/www/big.bin" ] ||
		head -c 1048576 /dev/urandom > "$DIR/www/big.bin"
	cat > "$DIR/lighttpd.$port.conf" <<-EOF
	server.document-root = "$DIR/www"
	server.bind = "127.0.0.1"
	server.port = $port
	server.errorlog = "$DIR/lighttpd.$port.err"
	server.max-connections = 4096
	server.max-fds = 8192
	index-file.names = ( "index.html" )
	mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain",
	                    "" => "application/octet-stream" )
	EOF
	rl_start "lighttpd.$port" "${pre[@]}" lighttpd -D -f "$DIR/lighttpd.$port.conf"
	if ! rl_wait_port "$port"; then
		echo "FAIL: lighttpd did not start on port $port:"
		cat "$DIR/lighttpd.$port.log" "$DIR/lighttpd.$port.err" 2>/dev/null
		exit 1
	fi
}

RL_HOLD=100
RL_MAX_SHIM_THREADS=$(shim_threads 4)

# rl_proxy_curl MODE LPORT CURL-PROXY-ARGS...: the curl transcript through
# a proxy, in $DIR/curl.MODE.txt.
rl_proxy_curl() {
	local mode=$1 lport=$2 sum
	shift 2
	{
		sum=$(timeout 30 curl -sS "$@" "http://127.0.0.1:$lport/big.bin" |
			sha256sum)
		[ "$sum" = "$(sha256sum < "$DIR/www/big.bin")" ] &&
			echo "big.bin: checksum ok" || echo "big.bin: checksum WRONG"
		echo "by name: $(timeout 30 curl -sS "$@" -w ' %{http_code}' \
			"http://localhost:$lport/")"
		echo "missing: $(timeout 30 curl -s "$@" -o /dev/null \
			-w '%{http_code}' "http://127.0.0.1:$lport/missing")"
	} > "$DIR/curl.$mode.txt" 2>&1
}

# rl_proxy_hold MODE PORT PID LPORT [--socks5]: RL_HOLD connections held
# through the proxy at once, then a request on each (py_hold.py), and the
# proxy's OS threads meanwhile.
rl_proxy_hold() {
	local mode=$1 port=$2 pid=$3 lport=$4 threads rc
	timeout 60 "$PY" "$SRC/tests/helpers/py_hold.py" ${5:+"$5"} "$port" \
		$RL_HOLD "$pid" "http://127.0.0.1:$lport/small.txt" \
		"$DIR/www/small.txt" > "$DIR/hold.$mode.txt" 2>&1
	rc=$?
	sed "s/^/$mode: /" "$DIR/hold.$mode.txt"
	[ $rc -eq 0 ] || fail "$mode: not all $RL_HOLD held connections were answered right"
	threads=$(sed -n 's/^threads-while-held: //p' "$DIR/hold.$mode.txt")
	if [ "$mode" = native ]; then
		[ "${threads:-0}" -ge $RL_HOLD ] ||
			fail "native: $threads threads for $RL_HOLD connections (thread per connection?)"
	else
		[ -n "$threads" ] && [ "$threads" -ge 1 ] &&
			[ "$threads" -le "$RL_MAX_SHIM_THREADS" ] ||
			fail "shim: ${threads:-no} OS threads for $RL_HOLD connections (want <= $RL_MAX_SHIM_THREADS)"
	fi
}

rl_proxy_round() {
	local mode=$1 port=$2 pid=$3 lport=$4
	rl_proxy_curl "$mode" "$lport" -x "127.0.0.1:$port"
	rl_proxy_hold "$mode" "$port" "$pid" "$lport"
	timeout 60 ab -q -X "127.0.0.1:$port" -c 100 -n 3000 \
		"http://127.0.0.1:$lport/small.txt" > "$DIR/ab.$mode.txt" 2>&1
	grep -E 'Complete requests|Failed requests|Non-2xx|Requests per second' \
		"$DIR/ab.$mode.txt" | sed "s/^/$mode ab: /"
	grep -q '^Complete requests: *3000$' "$DIR/ab.$mode.txt" ||
		fail "$mode ab: not 3000 complete"
	grep -q '^Failed requests: *0$' "$DIR/ab.$mode.txt" || fail "$mode ab: failed requests"
	grep -q 'Non-2xx' "$DIR/ab.$mode.txt" && fail "$mode ab: non-2xx responses"
	kill -0 "$pid" 2>/dev/null || fail "$mode: the proxy died"
}

# Both runs' curl transcripts must be the same, and right.
rl_proxy_compare() {
	if ! diff -u "$DIR/curl.native.txt" "$DIR/curl.shim.txt"; then
		fail "curl through the native and the shim proxy differ"
	fi
	echo "--- curl through the proxy (both)"
	cat "$DIR/curl.shim.txt"
	grep -q WRONG "$DIR/curl.shim.txt" && fail "a checksum is wrong"
}
