#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=60
# diag_overflow: a green thread that overflows its stack gets one line
# naming it and GREEN_STACK_SIZE, then the process dies of SIGSEGV as it
# does natively.
#  1. natively: killed by SIGSEGV, no libgreen line.
#  2. under the shim: killed by SIGSEGV; exactly the line
#     "libgreen: green thread 'recurser' (#N) overflowed its S KiB stack;
#     set GREEN_STACK_SIZE to raise it", S the default stack (ulimit -s).
#  3. GREEN_STACK_SIZE=256K: the line says 256 KiB.
#  4. an overflow of the main thread (not a green thread): SIGSEGV, no line.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
PROG=$BUILD/helpers/diag_overflow
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }
ulimit -c 0

segv=$((128 + 11))
kib=$(ulimit -s)
[ "$kib" = unlimited ] && kib=8192

# 1
timeout 30 "$PROG" thread > /dev/null 2> "$tmp/1.err"; r=$?
[ $r = $segv ] || fail "natively: rc $r, want $segv (SIGSEGV)"
grep -q libgreen "$tmp/1.err" && fail "natively: a libgreen line"

# 2
timeout 30 env LD_PRELOAD="$LIBGREEN" "$PROG" thread > /dev/null 2> "$tmp/2.err"; r=$?
[ $r = $segv ] || fail "shim: rc $r, want $segv (SIGSEGV)"
n=$(grep -c "^libgreen: green thread 'recurser' (#[0-9]*) overflowed its $kib KiB stack; set GREEN_STACK_SIZE to raise it$" "$tmp/2.err")
[ "$n" = 1 ] || fail "shim: want one overflow line for $kib KiB, got: $(cat "$tmp/2.err")"
cat "$tmp/2.err" >&2

# 3
GREEN_STACK_SIZE=256K timeout 30 env LD_PRELOAD="$LIBGREEN" "$PROG" thread > /dev/null 2> "$tmp/3.err"; r=$?
[ $r = $segv ] || fail "GREEN_STACK_SIZE=256K: rc $r, want $segv"
grep -q "^libgreen: green thread 'recurser' (#[0-9]*) overflowed its 256 KiB stack" "$tmp/3.err" ||
	fail "GREEN_STACK_SIZE=256K: no line for 256 KiB: $(cat "$tmp/3.err")"

# 4
timeout 30 env LD_PRELOAD="$LIBGREEN" "$PROG" main > /dev/null 2> "$tmp/4.err"; r=$?
[ $r = $segv ] || fail "main thread overflow: rc $r, want $segv"
grep -q 'overflowed' "$tmp/4.err" && fail "main thread overflow announced as a green thread's"

exit $rc
