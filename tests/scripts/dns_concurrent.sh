#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=300 again=1
# dns_concurrent.sh - lookups from many green threads overlap.
#
# Part 1 (private namespace, glibc-compatible set-up, server on 127.0.0.1:53
# answering every query after 300 ms, with the kernel's default receive
# buffer, then again with an 8 MiB one):
#   native   100 real threads: every answer right (time on stderr only)
#   shim     1,000 green threads: every answer right, all done in < 1.5 s
#            (one after another they would take 300 s)
# Part 2: the server on 127.0.0.1:<port>, the shim told
#   GREEN_DNS_SERVERS=127.0.0.1:<port>; 1,000 lookups right and < 1.5 s.
#   glibc cannot use another port, so this part is shim-only.  It runs in
#   the namespace too when there is one; without one, only if the machine's
#   resolv.conf names loopback servers alone (else exit 77).
# In both parts dns_fork also resolves host0300.delay.test before fork, in the
# child and after fork (natively and under the shim in part 1, shim in part 2).
# Each bound is for the lookups themselves (timed by the program from a
# barrier after all threads exist).

set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LIBGREEN=${LIBGREEN:-$BUILD/libgreen.so}
. "$SRC/tests/helpers/dns_ns.sh"
# shellcheck source=tests/scripts/lib/witness.sh
. "$SRC/tests/scripts/lib/witness.sh"
PROG=$BUILD/tests/dns_concurrent_1000
FORK=$BUILD/tests/dns_fork
DELAY_MS=300
MAX_MS=1500

for p in "$PROG" "$FORK"; do
    if [ ! -x "$p" ]; then
        echo "FAIL: $p is not built (make tests)" >&2
        exit 1
    fi
done

# fork_check LABEL [VAR=VALUE...] (needs $DIR): dns_fork with a DNS name, so the child
# has to use the resolver's DNS socket after the parent used it.
FORK_WANT="parent before fork: lookups ok
child: lookups ok
parent after fork: lookups ok"
fork_check() {
    local label=$1 got rc
    shift
    got=$(env "$@" timeout -k 5 60 "$FORK" host0300.delay.test 10.0.1.44 2>"$DIR/fork.err")
    rc=$?
    if [ $rc -ne 0 ] || [ "$got" != "$FORK_WANT" ]; then
        echo "FAIL: dns_fork ($label), exit $rc:" >&2
        cat "$DIR/fork.err" >&2
        return 1
    fi
    echo "$label: dns_fork ok" >&2
    return 0
}
if [ ! -f "$LIBGREEN" ] && [ "${DNS_NATIVE_ONLY:-0}" != 1 ]; then
    echo "FAIL: $LIBGREEN is not built" >&2
    exit 1
fi

# ---------------------------------------------------------------- the parts
check_out() {
    [ "$1" = "dns concurrent: all lookups correct" ] && return 0
    echo "FAIL: $2 output: $1" >&2
    return 1
}

# part1: inside the namespace, server on 127.0.0.1:53.
part1() {
    local out
    dns_server_start "$DIR" --delay-ms $DELAY_MS || return 1
    echo "part 1 native, 100 threads:" >&2
    out=$(timeout -k 5 60 "$PROG" 100 0 0) || { echo "FAIL: native lookups" >&2; rc=1; }
    check_out "$out" native || rc=1
    fork_check "part 1 native" || rc=1
    if [ "${DNS_NATIVE_ONLY:-0}" != 1 ]; then
        echo "part 1 shim, 1000 threads:" >&2
        rm -f "$DIR/p1.stats"
        out=$(GREEN_STATS="$DIR/p1.stats" LD_PRELOAD="$LIBGREEN" \
            timeout -k 5 60 "$PROG" 1000 $MAX_MS 1000) ||
            { echo "FAIL: shim lookups (server 127.0.0.1:53, delay $DELAY_MS ms)" >&2; rc=1; }
        check_out "$out" shim || rc=1
        witness "${PROG##*/}" 1 no "$DIR/p1.stats" ||
            { echo "FAIL: part 1 shim: $WITNESS" >&2; rc=1; }
        fork_check "part 1 shim" LD_PRELOAD="$LIBGREEN" || rc=1
    fi
    dns_server_stop "$DIR"
    # The same with a server that forces an 8 MiB receive buffer.
    if [ "${DNS_NATIVE_ONLY:-0}" != 1 ]; then
        dns_server_start "$DIR" --delay-ms $DELAY_MS --rcvbuf $((8 << 20)) || return 1
        echo "part 1 shim, 1000 threads, 8 MiB server buffer:" >&2
        out=$(LD_PRELOAD="$LIBGREEN" timeout -k 5 60 "$PROG" 1000 $MAX_MS 4000) ||
            { echo "FAIL: shim lookups (8 MiB server buffer)" >&2; rc=1; }
        check_out "$out" "shim, 8 MiB buffer" || rc=1
        dns_server_stop "$DIR"
    fi
}

