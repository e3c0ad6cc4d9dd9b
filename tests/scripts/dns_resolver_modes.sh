#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120
# dns_resolver_modes.sh - GREEN_RESOLVER, GREEN_POOL_SIZE, GREEN_DNS_SERVERS,
# the automatic choice, fork in both resolver modes, resolv.conf's rotate.
#
# In a private namespace (tests/helpers/dns_ns.sh), dns_delay.py answering
# after 200 ms on 127.0.0.1:53:
#  1. dns_fork (a DNS name before fork, in the child, after fork) under the
#     shim with GREEN_RESOLVER=ares and =thread;
#  2. 4 threads, one lookup each: ares and thread (pool of 4) overlap
#     (< 500 ms); block is plain libc, one lookup after the other on the
#     hub (>= 700 ms); thread with GREEN_POOL_SIZE=2 takes two rounds
#     (>= 350 ms) and with 8 threads and a pool of 8 one round (< 500 ms);
#  3. the automatic choice: nsswitch.conf "files dns" uses c-ares (GREEN_STATS
#     counts DNS queries, no pool jobs), "files mdns4_minimal dns" uses the
#     thread resolver (pool jobs, no queries of ours); the answers are the
#     same as glibc's either way;
#  4. a bad GREEN_RESOLVER and a bad GREEN_DNS_SERVERS each give one line
#     naming the variable, and lookups still work with the default;
#  5. dns_mixed: 210 threads, each one lookup of one of seven kinds
#     (getaddrinfo, gethostbyname_r, gethostbyname2_r, gethostbyname,
#     gethostbyname2, gethostbyaddr_r, getnameinfo), all answers checked,
#     natively and under the shim (ares: all overlap, < 1.5 s; thread: 14;
#     GREEN_THREADS=native: 60 real threads, each with its own hub and
#     c-ares channel);
#     then, with the server answering after 1.5 s, a cancelled getaddrinfo
#     ends within 0.8 s and the next lookup works (natively, ares, and
#     ares on real threads; the thread resolver's lookups are not
#     cancellation points);
#  6. resolv.conf with two nameservers (two servers, 127.0.0.1 and
#     127.0.0.3): without "options rotate" every query goes to the first,
#     with it both get some, natively and under the shim;
#  7. a burst of 3,000 lookups answered at once: none lost (< 0.9 s).
# Exit 77 if a private namespace cannot be made.

set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
. "$SRC/tests/helpers/dns_ns.sh"
FORK=$BUILD/tests/dns_fork
CONC=$BUILD/tests/dns_concurrent_1000
TABLE=$BUILD/tests/dns_table
MIXED=$BUILD/tests/dns_mixed

if [ "${1:-}" = "--enter" ]; then
    dns_ns_enter --inside
    exit 1
fi
if [ "${1:-}" != "--inside" ]; then
    if ! dns_ns_flags >/dev/null; then
        echo "skip: cannot make a private network namespace (unshare -mn: $(dns_ns_why))"
        exit 77
    fi
    for p in "$FORK" "$CONC" "$TABLE" "$MIXED"; do
        [ -x "$p" ] || { echo "FAIL: $p is not built (make tests)" >&2; exit 1; }
    done
    [ -f "$LIBGREEN" ] || { echo "FAIL: $LIBGREEN is not built" >&2; exit 1; }
    timeout -k 5 110 "$0" --enter
    exit $?
fi

# ---------------------------------------------------------------- inside
DIR=$(mktemp -d /tmp/dns_modes.XXXXXX) || exit 1
DIR2=$DIR/second
mkdir -p "$DIR2"
trap 'dns_server_stop "$DIR"; dns_server_stop "$DIR2"; wait 2>/dev/null; rm -rf "$DIR"' EXIT
dns_ns_setup "$DIR" || { echo "FAIL: namespace set-up" >&2; exit 1; }
dns_server_start "$DIR" --delay-ms 200 --quiet || exit 1
rc=0
fail() { echo "FAIL: $*" >&2; rc=1; }
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }

# 1. fork, both modes
FORK_WANT="parent before fork: lookups ok
child: lookups ok
parent after fork: lookups ok"
for mode in ares thread; do
    got=$(GREEN_RESOLVER=$mode LD_PRELOAD="$LIBGREEN" timeout -k 5 30 "$FORK" \
        host0300.delay.test 10.0.1.44 2>"$DIR/fork.err")
    if [ "$got" != "$FORK_WANT" ]; then
        fail "dns_fork with GREEN_RESOLVER=$mode:"
        cat "$DIR/fork.err" >&2
    else
        echo "dns_fork, GREEN_RESOLVER=$mode: ok" >&2
    fi
done

