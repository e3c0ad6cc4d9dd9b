#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""dns_delay.py - a small authoritative DNS server for libgreen's resolver tests.

Loopback only.  One process, one epoll loop: every query is parsed when it
arrives, its answer is put on a heap with the time it is due (now + delay),
and the loop sends whatever is due.  Thousands of queries can therefore be in
flight at once; nothing sleeps and nothing runs a thread per query.

Plain sockets, no dnslib: the wire format needed here is small, and the
pyenv python3 first on PATH on the test machines does not see Debian's dnslib.

Usage:
  dns_delay.py [--addr 127.0.0.1] [--port 53] [--delay-ms 0] [--drop]
               [--rcvbuf BYTES] [--pidfile FILE] [--max-seconds 600] [--quiet]

--rcvbuf: the UDP socket's receive (and send) buffer; without it the
kernel's default (net.core.rmem_default, ~208 KiB), as real servers keep.

The pidfile is written once both the UDP and the TCP socket are bound, so a
script can wait for it to appear.  SIGTERM (or SIGINT, or --max-seconds)
ends the server; it then prints its counters on stderr and removes the pidfile.

The zone (names are case-insensitive; a trailing dot is ignored):
  hostN.delay.test         A 10.0.(N>>8).(N&255)  AAAA fd00::<N in hex>
                           (N decimal, 1-5 digits, 0..65535; e.g. host0300 ->
                           10.0.1.44 and fd00::12c)
  www.test.lan             A 10.1.2.3   AAAA fd00::1:2:3
  alias.test.lan           CNAME www.test.lan
  alias2.test.lan          CNAME alias.test.lan        (a chain of two)
  v4only.test.lan          A 10.1.2.4   (AAAA: NOERROR, no data)
  v6only.test.lan          AAAA fd00::1:2:4   (A: NOERROR, no data)
  empty.test.lan           exists (TXT only): A and AAAA are NOERROR, no data
  nx.test.lan              NXDOMAIN (so is every name not listed here)
  indns.test.lan           A 10.1.7.7   (the test hosts file says 10.7.7.7)
  dual.test.lan            A 10.1.9.1
  onlylan.test.lan         A 10.1.9.2
  big.test.lan             40 A records 10.2.0.1 .. 10.2.0.40 (680 bytes:
                           over UDP the answer is truncated (TC, no records),
                           so the client must retry over TCP; 40 and not 30
                           because 30 A records still fit in 512 bytes)
  trunc.test.lan           A 10.1.2.6, but always answered TC with no
                           records, over UDP and over TCP alike
  short.corp.test          A 10.9.9.9
  dual.corp.test           A 10.9.9.1   ("dual" + search corp.test test.lan
                           must find this one first)
  deep.x.corp.test         A 10.9.9.2   ("deep.x": absolute first, then search)
  x.y.corp.test            A 10.9.9.4   ("x.y" exists absolute too: 10.8.8.9)
  x.y                      A 10.8.8.9
  toplevel                 A 10.8.8.8   (single label at the root)
  PTR  10.1.2.3, fd00::1:2:3 -> www.test.lan
       10.1.2.4              -> v4only.test.lan
       fd00::1:2:4           -> v6only.test.lan
       10.1.2.5              -> ptr-a.test.lan and ptr-b.test.lan (two PTRs)
       10.9.9.9              -> short.corp.test
       10.0.a.b, fd00::N     -> hostNNNN.delay.test (N = a*256+b, 4 digits)