# part2: server on 127.0.0.1:<port>, the shim told so by GREEN_DNS_SERVERS.
part2() {
    local port='' p out
    for p in 5354 5355 5356 5357 5358 5359 5360 5361; do
        if dns_server_start "$DIR" --port $p --delay-ms $DELAY_MS 2>/dev/null; then
            port=$p
            break
        fi
    done
    if [ -z "$port" ]; then
        echo "FAIL: could not start dns_delay.py on any port 5354-5361" >&2
        cat "$DIR/server.log" >&2
        rc=1
        return
    fi
    if [ "${DNS_NATIVE_ONLY:-0}" = 1 ]; then
        # glibc cannot be pointed at this port; check the server answers there.
        "$DNS_PY" - "$port" <<'PYEOF' || { echo "FAIL: part 2 server does not answer" >&2; rc=1; }
import socket, struct, sys
q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in b"host0300.delay.test".split(b".")) + b"\0"
q += struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
r = s.recv(512)
assert r[:2] == q[:2] and r[-4:] == socket.inet_aton("10.0.1.44"), r
print("part 2 server on port %s answers" % sys.argv[1], file=sys.stderr)
PYEOF
    else
        echo "part 2 shim, 1000 threads, GREEN_DNS_SERVERS=127.0.0.1:$port:" >&2
        rm -f "$DIR/p2.stats"
        out=$(GREEN_STATS="$DIR/p2.stats" GREEN_DNS_SERVERS=127.0.0.1:$port LD_PRELOAD="$LIBGREEN" \
            timeout -k 5 60 "$PROG" 1000 $MAX_MS 2000) ||
            { echo "FAIL: shim lookups (GREEN_DNS_SERVERS=127.0.0.1:$port, delay $DELAY_MS ms)" >&2; rc=1; }
        check_out "$out" "part 2 shim" || rc=1
        witness "${PROG##*/}" 1 no "$DIR/p2.stats" ||
            { echo "FAIL: part 2 shim: $WITNESS" >&2; rc=1; }
        fork_check "part 2 shim" GREEN_DNS_SERVERS=127.0.0.1:$port LD_PRELOAD="$LIBGREEN" || rc=1
    fi
    dns_server_stop "$DIR"
}

rc=0
case "${1:-}" in
--enter)
    dns_ns_enter --inside
    exit 1
    ;;
--inside)
    # Both parts in the namespace: part 2 then runs with nothing on
    # 127.0.0.1:53, so a shim that ignored GREEN_DNS_SERVERS fails fast
    # instead of asking the machine's real nameserver.
    DIR=$(mktemp -d /tmp/dns_concurrent.XXXXXX) || exit 1
    trap 'dns_server_stop "$DIR"; wait 2>/dev/null; rm -rf "$DIR"' EXIT
    trap 'exit 143' TERM INT HUP
    dns_ns_setup "$DIR" || { echo "FAIL: namespace set-up" >&2; exit 1; }
    part1
    part2
    [ $rc -eq 0 ] && echo "dns_concurrent: ok"
    exit $rc
    ;;
esac

if dns_ns_flags >/dev/null; then
    timeout -k 5 280 bash "$0" --enter
    exit $?
fi
echo "part 1 skipped: cannot make a private network namespace ($(dns_ns_why))" >&2
# Without a namespace, part 2 runs on the host only if every nameserver there
# is on loopback: a shim that ignored GREEN_DNS_SERVERS must not send queries
# off the machine.
if grep -E '^[[:space:]]*nameserver' /etc/resolv.conf |
    grep -vqE '^[[:space:]]*nameserver[[:space:]]+(127\.|::1)'; then
    echo "skip: no private namespace, and /etc/resolv.conf names non-loopback servers"
    exit 77
fi
DIR=$(mktemp -d /tmp/dns_concurrent2.XXXXXX) || exit 1
trap 'dns_server_stop "$DIR"; wait 2>/dev/null; rm -rf "$DIR"' EXIT
trap 'exit 143' TERM INT HUP
part2
[ $rc -eq 0 ] && echo "dns_concurrent: ok"
exit $rc