# 2. overlap, by mode and pool size.  conc LABEL N LO HI [VAR=VALUE...]
conc() {
    local label=$1 n=$2 lo=$3 hi=$4 out ms
    shift 4
    out=$(env "$@" LD_PRELOAD="$LIBGREEN" timeout -k 5 30 "$CONC" "$n" 0 100 2>"$DIR/conc.err")
    ms=$(sed -n 's/.* lookups in \([0-9]*\) ms/\1/p' "$DIR/conc.err")
    if [ "$out" != "dns concurrent: all lookups correct" ] || [ -z "$ms" ]; then
        fail "$label: lookups failed:"
        head -n 5 "$DIR/conc.err" >&2
    elif ! between "$ms" "$lo" "$hi"; then
        fail "$label: $n lookups took $ms ms (want $lo .. $hi ms)"
    else
        echo "$label: $n lookups in $ms ms" >&2
    fi
}
conc "ares" 4 0 499 GREEN_RESOLVER=ares
conc "thread, pool 4" 4 0 499 GREEN_RESOLVER=thread GREEN_POOL_SIZE=4
conc "block" 4 700 5000 GREEN_RESOLVER=block
conc "thread, pool 2" 4 350 5000 GREEN_RESOLVER=thread GREEN_POOL_SIZE=2
conc "thread, pool 8" 8 0 499 GREEN_RESOLVER=thread GREEN_POOL_SIZE=8

# 3. the automatic choice follows nsswitch.conf's hosts line.
q='host="www.test.lan" serv="80" fam=UNSPEC type=STREAM proto=0 flags=0 {'
statline() { awk -v k="$2" 'index($0, k) == 1 { n = $3 } END { print n + 0 }' "$1"; }
auto() {
    local label=$1 wantdns=$2
    "$TABLE" "$q" >"$DIR/auto.native" 2>/dev/null
    rm -f "$DIR/stats"
    LD_PRELOAD="$LIBGREEN" GREEN_STATS="$DIR/stats" "$TABLE" "$q" >"$DIR/auto.shim" 2>/dev/null
    local dns jobs
    dns=$(statline "$DIR/stats" "dns lookups")
    jobs=$(statline "$DIR/stats" "pool jobs")
    if ! cmp -s "$DIR/auto.native" "$DIR/auto.shim" || [ ! -s "$DIR/auto.native" ]; then
        fail "auto ($label): answer differs from glibc's"
        diff "$DIR/auto.native" "$DIR/auto.shim" >&2
    elif [ "$wantdns" = 1 ] && { [ "$dns" -lt 1 ] || [ "$jobs" != 0 ]; }; then
        fail "auto ($label): want c-ares, got $dns queries and $jobs pool jobs"
    elif [ "$wantdns" = 0 ] && { [ "$dns" != 0 ] || [ "$jobs" -lt 1 ]; }; then
        fail "auto ($label): want the thread resolver, got $dns queries and $jobs pool jobs"
    else
        echo "auto ($label): $dns queries, $jobs pool jobs" >&2
    fi
}
auto "hosts: files dns" 1
sed 's/^hosts:.*/hosts:          files mdns4_minimal [NOTFOUND=return] dns/' \
    "$DIR/nsswitch.conf" >"$DIR/nsswitch.mdns"
mount --bind "$DIR/nsswitch.mdns" /etc/nsswitch.conf || fail "mount nsswitch.conf"
auto "hosts: files mdns4_minimal dns" 0
umount /etc/nsswitch.conf

# 4. bad values: one line each, and the default still answers.
bad() {
    local var=$1 val=$2 n
    env "$var=$val" LD_PRELOAD="$LIBGREEN" "$TABLE" "$q" >"$DIR/bad.out" 2>"$DIR/bad.err"
    n=$(grep -c "$var=" "$DIR/bad.err")
    "$TABLE" "$q" >"$DIR/bad.native" 2>/dev/null
    if [ "$n" != 1 ]; then
        fail "$var=$val: want one line naming it on stderr, got $n:"
        cat "$DIR/bad.err" >&2
    elif ! cmp -s "$DIR/bad.out" "$DIR/bad.native"; then
        fail "$var=$val: the lookup did not give glibc's answer"
    else
        echo "$var=$val: $(grep "$var=" "$DIR/bad.err")" >&2
    fi
}
bad GREEN_RESOLVER carrier-pigeon
bad GREEN_DNS_SERVERS 'not-an-address:x'

