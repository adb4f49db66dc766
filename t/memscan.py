#!/usr/bin/env python3
"""memscan.py PID KEYFILE: which secrets of the private key in KEYFILE are
in the memory of process PID.

The secrets are read with openssl (an independent parser): each private
integer (an EC or Ed25519 private scalar; RSA's d, p and q), looked for in
big- and little-endian byte order (GMP and nettle keep little-endian
limbs), and each line of the key file's PEM text and its DER bytes.
Every readable mapping in /proc/PID/maps is read through /proc/PID/mem
(root may read an undumpable process).  Prints one line per secret found,
"found NAME at MAPPING", and "scanned N bytes" last; exit 0.  Mappings
over 1 GiB (AddressSanitizer's shadow) are skipped and counted.  Exit 2 on a
usage or read error (the process must exist).
"""
import re
import subprocess
import sys


CHUNK = 16 << 20
SKIP_OVER = 1 << 30


def secrets(keyfile):
    text = subprocess.run(['openssl', 'pkey', '-in', keyfile, '-noout',
                           '-text'], check=True, capture_output=True,
                          text=True).stdout
    out = {}
    # "priv:" (EC, Ed25519), "privateExponent:", "prime1:", "prime2:".
    for name in ('priv', 'privateExponent', 'prime1', 'prime2'):
        m = re.search(r'^%s:\s*\n((?:\s+[0-9a-f:]+\n)+)' % name, text,
                      re.M)
        if not m:
            continue
        raw = bytes.fromhex(re.sub(r'[\s:]', '', m.group(1)))
        raw = raw.lstrip(b'\0')
        if len(raw) < 16:
            continue
        out[name + '-be'] = raw
        out[name + '-le'] = raw[::-1]
    pem = open(keyfile).read()
    body = [line for line in pem.splitlines()
            if line and not line.startswith('-----')]
    for i, line in enumerate(body):
        if len(line) >= 24:
            out['pem-line-%d' % (i + 1)] = line.encode()
    der = subprocess.run(['openssl', 'pkey', '-in', keyfile, '-outform',
                          'DER'], check=True, capture_output=True).stdout
    out['der'] = der
    if not any(k.startswith(('priv', 'prime')) for k in out):
        sys.exit('memscan: %s: no private integer found' % keyfile)
    return out


def main():
    if len(sys.argv) != 3:
        print('usage: memscan.py PID KEYFILE', file=sys.stderr)
        sys.exit(2)
    pid, keyfile = sys.argv[1], sys.argv[2]
    want = secrets(keyfile)
    found = {}
    total = 0
    try:
        maps = open('/proc/%s/maps' % pid).read().splitlines()
        mem = open('/proc/%s/mem' % pid, 'rb', 0)
    except OSError as e:
        print('memscan: %s' % e, file=sys.stderr)
        sys.exit(2)
    longest = max(len(n) for n in want.values())
    skipped = 0
    for line in maps:
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split('-'))
        if not f[1].startswith('r') or (len(f) > 5 and f[5] == '[vvar]'):
            continue
        # AddressSanitizer's shadow: terabytes reserved, never data.
        if hi - lo > SKIP_OVER:
            skipped += 1
            continue
        # In chunks that overlap by a needle, so none is cut in two.
        at, tail = lo, b''
        while at < hi:
            try:
                mem.seek(at)
                data = tail + mem.read(min(CHUNK, hi - at))
            except OSError:
                break
            total += len(data) - len(tail)
            for name, needle in want.items():
                if name not in found and needle in data:
                    found[name] = f[5] if len(f) > 5 else 'anonymous'
            tail = data[-longest:]
            at += CHUNK
    for name, where in sorted(found.items()):
        print('found %s at %s' % (name, where))
    if skipped:
        print('skipped %d mappings over %d MiB' % (skipped, SKIP_OVER >> 20))
    print('scanned %d bytes' % total)


main()
