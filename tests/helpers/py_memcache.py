# SPDX-License-Identifier: LGPL-2.1-or-later
"""py_memcache.py - a memcached text-protocol client over many connections.

  /usr/bin/python3 py_memcache.py PORT CONNS KEYS PID

Opens CONNS connections to 127.0.0.1:PORT, sets KEYS keys spread over them
(each connection from a thread of its own, all at once), reads every key
back from another connection, deletes one and increments a counter, then
asks the server's stats.  Prints what it found (the same natively and
under the shim) and "threads-while-held: T" (OS threads of PID while all
connections are open).  Exit status 0 if every answer was right.
"""

import socket
import sys
import threading

from py_hold import threads_of


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            c = self.s.recv(65536)
            if not c:
                raise EOFError("server closed")
            self.buf += c
        ln, _, self.buf = self.buf.partition(b"\r\n")
        return ln

    def exact(self, n):
        while len(self.buf) < n:
            c = self.s.recv(65536)
            if not c:
                raise EOFError("server closed")
            self.buf += c
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def cmd(self, b):
        self.s.sendall(b)
        return self.line()

    def get(self, key):
        self.s.sendall(b"get " + key + b"\r\n")
        ln = self.line()
        if ln == b"END":
            return None
        n = int(ln.split()[3])
        v = self.exact(n + 2)[:-2]
        if self.line() != b"END":
            raise RuntimeError("no END")
        return v

    def stats(self):
        self.s.sendall(b"stats\r\n")
        st = {}
        while True:
            ln = self.line()
            if ln == b"END":
                return st
            _, k, v = ln.decode().split(" ", 2)
            st[k] = v


def value(i):
    return (b"value-%d-" % i) * (1 + i % 7)


def main():
    port, nconn, nkeys, pid = (int(a) for a in sys.argv[1:5])
    conns = [Conn(port) for _ in range(nconn)]
    bad = [0]

    def setter(c, j):
        for i in range(j, nkeys, nconn):
            v = value(i)
            if c.cmd(b"set key%d 0 0 %d\r\n%s\r\n" % (i, len(v), v)) != b"STORED":
                bad[0] += 1

    def getter(c, j):
        for i in range(j, nkeys, nconn):
            if c.get(b"key%d" % i) != value(i):
                bad[0] += 1

    for fn in (setter, getter):
        ts = [threading.Thread(target=fn, args=(c, (j + (fn is getter)) % nconn))
              for j, c in enumerate(conns)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    print("threads-while-held: %d" % threads_of(pid))
    c = conns[0]
    print("delete: %s" % c.cmd(b"delete key7\r\n").decode())
    print("get deleted: %s" % c.get(b"key7"))
    c.cmd(b"set n 0 0 1\r\n5\r\n")
    print("incr: %s" % c.cmd(b"incr n 37\r\n").decode())
    st = c.stats()
    print("curr_connections >= %d: %s" % (nconn, int(st["curr_connections"]) >= nconn))
    print("cmd_set: %s" % st["cmd_set"])
    print("get_hits: %s" % st["get_hits"])
    print("wrong answers: %d" % bad[0])
    sys.exit(0 if bad[0] == 0 else 1)


main()