Every answer has TTL 0; negative answers carry an SOA (minimum 0).
Over UDP an answer larger than 512 bytes is sent truncated (no EDNS0 here).
"""

import argparse
import errno
import heapq
import ipaddress
import os
import re
import selectors
import signal
import socket
import struct
import sys
import time

T_A, T_NS, T_CNAME, T_SOA, T_PTR, T_TXT, T_AAAA, T_ANY = 1, 2, 5, 6, 12, 16, 28, 255
C_IN = 1
R_NOERROR, R_FORMERR, R_SERVFAIL, R_NXDOMAIN, R_NOTIMP = 0, 1, 2, 3, 4
UDP_MAX = 512
MAX_TCP_CONNS = 4000


# ---------------------------------------------------------------- the zone

def a(addr):
    return (T_A, socket.inet_pton(socket.AF_INET, addr))


def aaaa(addr):
    return (T_AAAA, socket.inet_pton(socket.AF_INET6, addr))


def ptr_name(addr):
    return ipaddress.ip_address(addr).reverse_pointer


STATIC = {
    "www.test.lan": [a("10.1.2.3"), aaaa("fd00::1:2:3")],
    "alias.test.lan": [(T_CNAME, "www.test.lan")],
    "alias2.test.lan": [(T_CNAME, "alias.test.lan")],
    "v4only.test.lan": [a("10.1.2.4")],
    "v6only.test.lan": [aaaa("fd00::1:2:4")],
    "empty.test.lan": [(T_TXT, b"\x05empty")],
    "indns.test.lan": [a("10.1.7.7")],
    "dual.test.lan": [a("10.1.9.1")],
    "onlylan.test.lan": [a("10.1.9.2")],
    "big.test.lan": [a("10.2.0.%d" % i) for i in range(1, 41)],
    "trunc.test.lan": [a("10.1.2.6")],
    "short.corp.test": [a("10.9.9.9")],
    "dual.corp.test": [a("10.9.9.1")],
    "deep.x.corp.test": [a("10.9.9.2")],
    "x.y.corp.test": [a("10.9.9.4")],
    "x.y": [a("10.8.8.9")],
    "toplevel": [a("10.8.8.8")],
    "ptr-a.test.lan": [a("10.1.2.5")],
    "ptr-b.test.lan": [a("10.1.2.5")],
    ptr_name("10.1.2.3"): [(T_PTR, "www.test.lan")],
    ptr_name("fd00::1:2:3"): [(T_PTR, "www.test.lan")],
    ptr_name("10.1.2.4"): [(T_PTR, "v4only.test.lan")],
    ptr_name("fd00::1:2:4"): [(T_PTR, "v6only.test.lan")],
    ptr_name("10.1.2.5"): [(T_PTR, "ptr-a.test.lan"), (T_PTR, "ptr-b.test.lan")],
    ptr_name("10.9.9.9"): [(T_PTR, "short.corp.test")],
}
ALWAYS_TC = {"trunc.test.lan"}
ZONES = ["delay.test", "test.lan", "corp.test", "in-addr.arpa", "ip6.arpa"]

HOST_RE = re.compile(r"^host([0-9]{1,5})\.delay\.test$")
PTR4_RE = re.compile(r"^([0-9]{1,3})\.([0-9]{1,3})\.0\.10\.in-addr\.arpa$")
PTR6_SUFFIX = ".0.0.d.f.ip6.arpa"  # fd00::/16 reversed


def host_records(name):
    m = HOST_RE.match(name)
    if not m:
        return None
    n = int(m.group(1))
    if n > 65535:
        return None
    return [a("10.0.%d.%d" % (n >> 8, n & 255)), aaaa("fd00::%x" % n)]


def ptr_records(name):
    m = PTR4_RE.match(name)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        if lo < 256 and hi < 256:
            return [(T_PTR, "host%04d.delay.test" % (hi * 256 + lo))]
    if name.endswith(PTR6_SUFFIX) and len(name.split(".")) == 34:
        try:
            addr = ipaddress.ip_address(
                ":".join(
                    "".join(reversed(name.split(".")[:32]))[i:i + 4] for i in range(0, 32, 4)
                )
            )
        except ValueError:
            return None
        n = int(addr) - int(ipaddress.ip_address("fd00::"))
        if 0 <= n <= 65535:
            return [(T_PTR, "host%04d.delay.test" % n)]
    return None


def records(name):
    """Every record of NAME as a list of (type, rdata), or None if it does not exist."""
    if name in STATIC:
        return STATIC[name]
    r = host_records(name)
    if r is None:
        r = ptr_records(name)
    return r


def soa_owner(name):
    for z in ZONES:
        if name == z or name.endswith("." + z):
            return z
    return ""


# ---------------------------------------------------------------- wire format

class FormErr(Exception):
    pass


def parse_name(msg, off):
    labels, jumps, end = [], 0, None
    while True:
        if off >= len(msg):
            raise FormErr("name runs past the end")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg) or jumps > 16:
                raise FormErr("bad pointer")
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumps += 1
            continue
        if n & 0xC0:
            raise FormErr("bad label type")
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n])
        off += n
    return labels, (end if end is not None else off)


class Writer:
    def __init__(self):
        self.buf = bytearray()
        self.names = {}

    def name(self, name):
        labels = [l for l in name.split(".") if l]
        for i in range(len(labels)):
            key = ".".join(labels[i:]).lower()
            if key in self.names:
                self.buf += struct.pack("!H", 0xC000 | self.names[key])
                return
            if len(self.buf) < 0x3FFF:
                self.names[key] = len(self.buf)
            lb = labels[i].encode()
            self.buf += bytes([len(lb)]) + lb
        self.buf += b"\0"

    def rr(self, name, rtype, rdata):
        self.name(name)
        self.buf += struct.pack("!HHIH", rtype, C_IN, 0, 0)
        at = len(self.buf)
        if rtype in (T_CNAME, T_PTR, T_NS):
            self.name(rdata)
        elif rtype == T_SOA:
            self.name("ns." + (rdata or "root"))
            self.name("hostmaster." + (rdata or "root"))
            self.buf += struct.pack("!IIIII", 1, 3600, 600, 86400, 0)
        else:
            self.buf += rdata
        struct.pack_into("!H", self.buf, at - 2, len(self.buf) - at)


def answer(query, transport):
    """The response to QUERY (bytes) as bytes, or None to stay silent."""
    if len(query) < 12:
        return None
    qid, flags, qd, _an, _ns, _ar = struct.unpack("!HHHHHH", query[:12])
    if flags & 0x8000:
        return None  # a response, not a query
    opcode = (flags >> 11) & 0xF
    rd = flags & 0x0100
    try:
        if qd != 1:
            raise FormErr("qdcount %d" % qd)
        labels, off = parse_name(query, 12)
        if off + 4 > len(query):
            raise FormErr("short question")
        qtype, qclass = struct.unpack("!HH", query[off:off + 4])
        question = query[12:off + 4]
    except FormErr:
        return struct.pack("!HHHHHH", qid, 0x8000 | (opcode << 11) | rd | R_FORMERR, 0, 0, 0, 0)
    qname = b".".join(labels).decode("latin-1").lower()
    hdr_flags = 0x8000 | (opcode << 11) | 0x0400 | rd | 0x0080  # QR AA RD RA

    def reply(rcode, ans=(), auth=(), tc=False):
        w = Writer()
        w.buf += struct.pack("!HHHHHH", qid, hdr_flags | (0x0200 if tc else 0) | rcode,
                             1, len(ans), len(auth), 0)
        w.names[qname] = 12
        w.buf += question
        for rr in ans:
            w.rr(*rr)
        for rr in auth:
            w.rr(*rr)
        return bytes(w.buf)

    if opcode != 0:
        return reply(R_NOTIMP)
    if qclass != C_IN:
        return reply(R_NOTIMP)
    if qname in ALWAYS_TC:
        return reply(R_NOERROR, tc=True)

    ans, name, rcode = [], qname, R_NOERROR
    for _ in range(8):  # follow CNAME chains, bounded
        recs = records(name)
        if recs is None:
            rcode = R_NXDOMAIN
            break
        cname = [r for r in recs if r[0] == T_CNAME]
        if cname and qtype not in (T_CNAME, T_ANY):
            ans.append((name, T_CNAME, cname[0][1]))
            name = cname[0][1]
            continue
        ans += [(name, t, d) for (t, d) in recs if t == qtype or qtype == T_ANY]
        break
    auth = [] if (ans and rcode == R_NOERROR and ans[-1][1] != T_CNAME) \
        else [(soa_owner(name), T_SOA, soa_owner(name))]
    if rcode == R_NXDOMAIN and ans:
        pass  # a CNAME to a missing name: NXDOMAIN with the CNAME, as servers do
    out = reply(rcode, ans, auth)
    if transport == "udp" and len(out) > UDP_MAX:
        out = reply(rcode, tc=True)
    return out


# ---------------------------------------------------------------- the loop

class Server:
    def __init__(self, args):
        self.args = args
        self.delay = args.delay_ms / 1000.0
        self.sel = selectors.DefaultSelector()
        self.heap = []  # (due, seq, kind, target, payload)
        self.seq = 0
        self.conns = {}  # sock -> [inbuf, outbuf]
        self.stats = {"udp_queries": 0, "tcp_queries": 0, "answers": 0, "dropped": 0,
                      "tcp_conns": 0, "send_errors": 0}

        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # By default the UDP socket keeps the kernel's buffers
        # (net.core.rmem_default), as dnsmasq, unbound and systemd-resolved
        # do unless configured: a burst of queries larger than the buffer
        # is then partly dropped, as it would be by those servers.
        # --rcvbuf N forces N bytes each way (past rmem_max where allowed).
        if args.rcvbuf > 0:
            for base in ("RCV", "SND"):
                for opt in (getattr(socket, "SO_%sBUFFORCE" % base, None),
                            getattr(socket, "SO_%sBUF" % base)):
                    if opt is None:
                        continue
                    try:
                        self.udp.setsockopt(socket.SOL_SOCKET, opt, args.rcvbuf)
                        break
                    except OSError:
                        pass
        self.udp.bind((args.addr, args.port))
        self.udp.setblocking(False)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((args.addr, args.port))
        self.tcp.listen(1024)
        self.tcp.setblocking(False)
        self.sel.register(self.udp, selectors.EVENT_READ, "udp")
        self.sel.register(self.tcp, selectors.EVENT_READ, "listen")

    def schedule(self, kind, target, payload):
        self.seq += 1
        heapq.heappush(self.heap, (time.monotonic() + self.delay, self.seq, kind, target, payload))

    def on_udp(self):
        for _ in range(4096):  # drain, bounded
            try:
                data, peer = self.udp.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self.stats["udp_queries"] += 1
            if self.args.drop:
                self.stats["dropped"] += 1
                continue
            out = answer(data, "udp")
            if out is not None:
                self.schedule("udp", peer, out)

    def on_accept(self):
        for _ in range(256):
            try:
                c, _peer = self.tcp.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if len(self.conns) >= MAX_TCP_CONNS:
                c.close()
                continue
            c.setblocking(False)
            self.stats["tcp_conns"] += 1
            self.conns[c] = [bytearray(), bytearray()]
            self.sel.register(c, selectors.EVENT_READ, "conn")

    def close_conn(self, c):
        if c in self.conns:
            del self.conns[c]
            self.sel.unregister(c)
            c.close()

    def on_conn(self, c, events):
        st = self.conns.get(c)
        if st is None:
            return
        if events & selectors.EVENT_READ:
            try:
                data = c.recv(65536)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                # The client is done.  Answers still due to it are dropped:
                # it cannot read them anyway.
                self.close_conn(c)
                return
            if data:
                st[0] += data
                while len(st[0]) >= 2:
                    n = struct.unpack("!H", st[0][:2])[0]
                    if len(st[0]) < 2 + n:
                        break
                    q = bytes(st[0][2:2 + n])
                    del st[0][:2 + n]
                    self.stats["tcp_queries"] += 1
                    if self.args.drop:
                        self.stats["dropped"] += 1
                        continue
                    out = answer(q, "tcp")
                    if out is not None:
                        self.schedule("tcp", c, struct.pack("!H", len(out)) + out)
        if events & selectors.EVENT_WRITE:
            self.flush(c)

    def flush(self, c):
        st = self.conns.get(c)
        if st is None:
            return
        if st[1]:
            try:
                n = c.send(st[1])
                del st[1][:n]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self.stats["send_errors"] += 1
                self.close_conn(c)
                return
        want = selectors.EVENT_READ | (selectors.EVENT_WRITE if st[1] else 0)
        self.sel.modify(c, want, "conn")

    def send_due(self):
        now = time.monotonic()
        while self.heap and self.heap[0][0] <= now:
            _due, _seq, kind, target, payload = heapq.heappop(self.heap)
            if kind == "udp":
                try:
                    self.udp.sendto(payload, target)
                    self.stats["answers"] += 1
                except OSError:
                    self.stats["send_errors"] += 1
            else:
                st = self.conns.get(target)
                if st is None:
                    continue
                st[1] += payload
                self.stats["answers"] += 1
                self.flush(target)

    def run(self):
        deadline = time.monotonic() + self.args.max_seconds
        while True:
            now = time.monotonic()
            if now >= deadline:
                print("dns_delay: --max-seconds reached, exiting", file=sys.stderr)
                return
            timeout = deadline - now
            if self.heap:
                timeout = min(timeout, max(0.0, self.heap[0][0] - now))
            for key, events in self.sel.select(timeout):
                if key.data == "udp":
                    self.on_udp()
                elif key.data == "listen":
                    self.on_accept()
                else:
                    self.on_conn(key.fileobj, events)
            self.send_due()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--drop", action="store_true", help="read queries, never answer")
    p.add_argument("--rcvbuf", type=int, default=0,
                   help="UDP socket buffer in bytes (default: the kernel's)")
    p.add_argument("--pidfile")
    p.add_argument("--max-seconds", type=float, default=600.0)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()
    if args.addr not in ("127.0.0.1",) and not args.addr.startswith("127."):
        print("dns_delay: loopback addresses only", file=sys.stderr)
        return 2

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv = Server(args)
    except OSError as e:
        print("dns_delay: cannot bind %s:%d: %s" % (args.addr, args.port, e), file=sys.stderr)
        return 1
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.pidfile)
    try:
        srv.run()
    finally:
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
        if not args.quiet:
            print("dns_delay: " + " ".join("%s=%d" % kv for kv in sorted(srv.stats.items())),
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
