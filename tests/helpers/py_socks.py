# SPDX-License-Identifier: LGPL-2.1-or-later
"""py_socks.py - hold N SOCKS5 sessions open through a proxy, then use them.

  /usr/bin/python3 py_socks.py PORT N PID TARGET_PORT BODYFILE

For real_microsocks: opens N connections to the SOCKS5 proxy on
127.0.0.1:PORT, each negotiating no authentication and a CONNECT to
127.0.0.1:TARGET_PORT, so that a thread-per-client proxy has N threads
relaying.  Then it reads the OS thread count of process PID
("threads-while-held: T"), sends "GET /small.txt HTTP/1.0" on every session
and reads each response to EOF: each must be a 200 whose body is
BODYFILE's content ("responses: N of N ok").  Exit status 0 if all were.
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


def session(port, target):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"\x05\x01\x00")
    if recv_n(s, 2) != b"\x05\x00":
        raise RuntimeError("no-auth refused")
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") +
              struct.pack(">H", target))
    rep = recv_n(s, 10)
    if rep[1] != 0:
        raise RuntimeError("CONNECT refused: %d" % rep[1])
    return s


def main():
    port, n, pid, target = (int(a) for a in sys.argv[1:5])
    with open(sys.argv[5], "rb") as f:
        body = f.read()
    socks = [session(port, target) for _ in range(n)]
    time.sleep(0.5)
    print("threads-while-held: %d" % threads_of(pid))
    ok = [0]
    lock = threading.Lock()

    def use(s):
        try:
            s.sendall(b"GET /small.txt HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                c = s.recv(65536)
                if not c:
                    break
                data += c
            head, _, rest = data.partition(b"\r\n\r\n")
            if head.split(b" ")[1] == b"200" and rest == body:
                with lock:
                    ok[0] += 1
        except OSError:
            pass
        finally:
            s.close()

    ts = [threading.Thread(target=use, args=(s,)) for s in socks]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("responses: %d of %d ok" % (ok[0], n))
    sys.exit(0 if ok[0] == n else 1)


main()
