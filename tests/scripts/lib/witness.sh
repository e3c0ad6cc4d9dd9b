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

# --- how many hubs the shim runs -------------------------------------------
# Tests that count a process's OS threads under the shim allow one more per
# hub beyond the first (the extra hubs are OS threads the shim makes at the
# first pthread_create).
#
# GR_HUBS_DEFAULT: GREEN_HUBS's default in the library, 1 or auto, read from
# its one definition (runtime/core/config.c: `#define GR_HUBS_DEFAULT 1`, 0
# meaning auto) so that flipping the library's default flips the tests.
# GR_HUBS_MAX likewise (runtime/core/green.h).
#
#   shim_hubs [VAR=value...]
# prints the number of hubs a program run under the shim gets with the
# current environment's GREEN_* settings, overridden by the assignments
# given (as a shim run's extra settings are, later ones winning):
# GREEN_HUBS a whole number 1..GR_HUBS_MAX is that many, auto the CPUs of
# the affinity mask (nproc), unset, empty or invalid GR_HUBS_DEFAULT; but 1
# with GREEN_CLOCK=virtual, a seeded GREEN_SCHED or GREEN_THREADS=native
# (runtime/core/config.c hubs_of, runtime/core/sched.c hubs_wanted).
#
#   shim_threads BASE [VAR=value...]
# prints BASE + (shim_hubs - 1): the most OS threads a test that allowed
# BASE under one hub allows now.

_gr_src=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
GR_HUBS_DEFAULT=$(sed -n 's/^#define GR_HUBS_DEFAULT \([0-9][0-9]*\).*/\1/p' \
	"$_gr_src/runtime/core/config.c" 2>/dev/null | head -n 1)
case $GR_HUBS_DEFAULT in
0) GR_HUBS_DEFAULT=auto ;;
[1-9]*) ;;
*) GR_HUBS_DEFAULT=1 ;;
esac
GR_HUBS_MAX=$(sed -n 's/^#define GR_HUBS_MAX \([0-9][0-9]*\).*/\1/p' \
	"$_gr_src/runtime/core/green.h" 2>/dev/null | head -n 1)
GR_HUBS_MAX=${GR_HUBS_MAX:-64}
unset _gr_src

shim_hubs() {
	local v=${GREEN_HUBS:-} clock=${GREEN_CLOCK:-} sched=${GREEN_SCHED:-}
	local mode=${GREEN_THREADS:-} a
	for a in "$@"; do
		case $a in
		GREEN_HUBS=*) v=${a#GREEN_HUBS=} ;;
		GREEN_CLOCK=*) clock=${a#GREEN_CLOCK=} ;;
		GREEN_SCHED=*) sched=${a#GREEN_SCHED=} ;;
		GREEN_THREADS=*) mode=${a#GREEN_THREADS=} ;;
		esac
	done
	case $clock/$mode/$sched in
	virtual/*|*/native/*|*/random*|*/pct*)
		echo 1
		return
		;;
	esac
	if [[ $v =~ ^[0-9]{1,9}$ ]]; then
		v=$((10#$v))
		{ [ "$v" -ge 1 ] && [ "$v" -le "$GR_HUBS_MAX" ]; } ||
			v=$GR_HUBS_DEFAULT
	elif [ "$v" != auto ]; then
		v=$GR_HUBS_DEFAULT
	fi
	if [ "$v" = auto ]; then
		# nproc counts the affinity mask (and would heed OpenMP's
		# variables, which the shim does not).
		v=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null)
		[[ $v =~ ^[1-9][0-9]*$ ]] || v=1
		[ "$v" -gt "$GR_HUBS_MAX" ] && v=$GR_HUBS_MAX
	fi
	echo "$v"
}

shim_threads() {
	local base=$1
	shift
	echo $((base + $(shim_hubs "$@") - 1))
}
