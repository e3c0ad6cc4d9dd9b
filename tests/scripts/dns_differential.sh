#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=300 again=1
# dns_differential.sh - the shim's resolvers must answer exactly as glibc does.
#
# In a private namespace (see tests/helpers/dns_ns.sh) with dns_delay.py on
# 127.0.0.1:53, build/tests/dns_table asks ~3,400 questions (getaddrinfo,
# getnameinfo, gethostbyname*, gethostbyaddr*) three ways:
#   native   plain glibc
#   ares     LD_PRELOAD=$LIBGREEN (default resolver: c-ares)
#   thread   LD_PRELOAD=$LIBGREEN GREEN_RESOLVER=thread
# and every output must be identical to the native one, line for line.
# Then the same in other network set-ups, on the entries they affect:
#   noroute  no default routes: the RFC 3484 sort sees no source addresses
#   v4       only a global IPv4 address: AI_ADDRCONFIG drops IPv6
#   v6       only a global IPv6 address: AI_ADDRCONFIG drops IPv4
#   ndots2   RES_OPTIONS=ndots:2 in the environment
#   localdom LOCALDOMAIN=test.lan in the environment (replaces the search list)
# The outputs stay in $BUILD/dns_differential/ for reading.
#
# DNS_NATIVE_ONLY=1: run only glibc, twice per phase, and require the two runs
# to agree (checks the table and the server are deterministic).
# Exit 77 if a private namespace cannot be made here.

set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
. "$SRC/tests/helpers/dns_ns.sh"

TABLE=$BUILD/tests/dns_table
OUT=$BUILD/dns_differential

if [ "${1:-}" = "--enter" ]; then
    dns_ns_enter --inside
    echo "FAIL: could not enter the namespace" >&2
    exit 1
fi
if [ "${1:-}" != "--inside" ]; then
    if ! dns_ns_flags >/dev/null; then
        echo "skip: cannot make a private network namespace (unshare -mn: $(dns_ns_why))"
        exit 77
    fi
    if [ ! -x "$TABLE" ]; then
        echo "FAIL: $TABLE is not built (make tests)" >&2
        exit 1
    fi
    if [ "${DNS_NATIVE_ONLY:-0}" != 1 ] && [ ! -f "$LIBGREEN" ]; then
        echo "FAIL: $LIBGREEN is not built" >&2
        exit 1
    fi
    rm -rf "$OUT" && mkdir -p "$OUT" || exit 1
    # The whole run is bounded: 8 minutes at most.
    timeout -k 5 280 bash "$0" --enter
    exit $?
fi

# ---------------------------------------------------------------- inside
DIR=$(mktemp -d /tmp/dns_differential.XXXXXX) || exit 1
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    dns_server_stop "$DIR"
    wait 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

dns_ns_setup "$DIR" || { echo "FAIL: namespace set-up" >&2; exit 1; }
dns_server_start "$DIR" --quiet || { echo "FAIL: dns_delay.py" >&2; exit 1; }

failed=0

# run NAME [ENV...] -- PATTERNS...: one run of the table into $OUT/NAME.txt
run() {
    local name=$1 rc
    shift
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" timeout -k 5 60 "$TABLE" "$@" >"$OUT/$name.txt" 2>"$OUT/$name.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL: $name: dns_table exited with $rc" >&2
        tail -n 5 "$OUT/$name.err" >&2
        failed=1
        return 1
    fi
    return 0
}

same() {
    local a=$1 b=$2
    if ! cmp -s "$OUT/$a.txt" "$OUT/$b.txt"; then
        echo "FAIL: $b differs from $a ($(diff "$OUT/$a.txt" "$OUT/$b.txt" | grep -c '^[<>]') lines):" >&2
        diff -u "$OUT/$a.txt" "$OUT/$b.txt" | head -n 150 >&2
        failed=1
        return 1
    fi
    return 0
}

# phase NAME NETMODE [ENV...] -- PATTERNS...
phase() {
    local name=$1 net=$2
    shift 2
    dns_net "$net"
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
    local t0=$SECONDS
    run "$name.native" "${envs[@]}" "$@" || return
    if [ ! -s "$OUT/$name.native.txt" ]; then
        echo "FAIL: $name: empty native output" >&2
        failed=1
        return
    fi
    if [ "${DNS_NATIVE_ONLY:-0}" = 1 ]; then
        run "$name.native2" "${envs[@]}" "$@" && same "$name.native" "$name.native2"
    else
        run "$name.ares" "${envs[@]}" LD_PRELOAD="$LIBGREEN" "$@" &&
            same "$name.native" "$name.ares"
        run "$name.thread" "${envs[@]}" LD_PRELOAD="$LIBGREEN" GREEN_RESOLVER=thread "$@" &&
            same "$name.native" "$name.thread"
    fi
    echo "$name: $(grep -c '^[a-z]*\.[0-9]' "$OUT/$name.native.txt") entries, $((SECONDS - t0)) s" >&2
}

phase full dual --
phase noroute noroute -- fam=UNSPEC "|ALL" "flags=ALL"
phase v4 v4 -- ADDRCONFIG
phase v6 v6 -- ADDRCONFIG
phase ndots2 dual RES_OPTIONS=ndots:2 -- "{search}" "{dns}"
phase localdom dual LOCALDOMAIN=test.lan -- "{search}"

if [ $failed -ne 0 ]; then
    echo "outputs in $OUT" >&2
    exit 1
fi
echo "dns_differential: all outputs identical (in $OUT)"
exit 0
