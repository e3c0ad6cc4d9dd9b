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
#   rl_cpu_start PID        remember the CPU time of each task of PID
#                           (utime + stime from /proc/PID/task/*/stat) and
#                           the time
#   rl_cpu_end LABEL PID [check]
#                           the CPU each task of PID spent since
#                           rl_cpu_start: prints "LABEL: OS threads N (the
#                           most seen, every 0.2 s), CPU P% of one core
#                           over S s (the whole process's, ended threads
#                           included), busiest tasks (ticks): a b c ...";
#                           with check, under several hubs
#                           (shim_hubs >= 2) on several CPUs, fails unless
#                           at least 2 tasks each did >= RL_CPU_SHARE% of
#                           the busiest one's ticks, the busiest at least
#                           RL_CPU_MIN_TICKS (a load too light to judge
#                           fails too).  CPU% is printed, not judged: the
#                           test machines are shared.
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
	rl_cpu_start "$pid"
	timeout 60 ab -q -X "127.0.0.1:$port" -c 100 -n 3000 \
		"http://127.0.0.1:$lport/small.txt" > "$DIR/ab.$mode.txt" 2>&1
	if [ "$mode" = shim ] && [ -n "${RL_CPU_CHECK:-}" ]; then
		rl_cpu_end "$mode ab" "$pid" check
	else
		rl_cpu_end "$mode ab" "$pid"
	fi
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

# --- CPU per task -----------------------------------------------------------

RL_CPU_SHARE=20
RL_CPU_MIN_TICKS=20

# rl_task_ticks PID: "TID TICKS" per task, TICKS = utime + stime (fields 14
# and 15 of stat; the name in parentheses may hold spaces, so count from
# the last ')').
rl_task_ticks() {
	local f s tid
	local -a fld
	for f in /proc/"$1"/task/*/stat; do
		s=$(cat "$f" 2>/dev/null) || continue
		tid=${f%/stat}
		tid=${tid##*/}
		s=${s##*) }
		# s: state(3) ppid(4) ... utime(14) stime(15)
		read -r -a fld <<< "$s"
		echo "$tid $((fld[11] + fld[12]))"
	done
}

rl_cpu_start() {
	local pid=$1
	rl_task_ticks "$pid" > "$DIR/cpu.$pid.before"
	rl_proc_ticks "$pid" > "$DIR/cpu.$pid.proc0"
	RL_CPU_T0=$EPOCHREALTIME
	# OS threads during the load, every 0.2 s (a thread-per-connection
	# server natively has them only while connections last).
	(
		trap 'exit 0' TERM
		while kill -0 "$pid" 2>/dev/null; do
			rl_threads "$pid"
			sleep 0.2
		done
	) > "$DIR/cpu.$pid.threads" 2>/dev/null &
	RL_CPU_SAMPLER=$!
	RL_PIDS+=("$RL_CPU_SAMPLER")
}

# rl_proc_ticks PID: utime + stime of the whole process (its ended threads
# included, which its tasks no longer show).
rl_proc_ticks() {
	local s
	local -a fld
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	read -r -a fld <<< "$s"
	echo $((fld[11] + fld[12]))
}

rl_cpu_end() {
	local label=$1 pid=$2 check=${3:-} wall hz hubs cpus
	local ntasks total busiest second pct shares
	wall=$(echo "$EPOCHREALTIME - $RL_CPU_T0" | bc)
	rl_task_ticks "$pid" > "$DIR/cpu.$pid.after"
	total=$(( $(rl_proc_ticks "$pid") - $(cat "$DIR/cpu.$pid.proc0") ))
	kill -TERM "$RL_CPU_SAMPLER" 2>/dev/null
	wait "$RL_CPU_SAMPLER" 2>/dev/null
	ntasks=$(sort -n "$DIR/cpu.$pid.threads" | tail -n 1)
	hz=$(getconf CLK_TCK)
	# Per task: ticks since rl_cpu_start (a task born since counts from 0).
	awk 'NR == FNR { b[$1] = $2; next } { d = $2 - b[$1]; print (d < 0 ? 0 : d) }' \
		"$DIR/cpu.$pid.before" "$DIR/cpu.$pid.after" | sort -rn > "$DIR/cpu.$pid.delta"
	busiest=$(sed -n 1p "$DIR/cpu.$pid.delta")
	second=$(sed -n 2p "$DIR/cpu.$pid.delta")
	pct=$(echo "scale=0; $total * 100 / $hz / $wall" | bc 2>/dev/null)
	shares=$(head -n 8 "$DIR/cpu.$pid.delta" | tr '\n' ' ')
	echo "$label: OS threads ${ntasks:-?} (most seen), CPU ${pct:-?}% of one core" \
		"over $(printf '%.2f' "$wall") s (${total} ticks of 1/${hz} s), busiest tasks" \
		"(ticks): ${shares% }"
	[ "$check" = check ] || return 0
	hubs=$(shim_hubs)
	cpus=$(nproc)
	if [ "$hubs" -lt 2 ] || [ "$cpus" -lt 2 ]; then
		echo "$label: one hub or one CPU ($hubs hubs, $cpus CPUs): spread not checked"
		return 0
	fi
	if [ "${busiest:-0}" -lt "$RL_CPU_MIN_TICKS" ]; then
		fail "$label: busiest task ${busiest:-0} ticks, too light a load to judge (want >= $RL_CPU_MIN_TICKS)"
	elif [ $(( ${second:-0} * 100 )) -lt $(( busiest * RL_CPU_SHARE )) ]; then
		fail "$label: $hubs hubs on $cpus CPUs but one task did the work: second busiest ${second:-0} ticks < $RL_CPU_SHARE% of the busiest $busiest"
	else
		echo "$label: 2 tasks busy with $hubs hubs (second busiest $second ticks >= $RL_CPU_SHARE% of $busiest)"
	fi
}
