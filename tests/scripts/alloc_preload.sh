#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120 again=1
# alloc_preload: a threaded program (tests/progs/alloc_foreign.c) with
# another malloc preloaded beside libgreen, in both orders: jemalloc,
# tcmalloc (minimal) and mimalloc.  Those allocators call
# pthread_mutex_lock, pthread_once, pthread keys and sched_yield from
# inside malloc while they initialise, so a shim that allocates with the
# program's malloc on those paths re-enters a half-built allocator (it
# died with SIGSEGV in an endless jemalloc -> pthread_mutex_lock ->
# gr_os_self -> calloc -> jemalloc recursion).  Every run must exit 0 and
# print what the native run prints; and `redis-server --version` (jemalloc
# linked in) must run under the shim.
set -u
prog=$BUILD/tests/alloc_foreign
[ -x "$prog" ] || { echo "FAIL: $prog not built"; exit 1; }
libdir=/usr/lib/x86_64-linux-gnu
libs=()
for l in libjemalloc.so.2 libtcmalloc_minimal.so.4 libmimalloc.so.2; do
	if [ -e "$libdir/$l" ]; then
		libs+=("$libdir/$l")
	else
		echo "note: $l not installed (.ci/install installs it)"
	fi
done
if [ ${#libs[@]} -eq 0 ]; then
	echo "SKIP: no other malloc installed (apt-get install libjemalloc2 libtcmalloc-minimal4)"
	exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0

if ! timeout 60 "$prog" > "$tmp/native" 2> "$tmp/native.err"; then
	echo "FAIL: native run"; cat "$tmp/native.err"; exit 1
fi
cat "$tmp/native"
run() {	# LABEL PRELOAD
	local rc
	timeout 60 env LD_PRELOAD="$2" "$prog" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL: $1: exit $rc"; head -5 "$tmp/err"; fails=$((fails + 1))
	elif ! cmp -s "$tmp/native" "$tmp/out"; then
		echo "FAIL: $1: output differs from native"
		diff "$tmp/native" "$tmp/out" | head; fails=$((fails + 1))
	else
		echo "ok: $1"
	fi
}
for l in "${libs[@]}"; do
	n=$(basename "$l")
	run "$n natively" "$l"
	run "$n then libgreen" "$l $LIBGREEN"
	run "libgreen then $n" "$LIBGREEN $l"
done
if command -v redis-server > /dev/null; then
	if v=$(timeout 20 env LD_PRELOAD="$LIBGREEN" redis-server --version 2>&1); then
		echo "ok: under the shim: $v"
	else
		echo "FAIL: redis-server --version under the shim: $v"
		fails=$((fails + 1))
	fi
fi
[ $fails -eq 0 ] || exit 1
echo "alloc_preload: ok"
