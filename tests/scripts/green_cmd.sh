#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120 again=1
# green_cmd: the green command.
#  1. `green -- prog` and `LD_PRELOAD=libgreen.so prog` give the same
#     stdout and exit status.
#  2. `green --help` documents every GREEN_ variable the library reads
#     (taken from runtime/core/config.c), and so does green(1); --version works.
#  3. each option sets its variable; LD_PRELOAD is prepended to, not
#     replaced; a variable set in the environment stays unless an option
#     sets it.
#  4. bad options exit 2 with a message; a missing command exits 127.
#  5. `make install DESTDIR=...` installs the library, green pointing at
#     the installed library, and the man page.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
GREEN=$BUILD/green
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }

[ -x "$GREEN" ] || { echo "FAIL: $GREEN missing (make build/green)"; exit 1; }
# The library green preloads (the build's): LD_PRELOAD runs use it too.
LIB=$("$GREEN" --version | sed -n 's/^library: //p')
[ -f "$LIB" ] || { echo "FAIL: green --version names no library ($LIB)"; exit 1; }

# shellcheck source=tests/scripts/lib/witness.sh
. "$SRC/tests/scripts/lib/witness.sh"

# 1 (and the witness: both runs really ran under the shim)
for p in "diag_stats_threads 200" "sync_barrier" "time_sleeps_overlap"; do
	read -r -a cmd <<< "$p"
	cmd[0]=$BUILD/tests/${cmd[0]}
	[ -x "${cmd[0]}" ] || continue
	rm -f "$tmp/a.stats" "$tmp/b.stats"
	timeout 60 env GREEN_STATS="$tmp/a.stats" LD_PRELOAD="$LIB" "${cmd[@]}" \
		> "$tmp/a.out" 2>/dev/null; ra=$?
	timeout 60 env GREEN_STATS="$tmp/b.stats" "$GREEN" -- "${cmd[@]}" \
		> "$tmp/b.out" 2>/dev/null; rb=$?
	witness "${cmd[0]##*/}" 1 no "$tmp/a.stats" || fail "$p under LD_PRELOAD: $WITNESS"
	witness "${cmd[0]##*/}" 1 no "$tmp/b.stats" || fail "$p under green: $WITNESS"
	[ $ra = $rb ] || fail "$p: exit $rb under green, $ra under LD_PRELOAD"
	cmp -s "$tmp/a.out" "$tmp/b.out" || fail "$p: stdout differs between green and LD_PRELOAD"
done
# without "--" too
"$GREEN" "$BUILD/tests/diag_stats_threads" 10 > "$tmp/c.out" 2>/dev/null ||
	fail "green without -- failed"

# 2
vars=$(cat "$SRC/runtime/core/config.c" "$SRC/runtime/core/vclock.c" \
	"$SRC/runtime/core/schedpolicy.c" | grep -o 'GREEN_[A-Z_]*' | sort -u |
	grep -v -x -e GREEN_SCHED_FIFO -e GREEN_CLOCK_REAL -e GREEN_CLOCK_VIRTUAL)
[ -n "$vars" ] || fail "no GREEN_ variables found in runtime/core/config.c"
"$GREEN" --help > "$tmp/help" 2>&1 || fail "green --help exit status"
man=$(MANWIDTH=200 man -l "$SRC/docs/green.1" 2>/dev/null || cat "$SRC/docs/green.1")
for v in $vars GREEN_THREADS GREEN_STACK_SIZE GREEN_RESOLVER GREEN_DNS_SERVERS \
	 GREEN_POOL_SIZE GREEN_FILEIO GREEN_BACKEND GREEN_INHERIT GREEN_STATS \
	 GREEN_WATCHDOG_MS GREEN_DEADLOCK GREEN_CLOCK GREEN_CLOCK_IDLE_MS \
	 GREEN_CLOCK_OFFSET GREEN_SCHED; do
	grep -q "$v" "$tmp/help" || fail "green --help does not document $v"
	grep -q "$v" <<< "$man" || fail "green(1) does not document $v"
done
"$GREEN" --version | grep -q '^green (libgreen) [0-9]' || fail "green --version"

# 3
LD_PRELOAD=libm.so.6 GREEN_POOL_SIZE=3 GREEN_FILEIO=inline "$GREEN" \
	--threads=native --stack-size 64K --resolver=thread \
	--dns-servers=127.0.0.1:5353 --pool-size=8 --backend=poll \
	--no-inherit --stats="$tmp/s.txt" --watchdog 50 --deadlock=abort \
	-- /usr/bin/env > "$tmp/env" 2>&1 || fail "green ... -- env"
for want in GREEN_THREADS=native GREEN_STACK_SIZE=64K GREEN_RESOLVER=thread \
	    GREEN_DNS_SERVERS=127.0.0.1:5353 GREEN_POOL_SIZE=8 GREEN_BACKEND=poll \
	    GREEN_INHERIT=0 "GREEN_STATS=$tmp/s.txt" GREEN_WATCHDOG_MS=50 \
	    GREEN_DEADLOCK=abort GREEN_FILEIO=inline; do
	grep -qx "$want" "$tmp/env" || fail "green did not set $want"
done
"$GREEN" --stats -- /usr/bin/env > "$tmp/env2" 2>/dev/null
grep -qx "GREEN_STATS=1" "$tmp/env2" || fail "--stats did not set GREEN_STATS=1"
LD_PRELOAD=libm.so.6 "$GREEN" -- /usr/bin/env > "$tmp/env3" 2>/dev/null
grep -qx "LD_PRELOAD=$LIB:libm.so.6" "$tmp/env3" ||
	fail "LD_PRELOAD not prepended: $(grep LD_PRELOAD "$tmp/env3")"

# 4
"$GREEN" --threads=bogus -- true 2> "$tmp/e1"; r=$?
[ $r = 2 ] || fail "a bad --threads value: exit $r, want 2"
grep -q 'green|native' "$tmp/e1" || fail "a bad --threads value: no list of choices"
"$GREEN" --frobnicate -- true 2>/dev/null; [ $? = 2 ] || fail "an unknown option: exit status"
"$GREEN" 2>/dev/null; [ $? = 2 ] || fail "no command: exit status"
"$GREEN" -- /nonexistent/command 2>/dev/null; [ $? = 127 ] || fail "a missing command: exit status"
"$GREEN" --watchdog=abc -- true 2>/dev/null; [ $? = 2 ] || fail "a bad --watchdog value: exit status"

# 5
# -o: install what was built; a test does not rebuild the library.
if make -C "$SRC" -s -o "$BUILD/libgreen.so" install DESTDIR="$tmp/root" \
	PREFIX=/usr B="$BUILD" > "$tmp/make" 2>&1; then
	[ -f "$tmp/root/usr/lib/libgreen.so" ] || fail "install: no lib/libgreen.so"
	[ -f "$tmp/root/usr/share/man/man1/green.1" ] || fail "install: no man page"
	[ -x "$tmp/root/usr/bin/green" ] || fail "install: no bin/green"
	"$tmp/root/usr/bin/green" --version | grep -qx 'library: /usr/lib/libgreen.so' ||
		fail "install: green does not point at /usr/lib/libgreen.so"
else
	fail "make install failed: $(cat "$tmp/make")"
fi
exit $rc
