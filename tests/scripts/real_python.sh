#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120
# real_python: Debian's CPython (/usr/bin/python3, not the pyenv one first on
# PATH) runs tests/helpers/py_threads.py natively and under the shim:
# ThreadingHTTPServer with 1,000 client threads, 1,000 threads in
# time.sleep, queue.Queue, subprocess.run from threads, socket and
# Condition timeouts, getaddrinfo('localhost', 80).
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
rl_done
