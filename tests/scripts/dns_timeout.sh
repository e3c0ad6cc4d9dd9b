#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=300
# dns_timeout.sh - a server that never answers: the shim gives up as glibc
# does, with the same error, after resolv.conf's timeout and attempts.
#
# In a private namespace (tests/helpers/dns_ns.sh; resolv.conf has
# "options ndots:1 timeout:1 attempts:2") with dns_delay.py --drop on
# 127.0.0.1:53:
#  1. single lookups through dns_table (getaddrinfo of a qualified name and of
#     a short name that goes through the search list, gethostbyaddr): the
#     output under the shim (and GREEN_RESOLVER=thread for the first) must be
#     the native one (EAI_AGAIN, h_errno TRY_AGAIN), and take at least 1.5 s
#     (it did wait for the attempts) and at most the native time + 1 s (it
#     honoured timeout:1 attempts:2 rather than c-ares' defaults).
#     glibc 2.36 here: 2 s per name asked (2 attempts x 1 s, no doubling with
#     one server); a qualified name costs 4 s (as-is, then the first search
#     domain; TRY_AGAIN stops the search), a PTR 2 s.
#  2. 20 threads whose lookups all time out at once: all fail with EAI_AGAIN,
#     together within the native single-lookup time + 2 s (they overlap).
# Exit 77 if a private namespace cannot be made.

set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
. "$SRC/tests/helpers/dns_ns.sh"
TABLE=$BUILD/tests/dns_table
CONC=$BUILD/tests/dns_concurrent_1000

if [ "${1:-}" = "--enter" ]; then
    dns_ns_enter --inside
    exit 1
fi
if [ "${1:-}" != "--inside" ]; then
    if ! dns_ns_flags >/dev/null; then
        echo "skip: cannot make a private network namespace (unshare -mn: $(dns_ns_why))"
        exit 77
    fi
    for p in "$TABLE" "$CONC"; do
        [ -x "$p" ] || { echo "FAIL: $p is not built (make tests)" >&2; exit 1; }
    done
    if [ "${DNS_NATIVE_ONLY:-0}" != 1 ] && [ ! -f "$LIBGREEN" ]; then
        echo "FAIL: $LIBGREEN is not built" >&2
        exit 1
    fi
    timeout -k 5 280 bash "$0" --enter
    exit $?
fi

# ---------------------------------------------------------------- inside
DIR=$(mktemp -d /tmp/dns_timeout.XXXXXX) || exit 1
trap 'dns_server_stop "$DIR"; wait 2>/dev/null; rm -rf "$DIR"' EXIT
trap 'exit 143' TERM INT HUP
dns_ns_setup "$DIR" || { echo "FAIL: namespace set-up" >&2; exit 1; }
dns_server_start "$DIR" --drop --quiet || exit 1
rc=0

# timed OUTFILE CMD...: run CMD, stdout to OUTFILE, print elapsed seconds.
timed() {
    local out=$1 t0 t1
    shift
    t0=$EPOCHREALTIME
    timeout -k 5 60 "$@" >"$out" 2>>"$DIR/stderr"
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }

# check LABEL PATTERN WANT_ERROR [extra shim mode]
check() {
    local label=$1 pat=$2 want=$3 thread=${4:-} tn ts hi
    tn=$(timed "$DIR/native.txt" "$TABLE" "$pat")
    if ! grep -q "= .*$want" "$DIR/native.txt" || [ "$(grep -c '^[a-z]*\.[0-9]' "$DIR/native.txt")" != 1 ]; then
        echo "FAIL: $label: native answer is not $want:" >&2
        cat "$DIR/native.txt" >&2
        rc=1
        return
    fi
    echo "$label: native $want in $tn s" >&2
    [ "${DNS_NATIVE_ONLY:-0}" = 1 ] && return
    hi=$(awk -v t="$tn" 'BEGIN { printf "%.2f", t + 1.0 }')
    local modes=("ares")
    [ -n "$thread" ] && modes+=("thread")
    for m in "${modes[@]}"; do
        if [ "$m" = thread ]; then
            ts=$(timed "$DIR/shim.txt" env LD_PRELOAD="$LIBGREEN" GREEN_RESOLVER=thread "$TABLE" "$pat")
        else
            ts=$(timed "$DIR/shim.txt" env LD_PRELOAD="$LIBGREEN" "$TABLE" "$pat")
        fi
        if ! cmp -s "$DIR/native.txt" "$DIR/shim.txt"; then
            echo "FAIL: $label: shim ($m) answer differs from glibc's:" >&2
            diff -u "$DIR/native.txt" "$DIR/shim.txt" >&2
            rc=1
        elif ! between "$ts" 1.5 "$hi"; then
            echo "FAIL: $label: shim ($m) gave up after $ts s; glibc took $tn s (want 1.5 .. $hi s)" >&2
            rc=1
        else
            echo "$label: shim ($m) $want in $ts s" >&2
        fi
    done
}

check "getaddrinfo www.test.lan" \
    'host="www.test.lan" serv="80" fam=UNSPEC type=STREAM proto=0 flags=0 {' EAI_AGAIN thread
check "getaddrinfo short (search list)" \
    'host="short" serv="80" fam=INET type=STREAM proto=0 flags=0 {' EAI_AGAIN
check "gethostbyaddr 10.1.2.3" \
    'gethostbyaddr type=INET addr=10.1.2.3 len=4' TRY_AGAIN
tone=$(timed "$DIR/one.txt" "$TABLE" 'host="v4only.test.lan" serv="80" fam=INET type=STREAM proto=0 flags=0 {')

# 20 threads, every lookup times out; the program exits 1 ("20 of 20 wrong").
overlap() {
    local label=$1 t hi
    shift
    : >"$DIR/stderr"
    t=$(timed "$DIR/conc.txt" "$@" "$CONC" 20 0 500)
    hi=$(awk -v t="$tone" 'BEGIN { printf "%.2f", t + 2.0 }')
    if ! grep -q "FAIL: 20 of 20 lookups wrong" "$DIR/stderr" ||
        [ "$(grep -c 'Temporary failure in name resolution' "$DIR/stderr")" -lt 10 ]; then
        echo "FAIL: $label: 20 timed-out lookups did not all fail with EAI_AGAIN:" >&2
        head -n 12 "$DIR/stderr" >&2
        rc=1
    elif ! between "$t" 1.5 "$hi"; then
        echo "FAIL: $label: 20 timed-out lookups took $t s (one takes $tone s natively; want <= $hi s)" >&2
        rc=1
    else
        echo "$label: 20 timed-out lookups in $t s" >&2
    fi
}
overlap "native"
[ "${DNS_NATIVE_ONLY:-0}" = 1 ] || overlap "shim" env LD_PRELOAD="$LIBGREEN"

[ $rc -eq 0 ] && echo "dns_timeout: ok"
exit $rc
