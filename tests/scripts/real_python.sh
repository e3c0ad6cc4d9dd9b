#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=200 again=1
# real_python: Debian's CPython (/usr/bin/python3, not the pyenv one first on
# PATH) runs tests/helpers/py_threads.py natively and under the shim:
# ThreadingHTTPServer with 1,000 client threads, 1,000 threads in
# time.sleep, queue.Queue, subprocess.run from threads, socket and
# Condition timeouts, getaddrinfo('localhost', 80).  Then a
# ThreadingHTTPServer alone, natively and under the shim, under ab -c 50
# -n 3000: all complete, none failed; its CPU per task from /proc (CPU% of
# one core, OS threads printed); under several hubs on several CPUs, at
# least two of its OS threads did a fair share of the work (rl_cpu_end's
# check: the server uses the cores, issue 13).
# Both runs exit 0 with identical stdout.  While the 1,000 sleepers exist,
# the process has >= 1,000 OS threads natively and at most 4 under the shim
# plus one per hub beyond the first (the program's threads are green; the
# rest would be the shim's hubs and its own threads; shim_threads in
# tests/scripts/lib/witness.sh).
set -u
. "${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/real_lib.sh"
rl_init real_python
[ -x "$PY" ] || { echo "SKIP: $PY is not installed"; exit 77; }
N=1000
MAX_SHIM_THREADS=$(shim_threads 4)
AB_N=3000

for mode in native shim; do
	pre=()
	[ $mode = shim ] && pre=(env "GREEN_STATS=$DIR/shim.stats" "LD_PRELOAD=$LIBGREEN")
	t0=$EPOCHREALTIME
	timeout -k 5 50 "${pre[@]}" "$PY" "$SRC/tests/helpers/py_threads.py" $N \
		> "$DIR/$mode.out" 2> "$DIR/$mode.err" < /dev/null
	rc=$?
	echo "$mode: exit $rc in $(echo "$EPOCHREALTIME - $t0" | bc) s"
	sed 's/^/  /' "$DIR/$mode.err"
	[ $rc -eq 0 ] || fail "$mode run exited $rc"
done

if ! diff -u "$DIR/native.out" "$DIR/shim.out"; then
	fail "stdout differs between native and shim runs"
fi
echo "--- stdout (both)"
cat "$DIR/shim.out"
rl_witness "$DIR/shim.stats" "${PY##*/}"

nat=$(sed -n 's/.*os-threads: \([0-9]*\).*/\1/p' "$DIR/native.err")
shim=$(sed -n 's/.*os-threads: \([0-9]*\).*/\1/p' "$DIR/shim.err")
if [ -z "$nat" ] || [ "$nat" -lt $N ]; then
	fail "native: ${nat:-no} OS threads with $N sleepers (expected >= $N)"
fi
if [ -z "$shim" ] || [ "$shim" -gt "$MAX_SHIM_THREADS" ]; then
	fail "shim: ${shim:-no} OS threads with $N sleepers (expected <= $MAX_SHIM_THREADS)"
fi
echo "OS threads with $N sleepers: native $nat, shim $shim"

# CPython's ThreadingHTTPServer (python3 -m http.server's, a thread per
# request, with a backlog for a crowd: with the default 5 ab's SYNs are
# dropped and retried a second later) under load from a native ab,
# loopback: the CPU each of its OS threads spent (rl_cpu_end), printed.
HTTPD='import functools, http.server, signal, sys
signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 4096
    daemon_threads = True
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
srv = Server(("127.0.0.1", int(sys.argv[1])),
             functools.partial(Handler, directory=sys.argv[2]))
srv.serve_forever()'
if command -v ab > /dev/null 2>&1; then
	mkdir -p "$DIR/www"
	seq 1 200 > "$DIR/www/small.txt"
	for mode in native shim; do
		port=$(rl_port)
		pre=()
		[ $mode = shim ] && pre=(env "GREEN_STATS=$DIR/httpd.stats" "LD_PRELOAD=$LIBGREEN")
		rl_start "httpd.$mode" "${pre[@]}" "$PY" -c "$HTTPD" "$port" "$DIR/www"
		hp=$RL_PID
		if ! rl_wait_port "$port"; then
			fail "$mode: http.server did not start"
			cat "$DIR/httpd.$mode.log"
			continue
		fi
		rl_cpu_start "$hp"
		timeout 40 ab -q -c 50 -n $AB_N "http://127.0.0.1:$port/small.txt" \
			> "$DIR/ab.$mode.txt" 2>&1
		# Under several hubs the server must use them (issue 13): its
		# main thread accepts and starts a thread per request, which
		# runs while main waits to run again; the request thread
		# moves to an idle hub (sched.c, gr_sched_spread).  CPython's
		# GIL still lets one thread run Python at a time, as natively.
		if [ $mode = shim ]; then
			rl_cpu_end "$mode http.server" "$hp" check
		else
			rl_cpu_end "$mode http.server" "$hp"
		fi
		grep -E 'Complete requests|Failed requests|Non-2xx|Requests per second' \
			"$DIR/ab.$mode.txt" | sed "s/^/$mode ab: /"
		grep -q "^Complete requests: *$AB_N\$" "$DIR/ab.$mode.txt" ||
			fail "$mode ab: not $AB_N complete"
		grep -q '^Failed requests: *0$' "$DIR/ab.$mode.txt" ||
			fail "$mode ab: failed requests"
		kill -0 "$hp" 2>/dev/null || fail "$mode: http.server died"
		# On SIGTERM the server exits normally: the shim writes its stats.
		rl_stop "$hp"
	done
	rl_witness "$DIR/httpd.stats" "${PY##*/}"
else
	echo "ab is not installed: the http.server load is not run"
fi
rl_done
