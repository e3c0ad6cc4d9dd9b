#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vtree_harness.sh: a test harness script of the kind GREEN_CLOCK=virtual
# is for.  time_virtual_tree.sh runs it natively (about 25 s) and under the
# virtual clock (well under a second); both must print the same bytes.
# Steps print the whole seconds they took on bash's clock
# ($EPOCHREALTIME: gettimeofday, the tree's clock under the shim) or on
# date's (a process of its own).
set -u
us() { echo $((${EPOCHREALTIME/./})); }
took() { echo $((($(us) - $1) / 1000000)); }

# Parallel jobs print in the order of their sleeps.
t=$(us)
(sleep 3 && echo "job a: slept 3") &
(sleep 1 && echo "job b: slept 1") &
(sleep 2 && echo "job c: slept 2") &
wait
echo "jobs: wait took $(took "$t") s"

# timeout kills the sleep at 10 s, on the clock sleep jumps too.
t=$(us)
timeout 10 sleep 60
echo "timeout 10 sleep 60: exit $? after $(took "$t") s"
timeout 5 sleep 1
echo "timeout 5 sleep 1: exit $?"

# A background sleep killed from the foreground.
sleep 30 &
k=$!
sleep 1
kill "$k"
wait "$k"
echo "sleep 30 killed after 1 s: exit $?"

# wait for one job while another runs.
t=$(us)
sleep 4 &
p=$!
sleep 2
echo "foreground sleep 2 took $(took "$t") s"
wait "$p"
echo "wait for sleep 4: exit $? after $(took "$t") s"

# A command substitution and a pipe whose writers sleep.
x=$(sleep 1 && echo inner)
echo "command substitution: $x"
{ sleep 2 && echo piped; } | { read -r l && echo "read '$l'"; }

# A nested shell with jobs of its own; date reads the clock in children.
d=$(date +%s%N)
bash -c 'sleep 2 & sleep 1; echo "nested: first"; wait; echo "nested: second"'
echo "nested shell: $((($(date +%s%N) - d) / 1000000000)) s on date's clock"
