#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=30 again=1
# green_inherit: children inherit the preload, unless GREEN_INHERIT=0, which
# takes libgreen (only) out of LD_PRELOAD for everything the program execs
# or spawns, through a shell, posix_spawn (system) and fork+exec alike.
set -u

if [ ! -f "$LIBGREEN" ]; then
	echo "FAIL: $LIBGREEN missing"
	exit 1
fi
LIBM=
for f in /lib/x86_64-linux-gnu/libm.so.6 /lib/*/libm.so.6; do
	[ -e "$f" ] && { LIBM=$f; break; }
done
fail=0

# mapped PID: 1 if libgreen is mapped in process PID, else 0
probe='if grep -q libgreen /proc/$$/maps; then echo 1; else echo 0; fi'

check() { # name want got
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1: want '$2', got '$3'"
		fail=1
	fi
}

# The program itself is under the shim either way.
got=$(LD_PRELOAD=$LIBGREEN sh -c "$probe")
check "the preloaded process" 1 "$got"

# Default: a child (a shell the shell forks, then exec) has it too.
got=$(LD_PRELOAD=$LIBGREEN sh -c "sh -c '$probe'; true")
check "child by default" 1 "$got"

# GREEN_INHERIT=0: the parent has it, the child does not.
got=$(GREEN_INHERIT=0 LD_PRELOAD=$LIBGREEN sh -c "$probe; sh -c '$probe'; true" | tr '\n' ' ')
check "GREEN_INHERIT=0 parent, child" "1 0 " "$got"

# Other preloads stay; only ours goes.
if [ -n "$LIBM" ]; then
	got=$(GREEN_INHERIT=0 LD_PRELOAD="$LIBGREEN:$LIBM" sh -c 'sh -c "echo \$LD_PRELOAD"; true')
	check "other preloads kept" "$LIBM" "$got"
	got=$(GREEN_INHERIT=0 LD_PRELOAD="$LIBM $LIBGREEN" sh -c 'sh -c "echo \$LD_PRELOAD"; true')
	check "other preloads kept (space)" "$LIBM" "$got"
fi

# Through system() and popen() of a program under the shim (posix_spawn).
got=$(GREEN_INHERIT=0 LD_PRELOAD=$LIBGREEN python3 -c "import os; os.system('''sh -c '$probe' ''')" 2>/dev/null)
if [ -n "$got" ]; then
	check "GREEN_INHERIT=0 through system()" 0 "$got"
fi

# A bad value is reported and the default (inherit) is used.
got=$(GREEN_INHERIT=maybe LD_PRELOAD=$LIBGREEN sh -c "sh -c '$probe'; true" 2>/dev/null)
check "GREEN_INHERIT=maybe: default" 1 "$got"

[ $fail = 0 ] && echo "ok: GREEN_INHERIT"
exit $fail
