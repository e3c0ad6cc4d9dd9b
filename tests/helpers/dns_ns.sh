# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# dns_ns.sh - shared by the DNS test scripts (sourced, not run).
#
# glibc's resolver only talks to port 53, so comparisons against glibc run in
# a private network + mount (+ UTS) namespace: loopback up, a few addresses of
# our own on lo (so AI_ADDRCONFIG and the RFC 3484 sort have something to
# look at), our own resolv.conf, hosts, nsswitch.conf, host.conf and gai.conf
# bind-mounted over /etc's, and tests/helpers/dns_delay.py on 127.0.0.1:53.
# Nothing configured here is visible outside the namespace; no packet leaves it.
#
# Functions:
#   dns_ns_flags            print the unshare flags that work here, or fail
#   dns_ns_enter ARGS...    re-exec "$0" ARGS... inside a new namespace
#   dns_ns_setup DIR        (inside) interfaces, routes, files, bind mounts
#   dns_net MODE            (inside) MODE = dual | v4 | v6 | noroute
#   dns_server_start DIR ARGS...   start dns_delay.py, wait until it listens
#   dns_server_stop DIR     stop it by its PID
# Needs SRC (repo root).

DNS_PY=${DNS_PY:-}
if [ -z "$DNS_PY" ]; then
    if [ -x /usr/bin/python3 ]; then DNS_PY=/usr/bin/python3; else DNS_PY=python3; fi
fi

dns_ns_flags() {
    if unshare -mnu true 2>/dev/null; then
        echo "-mnu"
    elif unshare -mn true 2>/dev/null; then
        echo "-mn"
    else
        return 1
    fi
}

# Why unshare fails, in one line (for the skip message).
dns_ns_why() {
    unshare -mn true 2>&1 | head -n 1
}

dns_ns_enter() {
    local flags
    flags=$(dns_ns_flags) || return 1
    # shellcheck disable=SC2086 # $flags is a list of options
    DNS_NS_FLAGS=$flags exec unshare $flags -- "${BASH:-bash}" "$0" "$@"
}

dns_ns_files() {
    local dir=$1
    cat >"$dir/resolv.conf" <<'EOF'
nameserver 127.0.0.1
search corp.test test.lan
options ndots:1 timeout:1 attempts:2
EOF
    cat >"$dir/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
10.5.5.5	hosted.test.lan hosted hostalias
fd00::5:5:5	hosted6.test.lan hosted6
10.5.5.6	multi.test.lan multi
10.5.5.7	multi.test.lan
fd00::5:5:8	multi.test.lan
10.7.7.7	indns.test.lan indns
192.0.2.1	box.test.lan box
EOF
    cat >"$dir/nsswitch.conf" <<'EOF'
passwd:         files
group:          files
shadow:         files
hosts:          files dns
networks:       files
protocols:      files
services:       files
EOF
    echo "multi on" >"$dir/host.conf"
    : >"$dir/gai.conf"
}

dns_ns_setup() {
    local dir=$1 f
    dns_ns_files "$dir"
    ip link set lo up || return 1
    case "${DNS_NS_FLAGS:-}" in
    *u*) hostname box.test.lan ;;
    esac
    for f in resolv.conf hosts nsswitch.conf host.conf gai.conf; do
        # Bind only over files that exist (a missing gai.conf means defaults anyway).
        if [ -e "/etc/$f" ]; then
            mount --bind "$dir/$f" "/etc/$f" || return 1
        fi
    done
    dns_net dual
}

# The namespace's addresses and routes.  Loopback-only, inside the namespace.
dns_net() {
    ip addr flush dev lo scope global 2>/dev/null
    ip route flush table main 2>/dev/null
    ip -6 route flush table main 2>/dev/null
    case "$1" in
    dual | noroute)
        ip addr add 192.0.2.1/24 dev lo
        ip -6 addr add 2001:db8::1/64 dev lo nodad
        ;;
    v4) ip addr add 192.0.2.1/24 dev lo ;;
    v6) ip -6 addr add 2001:db8::1/64 dev lo nodad ;;
    esac
    case "$1" in
    dual | v4 | v6)
        ip route add default dev lo 2>/dev/null
        ip -6 route add default dev lo 2>/dev/null
        ;;
    esac
    return 0
}

dns_server_start() {
    local dir=$1
    shift
    rm -f "$dir/server.pid"
    "$DNS_PY" "$SRC/tests/helpers/dns_delay.py" --pidfile "$dir/server.pid" "$@" \
        2>>"$dir/server.log" &
    for _ in $(seq 1 100); do
        [ -s "$dir/server.pid" ] && return 0
        if ! kill -0 $! 2>/dev/null; then
            echo "dns_delay.py failed to start:" >&2
            cat "$dir/server.log" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "dns_delay.py did not write its pidfile in 5 s" >&2
    return 1
}

dns_server_stop() {
    local dir=$1 pid
    [ -s "$dir/server.pid" ] || return 0
    pid=$(cat "$dir/server.pid")
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
    return 0
}
