# SPDX-License-Identifier: LGPL-2.1-or-later
"""py_hold.py - hold N connections open on a server, then use them all.

  /usr/bin/python3 py_hold.py [--socks5] PORT N PID URL BODYFILE

For the real-program tests (tinyproxy, socat...): opens N TCP connections
to 127.0.0.1:PORT and sends nothing, so a thread-per-connection server has
N threads waiting in read.  After 1 s it reads the OS thread count of
process PID ("threads-while-held: T" on stdout), then sends
"GET URL HTTP/1.0" on every connection (a proxy request when URL is
absolute) and reads every response to EOF; each must be a 200 whose body
is BODYFILE's content ("responses: N of N ok" on stdout).  Every
connection works in a thread of its own (send, then read), all at once.
Exit status 0 if every response was right.

With --socks5 (real_microsocks) PORT is a SOCKS5 proxy: each connection
first negotiates no authentication and a CONNECT to URL's 127.0.0.1:port,
so that the proxy has N threads relaying, and the request names URL's
path.  threads_of(pid) serves the other helpers too.
"""

import socket
import struct
import sys
import threading
import time


def threads_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def recv_n(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("proxy closed")
        b += c
    return b


def socks5(s, port):
    """Through the SOCKS5 proxy on s, CONNECT to 127.0.0.1:port."""
    s.sendall(b"\x05\x01\x00")
    if recv_n(s, 2) != b"\x05\x00":
        raise RuntimeError("no-auth refused")
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") +
              struct.pack(">H", port))
    rep = recv_n(s, 10)
    if rep[1] != 0:
        raise RuntimeError("CONNECT refused: %d" % rep[1])


def main():
    args = sys.argv[1:]
    via_socks = args[:1] == ["--socks5"]
    if via_socks:
        args = args[1:]
    port, n, pid = int(args[0]), int(args[1]), int(args[2])
    url = args[3]
    with open(args[4], "rb") as f:
        want = f.read()
    if via_socks:  # http://127.0.0.1:PORT/PATH
        hostport, _, path = url.split("//", 1)[1].partition("/")
        target, url = int(hostport.rsplit(":", 1)[1]), "/" + path
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if via_socks:
            socks5(s, target)
        conns.append(s)
    time.sleep(1.0)
    print("threads-while-held: %d" % threads_of(pid), flush=True)

    ok = []
    bad = []
    lock = threading.Lock()

    def use(i, s):
        try:
            s.sendall(("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
                % url).encode())
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
            head, _, body = data.partition(b"\r\n\r\n")
            good = head.split(b"\r\n", 1)[0].split()[1:2] == [b"200"] \
                and body == want
            with lock:
                (ok if good else bad).append((i, head[:60]))
        except Exception as e:
            with lock:
                bad.append((i, repr(e)))
        finally:
            s.close()

    ts = [threading.Thread(target=use, args=(i, s))
        for i, s in enumerate(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    print("responses: %d of %d ok" % (len(ok), n), flush=True)
    for b in bad[:5]:
        print("bad response %d: %r" % b, file=sys.stderr)
    return 0 if len(ok) == n else 1


if __name__ == "__main__":
    sys.exit(main())
