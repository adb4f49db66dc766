#!/usr/bin/env python3
"""Session resumption from an independent client (Python's ssl, OpenSSL).

  resume.py PORT CA CERT KEY TLS [--at EPOCH] [--wait-for FILE] [--count N]

Connects, sends a line and reads the echo, keeps the session; then (after
the wall clock reaches EPOCH, and FILE exists, if given; at most 30 s)
connects N more times (1 by default), each offering the session the
previous connection gave, if any.
Prints one line per connection: "N resumed=yes|no reply=yes|no hint=S"
(reply: the echo came back; hint: the lifetime in seconds of the ticket
the connection left the client with), or "N error=REASON".
"""
import argparse
import os
import socket
import ssl
import time

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("ca")
ap.add_argument("cert")
ap.add_argument("key")
ap.add_argument("tls", choices=["1.2", "1.3"])
ap.add_argument("--at", type=float)
ap.add_argument("--wait-for")
ap.add_argument("--count", type=int, default=1)
a = ap.parse_args()

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(a.ca)
ctx.load_cert_chain(a.cert, a.key)
v = ssl.TLSVersion.TLSv1_2 if a.tls == "1.2" else ssl.TLSVersion.TLSv1_3
ctx.minimum_version = ctx.maximum_version = v


def once(n, session):
    raw = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
        s.sendall(b"ping %d\n" % n)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        sess = s.session
        print("%d resumed=%s reply=%s hint=%s" % (
            n, "yes" if s.session_reused else "no", "yes" if data else "no",
            sess.ticket_lifetime_hint if sess is not None else "-"),
            flush=True)
        s.close()
        return sess
    except (OSError, ssl.SSLError) as e:
        print("%d error=%s" % (n, getattr(e, "reason", None) or e),
              flush=True)
        raw.close()
        return None


sess = once(0, None)
limit = time.time() + 30
while time.time() < limit and (
        (a.at is not None and time.time() < a.at) or
        (a.wait_for is not None and not os.path.exists(a.wait_for))):
    time.sleep(0.05)
for i in range(1, a.count + 1):
    got = once(i, sess)
    sess = got if got is not None else sess
