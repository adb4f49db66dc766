#!/usr/bin/env python3
"""A TLS 1.2 client written byte by byte, to send malformed handshake
messages that no library would send, and report the server's alert.

  rawtls12.py PORT MODE [CERT]

MODE: cert-truncated (a Certificate message whose list length is cut
short), cert-empty (a Certificate message with no body at all), cert-none
(a well-formed Certificate message with no certificate), verify-truncated
and verify-empty (a good Certificate from the PEM file CERT, a
ClientKeyExchange, then a CertificateVerify cut short, or with no body).  Prints "alert=N"
with the description number of the fatal alert the server sent, or
"alert=none" if the connection ended without one.
"""
import base64
import os
import re
import socket
import struct
import sys

# The generator of P-256, uncompressed: a valid ECDHE share (private key 1).
P256_G = bytes.fromhex(
    "04"
    "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"
    "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5")


def record(ctype, body):
    return struct.pack("!BHH", ctype, 0x0303, len(body)) + body


def handshake(htype, body):
    return struct.pack("!B", htype) + len(body).to_bytes(3, "big") + body


def ext(etype, body):
    return struct.pack("!HH", etype, len(body)) + body


def client_hello():
    exts = (ext(0x000a, struct.pack("!HH", 2, 23)) +           # secp256r1
            ext(0x000b, b"\x01\x00") +                          # uncompressed
            ext(0x000d, struct.pack("!HHH", 4, 0x0403, 0x0804)) +
            ext(0x0017, b"") +                                  # EMS
            ext(0xff01, b"\x00"))                               # reneg info
    body = (struct.pack("!H", 0x0303) + os.urandom(32) + b"\x00" +
            struct.pack("!HHH", 4, 0xc02b, 0xc02f) + b"\x01\x00" +
            struct.pack("!H", len(exts)) + exts)
    return handshake(1, body)


def read_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_record(s):
    hdr = read_exact(s, 5)
    if hdr is None:
        return None, None
    ctype, _, length = struct.unpack("!BHH", hdr)
    return ctype, read_exact(s, length)


def alert_of(s):
    """The description of the next alert record, or None at EOF."""
    while True:
        try:
            ctype, body = read_record(s)
        except OSError:
            return None
        if ctype is None or body is None:
            return None
        if ctype == 21 and len(body) >= 2:
            return body[1]


def cert_der(path):
    pem = open(path).read()
    m = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END", pem, re.S)
    return base64.b64decode(m.group(1))


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(record(22, client_hello()))
    # Read the server's flight up to ServerHelloDone.
    buf = b""
    done = False
    while not done:
        ctype, body = read_record(s)
        if ctype != 22:
            print("alert=%s" % (body[1] if ctype == 21 else "none"))
            return
        buf += body
        while len(buf) >= 4:
            n = int.from_bytes(buf[1:4], "big")
            if len(buf) < 4 + n:
                break
            if buf[0] == 14:
                done = True
            buf = buf[4 + n:]
    if mode == "cert-truncated":
        msg = handshake(11, b"\x00\x00")
    elif mode == "cert-empty":
        msg = handshake(11, b"")
    elif mode == "cert-none":
        msg = handshake(11, b"\x00\x00\x00")
    elif mode in ("verify-truncated", "verify-empty"):
        der = cert_der(sys.argv[3])
        one = len(der).to_bytes(3, "big") + der
        msg = (handshake(11, len(one).to_bytes(3, "big") + one) +
               handshake(16, bytes([len(P256_G)]) + P256_G) +
               handshake(15, b"\x04\x03\x00" if mode == "verify-truncated"
                         else b""))
    else:
        sys.exit("rawtls12.py: unknown mode " + mode)
    s.sendall(record(22, msg))
    a = alert_of(s)
    print("alert=%s" % ("none" if a is None else a))


main()
