#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120
# fileio_modes.sh - GREEN_FILEIO: a cold read of a large file stalls the
# hub only in the default (inline) mode.
#
# build/tests/fileio_cold makes a 256 MiB file in /tmp, then, while a
# ticker thread ticks every millisecond, drops the file's pages
# (posix_fadvise DONTNEED) and reads it whole, cold then warm, ROUNDS
# times; then rewrites, syncs and reads back its first MiB.  Run:
#   native                      the ticker must keep ticking (real threads)
#   shim, GREEN_FILEIO=inline   reported only: the ticker stalls (the
#                               default, documented in docs/resolver.md)
#   shim, GREEN_FILEIO=pool     the ticker keeps ticking; the worker pool
#                               ran every read and sync: 2*ROUNDS reads +
#                               pread + pwrite + fsync + fdatasync jobs
#   shim, GREEN_FILEIO=nowait   the ticker keeps ticking; only what missed
#                               the page cache went to the pool: the ROUNDS
#                               cold reads and the two syncs (the warm reads,
#                               pread and pwrite were served by RWF_NOWAIT)
# Job counts come from GREEN_STATS.  A bad GREEN_FILEIO value gets one
# line naming the variable and the accepted values, then the default.

set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
PROG=$BUILD/tests/fileio_cold
MIB=${FILEIO_MIB:-256}
ROUNDS=3

[ -x "$PROG" ] || { echo "FAIL: $PROG is not built (make tests)" >&2; exit 1; }
[ -f "$LIBGREEN" ] || { echo "FAIL: $LIBGREEN is not built" >&2; exit 1; }
avail=$(df -Pm /tmp | awk 'NR==2 { print $4 }')
if [ "${avail:-0}" -lt $((MIB * 2)) ]; then
    echo "skip: /tmp has ${avail} MiB free, the test file needs $MIB MiB"
    exit 77
fi
DIR=$(mktemp -d /tmp/fileio_modes.XXXXXX) || exit 1
trap 'rm -rf "$DIR"; rm -f /tmp/fileio_cold.??????' EXIT
rc=0

want='fileio cold: 3 rounds read back right'

# run LABEL EXPECT [VAR=VALUE...]: prints the pool job count
run() {
    local label=$1 expect=$2 out
    shift 2
    rm -f "$DIR/stats"
    if ! out=$(timeout -k 5 60 env "$@" "$PROG" "$expect" "$MIB" $ROUNDS 2>"$DIR/$label.err") ||
       [ "$out" != "$want" ]; then
        echo "FAIL: $label:" >&2
        cat "$DIR/$label.err" >&2
        rc=1
        return 1
    fi
    sed 's/^/  /' "$DIR/$label.err" | grep -E 'cold reads' >&2
    return 0
}

jobs() {
    awk '/^pool jobs/ { n = $3 } END { print n + 0 }' "$DIR/stats" 2>/dev/null
}

echo "native:" >&2
run native 1
echo "shim, GREEN_FILEIO=inline:" >&2
if run inline 0 LD_PRELOAD="$LIBGREEN" GREEN_FILEIO=inline GREEN_STATS="$DIR/stats"; then
    j=$(jobs)
    [ "$j" = 0 ] || { echo "FAIL: inline: $j pool jobs, want 0" >&2; rc=1; }
fi
echo "shim, GREEN_FILEIO=pool:" >&2
if run pool 1 LD_PRELOAD="$LIBGREEN" GREEN_FILEIO=pool GREEN_STATS="$DIR/stats"; then
    j=$(jobs)
    want_j=$((2 * ROUNDS + 4))
    [ "$j" = $want_j ] || { echo "FAIL: pool: $j pool jobs, want $want_j" >&2; rc=1; }
fi
echo "shim, GREEN_FILEIO=nowait:" >&2
if run nowait 1 LD_PRELOAD="$LIBGREEN" GREEN_FILEIO=nowait GREEN_STATS="$DIR/stats"; then
    j=$(jobs)
    # RWF_NOWAIT succeeds for what readahead already brought in, so the
    # exact count depends on the page cache: fewer jobs than pool mode, and
    # at least one per cold round.
    [ "$j" -ge "$ROUNDS" ] && [ "$j" -lt $((2 * ROUNDS + 4)) ] ||
        { echo "FAIL: nowait: $j pool jobs, want $ROUNDS to $((2 * ROUNDS + 3))" >&2; rc=1; }
fi

# A bad value: one line naming the variable and the accepted values.
msg=$(GREEN_FILEIO=sometimes LD_PRELOAD="$LIBGREEN" "$PROG" 0 1 1 2>&1 >/dev/null | grep -c 'GREEN_FILEIO=sometimes.*inline|pool|nowait')
[ "$msg" = 1 ] || { echo "FAIL: GREEN_FILEIO=sometimes did not give exactly one line naming inline|pool|nowait" >&2; rc=1; }

[ $rc -eq 0 ] && echo "fileio_modes: ok"
exit $rc
