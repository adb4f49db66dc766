#!/usr/bin/env python3
"""Hostile and faulty TLS peers for the tests, bounded in count and time.

  hostile.py stall PORT N SECONDS   N connections each send a partial
      ClientHello and stall; prints "ready" once all are open, then waits
      (at most SECONDS) for the server to close them; prints
      "closed=K of N in T s".
  hostile.py burst PORT N           N connections opened as fast as
      possible and held for a moment; prints "opened=N".
  hostile.py vanish-handshake PORT  a partial ClientHello, then a reset.
  hostile.py vanish-stream PORT CA CERT KEY   a full mTLS handshake and
      some data, then the TCP connection is closed without close_notify.
"""
import socket
import ssl
import struct
import sys
import time

# The first bytes of a TLS ClientHello: a handshake record of 512 bytes,
# of which only a few arrive.
PARTIAL_HELLO = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc,
                       0x03, 0x03]) + bytes(16)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def stall(port, n, limit):
    conns = []
    for _ in range(n):
        s = connect(port)
        s.sendall(PARTIAL_HELLO)
        conns.append(s)
    print("ready", flush=True)
    start = time.monotonic()
    open_ = list(conns)
    closed = 0
    while open_ and time.monotonic() - start < limit:
        still = []
        for s in open_:
            s.settimeout(0.01)
            try:
                if s.recv(4096) == b"":
                    closed += 1
                    s.close()
                    continue
                # An alert may come first; the close follows.
                still.append(s)
            except socket.timeout:
                still.append(s)
            except OSError:
                closed += 1
                s.close()
        open_ = still
    print("closed=%d of %d in %.1f s" % (closed, n,
                                         time.monotonic() - start),
          flush=True)
    for s in open_:
        s.close()


def burst(port, n):
    conns = []
    for _ in range(n):
        try:
            conns.append(connect(port))
        except OSError:
            pass
    print("opened=%d" % len(conns), flush=True)
    sys.stdin.readline()
    for s in conns:
        s.close()


def reset(s):
    # SO_LINGER 0: the close sends a RST, as a vanished peer's kernel would.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def vanish_handshake(port):
    s = connect(port)
    s.sendall(PARTIAL_HELLO)
    reset(s)


def vanish_stream(port, ca, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    raw = connect(port)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"some data before vanishing\n")
    s.recv(4096)
    reset(s)


mode = sys.argv[1]
if mode == "stall":
    stall(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
elif mode == "burst":
    burst(int(sys.argv[2]), int(sys.argv[3]))
elif mode == "vanish-handshake":
    vanish_handshake(int(sys.argv[2]))
elif mode == "vanish-stream":
    vanish_stream(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
else:
    sys.exit("hostile.py: unknown mode " + mode)
