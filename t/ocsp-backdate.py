#!/usr/bin/env python3
"""ocsp-backdate.py IN KEY OUT DAYS: a copy of the DER OCSP response IN
(made by openssl ocsp, one SingleResponse with a nextUpdate) whose
producedAt and thisUpdate are DAYS+1 days ago and whose nextUpdate is DAYS
days ago, signed again with KEY (openssl dgst): a well-signed but stale
response, which openssl ocsp itself cannot make (-ndays must be positive).
"""
import datetime
import subprocess
import sys


def tlv(b, i):
    """(tag, header length, content length) of the element at b[i]."""
    tag, n = b[i], b[i + 1]
    h = 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i + 2:i + 2 + k], "big")
        h += k
    return tag, h, n


def enc(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    nb = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(nb)]) + nb + content


def kids(b):
    """The (tag, content) elements one after another in b."""
    i, r = 0, []
    while i < len(b):
        t, h, n = tlv(b, i)
        r.append((t, b[i + h:i + h + n]))
        i += h + n
    return r


def main():
    src, key, out, days = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    der = open(src, "rb").read()
    # OCSPResponse { status, [0] { SEQUENCE { oid, OCTET STRING basic } } }
    _, outer = kids(der)[0]
    status, explicit = kids(outer)
    _, rbytes = kids(explicit[1])[0]
    oid, octet = kids(rbytes)
    _, basic = kids(octet[1])[0]
    # BasicOCSPResponse { tbsResponseData, sigAlg, signature, [0] certs }
    parts = kids(basic)
    tbs = enc(parts[0][0], parts[0][1])
    now = datetime.datetime.now(datetime.timezone.utc)
    # In tbsResponseData the GeneralizedTimes come in this order:
    # producedAt, thisUpdate, nextUpdate; each is 15 bytes, so the new
    # ones fit in place and no length changes.
    stamps = [now - datetime.timedelta(days=days + 1)] * 2 + \
        [now - datetime.timedelta(days=days)]
    pos = 0
    for s in stamps:
        pos = tbs.index(b"\x18\x0f", pos) + 2
        tbs = tbs[:pos] + s.strftime("%Y%m%d%H%M%SZ").encode() + \
            tbs[pos + 15:]
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                         input=tbs, capture_output=True, check=True).stdout
    body = tbs + enc(parts[1][0], parts[1][1]) + enc(0x03, b"\0" + sig)
    body += b"".join(enc(t, c) for t, c in parts[3:])
    rbytes = enc(0x30, enc(oid[0], oid[1]) + enc(0x04, enc(0x30, body)))
    der = enc(0x30, enc(status[0], status[1]) + enc(0xA0, rbytes))
    with open(out, "wb") as f:
        f.write(der)


main()
