#!/usr/bin/env python3
"""Cross-check mtls-certinfo --json against openssl x509, certificate by
certificate: serial, SHA-256 fingerprint, dates, subject, issuer, SANs and
key size.  Usage: xcheck.py MTLS-CERTINFO FILE.  Prints one line per
mismatch and a last line "checked N certificates, M mismatches"; exit 0
when there were none.
"""
import datetime
import ipaddress
import json
import re
import subprocess
import sys

certinfo, path = sys.argv[1], sys.argv[2]
doc = json.loads(subprocess.run([certinfo, "--json", path], check=True,
                                capture_output=True).stdout)
pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                  open(path, encoding="latin-1").read(), re.S)
if len(pems) != len(doc["certificates"]):
    print("count: openssl sees %d, mtls-certinfo %d" %
          (len(pems), len(doc["certificates"])))
    sys.exit(1)


def ossl(pem, *args):
    return subprocess.run(["openssl", "x509", "-noout"] + list(args),
                          input=pem.encode("latin-1"), check=True,
                          capture_output=True).stdout.decode("utf-8",
                                                             "replace")


def odate(s):
    # "Nov 27 04:19:03 2026 GMT"
    d = datetime.datetime.strptime(s.strip(), "%b %d %H:%M:%S %Y %Z")
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


NAMES = {"2.5.4.97": "organizationIdentifier", "EMAIL": "emailAddress"}


def dn(s):
    """GnuTLS's RFC 4514 text in openssl's spelling: the same names, with
    the attribute types GnuTLS does not name (shown as OID=#DER, which
    RFC 4514 allows) decoded when they hold a string."""
    def one(m):
        typ, val = m.group(1), m.group(2)
        typ = NAMES.get(typ, typ)
        if val.startswith("#"):
            der = bytes.fromhex(val[1:])
            if der[0] in (0x0c, 0x13, 0x16) and der[1] < 0x80:
                val = der[2:2 + der[1]].decode("utf-8")
        return typ + "=" + val
    return re.sub(r"(?:(?<=^)|(?<=,))([A-Za-z0-9.]+)=((?:[^,\\]|\\.)*)",
                  one, s)


bad = 0
for i, (pem, c) in enumerate(zip(pems, doc["certificates"])):
    out = ossl(pem, "-serial", "-fingerprint", "-sha256", "-startdate",
               "-enddate", "-subject", "-issuer", "-nameopt",
               "RFC2253,-esc_msb", "-text")
    head = out.split("Certificate:\n", 1)[0]
    text = out[len(head):]
    f = dict(l.split("=", 1) for l in head.splitlines() if "=" in l)
    want = {
        "serial": f["serial"].lower(),
        "sha256": f["sha256 Fingerprint"].replace(":", "").lower(),
        "not_before": odate(f["notBefore"]),
        "not_after": odate(f["notAfter"]),
        "subject": f["subject"],
        "issuer": f["issuer"],
    }
    got = dict((k, c[k]) for k in want)
    got["subject"] = dn(got["subject"])
    got["issuer"] = dn(got["issuer"])
    m = re.search(r"Public-Key: \((\d+) bit\)", text)
    if m:
        want["bits"] = int(m.group(1))
        got["bits"] = c["public_key"]["bits"]
    m = re.search(r"X509v3 Subject Alternative Name:.*?\n\s+(.*)\n", text)
    if m:
        sans = [s.strip() for s in m.group(1).split(", ")]
        want["dns"] = [s[4:] for s in sans if s.startswith("DNS:")]
        want["ip"] = [str(ipaddress.ip_address(s[11:])) for s in sans
                      if s.startswith("IP Address:")]
        want["email"] = [s[6:] for s in sans if s.startswith("email:")]
        want["uri"] = [s[4:] for s in sans if s.startswith("URI:")]
        for k in ("dns", "ip", "email", "uri"):
            got[k] = c["san"][k]
    for k in want:
        if str(want[k]).lower() != str(got[k]).lower():
            bad += 1
            print("cert %d %s: openssl %r, mtls-certinfo %r" %
                  (i, k, want[k], got[k]))
print("checked %d certificates, %d mismatches" % (len(pems), bad))
sys.exit(1 if bad else 0)
