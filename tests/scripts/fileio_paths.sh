#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=60 again=1
# fileio_paths.sh - opens and stats of paths under GREEN_FILEIO.
#
# build/tests/fileio_paths calls open, openat, creat, __open64_2, stat,
# lstat, fstatat, statx and __xstat on files, symlinks, a directory,
# missing paths and a FIFO (with a ticker thread running).  Its stdout
# must be the same natively and under the shim in every mode.  With
# GREEN_FILEIO=pool every one of those calls (and the two regular-file
# reads and writes) runs on the worker pool: GREEN_STATS's pool jobs must
# equal the count the program prints.  In inline and nowait modes only the
# two FIFO opens (which wait for the other end) use the pool.

set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
PROG=$BUILD/tests/fileio_paths

[ -x "$PROG" ] || { echo "FAIL: $PROG is not built (make tests)" >&2; exit 1; }
DIR=$(mktemp -d /tmp/fileio_paths_sh.XXXXXX) || exit 1
trap 'rm -rf "$DIR"' EXIT
rc=0

if ! timeout -k 5 30 "$PROG" >"$DIR/native" 2>"$DIR/native.err"; then
	echo "FAIL: native run:" >&2
	cat "$DIR/native.err" >&2
	exit 1
fi
calls=$(sed -n 's/^path calls: //p' "$DIR/native.err")

for mode in inline pool nowait; do
	if ! timeout -k 5 30 env LD_PRELOAD="$LIBGREEN" GREEN_FILEIO=$mode \
	     GREEN_STATS="$DIR/stats.$mode" "$PROG" >"$DIR/$mode" 2>"$DIR/$mode.err"; then
		echo "FAIL: GREEN_FILEIO=$mode:" >&2
		cat "$DIR/$mode.err" >&2
		rc=1
		continue
	fi
	if ! diff -u "$DIR/native" "$DIR/$mode" >&2; then
		echo "FAIL: GREEN_FILEIO=$mode: output differs from native" >&2
		rc=1
	fi
	jobs=$(awk '/^pool jobs/ { n = $3 } END { print n + 0 }' "$DIR/stats.$mode")
	case $mode in
	pool) want=$calls ;;
	*) want=2 ;;
	esac
	echo "GREEN_FILEIO=$mode: $jobs pool jobs for $calls calls (want $want)" >&2
	[ "$jobs" = "$want" ] || { echo "FAIL: GREEN_FILEIO=$mode: $jobs pool jobs, want $want" >&2; rc=1; }
done
[ $rc = 0 ] && echo "fileio_paths: same results natively and in 3 modes; pool ran all $calls calls"
exit $rc
