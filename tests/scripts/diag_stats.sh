#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120 again=1
# diag_stats: GREEN_STATS prints one block at exit with the right counts.
#  1. diag_stats_threads 1000 with GREEN_STATS=1: same stdout as natively;
#     stderr has one block saying 1000 green threads created, a peak of at
#     least 1000, parks by call naming pthread_join and usleep.
#  2. GREEN_STATS=DIR/stats.%p: the block goes to DIR/stats.<pid>, nothing
#     to stderr.
#  3. a process that never makes a hub (/bin/true) still prints a block,
#     with 0 threads created.
#  4. GREEN_STATS unset or 0: no block.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
PROG=$BUILD/tests/diag_stats_threads
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }

# field NAME FILE: the first number after "NAME" at the start of a line.
field() { sed -n "s/^$1 *\([0-9][0-9]*\).*/\1/p" "$2" | head -1; }

# 1
timeout 60 "$PROG" 1000 > "$tmp/native.out" 2>/dev/null || fail "native run"
GREEN_STATS=1 timeout 60 env LD_PRELOAD="$LIBGREEN" "$PROG" 1000 \
	> "$tmp/shim.out" 2> "$tmp/shim.err" || fail "shim run"
cmp -s "$tmp/native.out" "$tmp/shim.out" || fail "stdout differs from native"
n=$(grep -c '^--- libgreen stats' "$tmp/shim.err")
[ "$n" = 1 ] || fail "expected one stats block on stderr, found $n"
created=$(field 'green threads created' "$tmp/shim.err")
peak=$(field 'green threads peak' "$tmp/shim.err")
[ "${created:-x}" = 1000 ] || fail "threads created: '${created:-}' (want 1000)"
[ "${peak:-0}" -ge 1000 ] 2>/dev/null || fail "threads peak: '${peak:-}' (want >= 1000)"
grep -q '^parks by call .*pthread_join' "$tmp/shim.err" || fail "parks by call lacks pthread_join"
grep -q '^parks by call .*usleep' "$tmp/shim.err" || fail "parks by call lacks usleep"
grep -q '^switches  *[1-9]' "$tmp/shim.err" || fail "no switches counted"
for key in 'hubs' 'parks' 'hub blocked' 'pool jobs' 'dns lookups' 'stacks peak'; do
	grep -q "^$key " "$tmp/shim.err" || fail "no '$key' line"
done
echo "--- stats of diag_stats_threads 1000:" >&2
cat "$tmp/shim.err" >&2

# 2
GREEN_STATS="$tmp/stats.%p" timeout 60 env LD_PRELOAD="$LIBGREEN" "$PROG" 50 \
	> /dev/null 2> "$tmp/file.err" || fail "shim run with a stats file"
[ -s "$tmp/file.err" ] && fail "stderr not empty with GREEN_STATS=path: $(head -3 "$tmp/file.err")"
shopt -s nullglob
sfiles=("$tmp"/stats.*)
shopt -u nullglob
[ ${#sfiles[@]} = 1 ] || fail "expected one stats.<pid> file, found ${#sfiles[@]}"
f=${sfiles[0]:-}
[ -n "$f" ] && [ "$(field 'green threads created' "$f")" = 50 ] ||
	fail "stats file does not say 50 threads created"

# 3
GREEN_STATS=1 LD_PRELOAD="$LIBGREEN" /bin/true 2> "$tmp/true.err" || fail "/bin/true"
[ "$(field 'green threads created' "$tmp/true.err")" = 0 ] ||
	fail "/bin/true: no block with 0 threads created"

# 4
timeout 60 env LD_PRELOAD="$LIBGREEN" "$PROG" 10 > /dev/null 2> "$tmp/none.err" || fail "run without stats"
GREEN_STATS=0 timeout 60 env LD_PRELOAD="$LIBGREEN" "$PROG" 10 > /dev/null 2>> "$tmp/none.err" || fail "run with GREEN_STATS=0"
grep -q 'libgreen stats' "$tmp/none.err" && fail "a block printed without GREEN_STATS"

exit $rc
