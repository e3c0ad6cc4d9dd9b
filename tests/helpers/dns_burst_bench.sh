#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# dns_burst_bench.sh - time a burst of lookups against a slow server with the
# kernel's default receive buffer and with a large one (docs/resolver.md,
# "Pacing").  Not a test: prints figures.
#
# Usage: tests/helpers/dns_burst_bench.sh [LIB [N [RUNS]]]
#   LIB   the shim to preload (default build/libgreen.so)
#   N     lookups per run (default 1000), RUNS runs per case (default 5)
# In a private namespace (tests/helpers/dns_ns.sh; resolv.conf with
# "options ndots:1 timeout:3 attempts:5"), dns_delay.py answering after
# DELAY_MS (default 300) ms, for each buffer (default, 8 MiB) RUNS processes of
# build/tests/dns_burst N: each run's time, the server's dropped datagrams
# (the namespace's UDP RcvbufErrors) and the median.

set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
. "$SRC/tests/helpers/dns_ns.sh"

if [ "${1:-}" != --inside ]; then
    flags=$(dns_ns_flags) || { echo "no private namespace here" >&2; exit 1; }
    # shellcheck disable=SC2086 # the flags are words
    DNS_NS_FLAGS=$flags exec unshare $flags -- bash "$0" --inside "$@"
fi
shift
LIB=${1:-$BUILD/libgreen.so}
N=${2:-1000}
RUNS=${3:-5}
DIR=$(mktemp -d /tmp/dns_burst_bench.XXXXXX) || exit 1
trap 'dns_server_stop "$DIR"; wait 2>/dev/null; rm -rf "$DIR"' EXIT
dns_ns_setup "$DIR" || exit 1
cat >"$DIR/resolv.conf" <<'EOF'
nameserver 127.0.0.1
search corp.test test.lan
options ndots:1 timeout:3 attempts:5
EOF
drops() { awk '/^Udp:/ { n++ } n == 2 && /^Udp:/ { print $6; exit }' /proc/net/snmp; }
for buf in 0 $((8 << 20)); do
    dns_server_start "$DIR" --delay-ms "${DELAY_MS:-300}" --rcvbuf $buf --quiet || exit 1
    times=
    for i in $(seq 1 "$RUNS"); do
        d0=$(drops)
        ms=$(LD_PRELOAD=$LIB timeout -k 5 60 "$BUILD/tests/dns_burst" "$N" $((i * N % 9000)) \
            2>&1 >/dev/null | sed -n 's/.* in \([0-9]*\) ms/\1/p')
        echo "rcvbuf=${buf:-default} run $i: ${ms:-?} ms, $(($(drops) - d0)) dropped" >&2
        times="$times ${ms:-99999}"
    done
    # shellcheck disable=SC2086 # one time a word
    med=$(printf '%s\n' $times | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    echo "rcvbuf=$([ $buf = 0 ] && echo default || echo $buf) n=$N runs=$RUNS median_ms=$med all:$times"
    dns_server_stop "$DIR"
done