# 5. every kind of lookup at once; a cancelled lookup.
# mixed LABEL MAX_MS ARGS -- [VAR=VALUE...]
mixed() {
    local label=$1 max=$2 args=() out ms want="dns mixed: all lookups correct"
    shift 2
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
    shift
    [ "${#args[@]}" -ge 3 ] && want="$want
cancel: ok"
    out=$(timeout -k 5 30 env "$@" "$MIXED" "${args[@]}" 2>"$DIR/mixed.err")
    ms=$(sed -n 's/.* lookups in \([0-9]*\) ms/\1/p' "$DIR/mixed.err")
    if [ "$out" != "$want" ]; then
        fail "$label: dns_mixed ${args[*]}:"
        head -n 12 "$DIR/mixed.err" >&2
    elif [ -n "$max" ] && ! between "$ms" 0 "$max"; then
        fail "$label: dns_mixed ${args[*]}: $ms ms, want < $max ms"
    else
        echo "$label: dns_mixed ${args[*]}: $(tr '\n' ' ' <"$DIR/mixed.err")" >&2
    fi
}
mixed "native" "" 210 3000 --
mixed "shim ares" 1500 210 3000 -- LD_PRELOAD="$LIBGREEN" GREEN_RESOLVER=ares
mixed "shim thread" "" 14 3300 -- LD_PRELOAD="$LIBGREEN" GREEN_RESOLVER=thread
mixed "shim native threads" 1500 60 3400 -- LD_PRELOAD="$LIBGREEN" GREEN_THREADS=native
dns_server_stop "$DIR"
dns_server_start "$DIR" --delay-ms 1500 --quiet || exit 1
mixed "native" "" 8 4000 1600 --
mixed "shim ares" "" 8 4100 1600 -- LD_PRELOAD="$LIBGREEN" GREEN_RESOLVER=ares
mixed "shim native threads" "" 8 4200 1600 -- LD_PRELOAD="$LIBGREEN" GREEN_THREADS=native

# 6. rotate: two servers; count the queries each one saw.
dns_server_stop "$DIR"
dns_server_start "$DIR" || exit 1
dns_server_start "$DIR2" --addr 127.0.0.3 || exit 1
rot() {
    local label=$1 opts=$2 a b
    shift 2
    printf 'nameserver 127.0.0.1\nnameserver 127.0.0.3\noptions %s\n' "$opts" >"$DIR/resolv.rot"
    mount --bind "$DIR/resolv.rot" /etc/resolv.conf || { fail "mount resolv.conf"; return; }
    dns_server_stop "$DIR"
    dns_server_stop "$DIR2"
    : >"$DIR/server.log"
    : >"$DIR2/server.log"
    dns_server_start "$DIR" || exit 1
    dns_server_start "$DIR2" --addr 127.0.0.3 || exit 1
    env "$@" timeout -k 5 30 "$CONC" 40 0 200 >/dev/null 2>"$DIR/rot.err" ||
        { fail "$label: lookups failed"; cat "$DIR/rot.err" >&2; }
    dns_server_stop "$DIR"
    dns_server_stop "$DIR2"
    umount /etc/resolv.conf
    a=$(sed -n 's/.*udp_queries=\([0-9]*\).*/\1/p' "$DIR/server.log" | tail -n 1)
    b=$(sed -n 's/.*udp_queries=\([0-9]*\).*/\1/p' "$DIR2/server.log" | tail -n 1)
    a=${a:-0}
    b=${b:-0}
    if [ "$opts" = rotate ]; then
        if [ "$a" -lt 8 ] || [ "$b" -lt 8 ]; then
            fail "$label: with rotate the two servers saw $a and $b queries (want both >= 8 of 80)"
        else
            echo "$label: rotate: $a and $b queries" >&2
        fi
    elif [ "$a" -lt 80 ] || [ "$b" != 0 ]; then
        fail "$label: without rotate the two servers saw $a and $b queries (want 80 and 0)"
    else
        echo "$label: no rotate: $a and $b queries" >&2
    fi
}
rot "native" "timeout:2"
rot "native" "rotate"
rot "shim" "timeout:2" LD_PRELOAD="$LIBGREEN"
rot "shim" "rotate" LD_PRELOAD="$LIBGREEN"

# 7. a burst: 3,000 lookups answered at once (no delay) all arrive on the
# hub's one socket per server; none may be lost and wait for a retry
# (resolv.conf's timeout here is 1 s).
dns_server_start "$DIR" --quiet || exit 1
out=$(LD_PRELOAD="$LIBGREEN" timeout -k 5 30 "$CONC" 3000 900 10000 2>"$DIR/burst.err")
if [ "$out" != "dns concurrent: all lookups correct" ]; then
    fail "burst of 3000 lookups:"
    head -n 5 "$DIR/burst.err" >&2
else
    echo "burst: $(grep 'lookups in' "$DIR/burst.err")" >&2
fi

[ $rc -eq 0 ] && echo "dns_resolver_modes: ok"
exit $rc
