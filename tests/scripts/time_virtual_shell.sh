#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=60
# time_virtual_shell: GREEN_CLOCK=virtual on programs of the system.
#  - `sleep 3600` (coreutils, one thread, nanosleep) ends in well under a
#    second, and natively-identical output (none) and exit status 0;
#  - `timeout 5 sleep 1` still lets sleep finish (exit 0), in under a second;
#  - a child started with exec (execv through environ, execve with an
#    environment of its own) starts at the parent's virtual time;
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }
ms() { local t=$EPOCHREALTIME; echo $(( ${t%.*} * 1000 + 10#${t#*.} / 1000 )); }
V=(env GREEN_CLOCK=virtual LD_PRELOAD="$LIBGREEN")

t0=$(ms)
out=$("${V[@]}" sleep 3600 2>&1); st=$?
t=$(( $(ms) - t0 ))
[ $st = 0 ] && [ -z "$out" ] || fail "sleep 3600: exit $st, output '$out'"
[ $t -lt 1000 ] || fail "sleep 3600 took $t ms of real time"
echo "sleep 3600 under GREEN_CLOCK=virtual: $t ms"

t0=$(ms)
"${V[@]}" timeout 5 sleep 1; st=$?
t=$(( $(ms) - t0 ))
[ $st = 0 ] || fail "timeout 5 sleep 1: exit $st, want 0"
[ $t -lt 1000 ] || fail "timeout 5 sleep 1 took $t ms"

want='execv: child'"'"'s clock kept the parent'"'"'s time
execve: child'"'"'s clock kept the parent'"'"'s time'
got=$("${V[@]}" "$BUILD/tests/time_virtual_exec" 1000 2>&1)
[ "$got" = "$want" ] || fail "exec: got '$got'"
got=$("$BUILD/tests/time_virtual_exec" 1 2>&1)
[ "$got" = "$want" ] || fail "exec natively: got '$got'"
exit $rc
