# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# witness.sh - did a run under the shim really run under the shim?
# Sourced (not run) by scripts/run-tests, tests/helpers/real_lib.sh and the
# script tests that run programs under the shim.
#
# Run the program with GREEN_STATS=FILE (a fresh file); at exit the shim
# appends one block per process to it (runtime/diag/stats.c):
#   --- libgreen stats: pid 1234 (prog) ---
#   green threads created  N
#   hub blocked            N (calls that could not park)[: read 2, ...]
# A run without the shim leaves no block at all.
#
#   witness PROG THREADS BLOCKED FILE...
# checks the blocks in the FILEs (the GREEN_STATS file; the run's stderr
# too, where the stats go when the file cannot be opened, as after a
# program dropped its privileges) of the processes of the processes named PROG (the program's basename,
# also its forked children): at least one block, green threads created > 0
# unless THREADS is 0, hub blocked 0 unless BLOCKED is ok (THREADS 1 and
# BLOCKED no are the strict defaults).  Returns 0 or 1
# and sets WITNESS to a short note: "threads N, blocked N" or the failure.

witness() {
	local prog=$1 threads=$2 blocked=$3 blocks created nblocked calls f
	local -a files=()
	shift 3
	for f in "$@"; do
		[ -f "$f" ] && files+=("$f")
	done
	read -r blocks created nblocked calls < <(awk -v prog="$prog" '
		/^--- libgreen stats: pid [0-9]+ \(.*\) ---$/ {
			n = $0
			sub(/^[^(]*\(/, "", n)
			sub(/\) ---$/, "", n)
			mine = (n == prog)
			if (mine)
				blocks++
			next
		}
		mine && /^green threads created / { created += $4 }
		mine && /^hub blocked / {
			nblocked += $3
			if (index($0, ": ")) {
				c = substr($0, index($0, ": ") + 2)
				gsub(/, /, ",", c)
				gsub(/ /, "=", c)
				calls = calls (calls == "" ? "" : ",") c
			}
		}
		END { printf "%d %d %d %s\n", blocks, created, nblocked, calls }' \
		/dev/null "${files[@]}")
	if [ "$blocks" -eq 0 ]; then
		WITNESS="no GREEN_STATS block from $prog: the shim did not run it"
		return 1
	fi
	WITNESS="threads $created, blocked $nblocked${calls:+ ($calls)}"
	if [ "$threads" != 0 ] && [ "$created" -eq 0 ]; then
		WITNESS="no green thread created under the shim ($WITNESS)"
		return 1
	fi
	if [ "$blocked" != ok ] && [ "$nblocked" -ne 0 ]; then
		WITNESS="the hub blocked: $WITNESS"
		return 1
	fi
	return 0
}
