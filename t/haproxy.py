#!/usr/bin/env python3
"""Run HAProxy for the tests on listening sockets bound to free ports.

  haproxy.py CONFIG-IN CONFIG-OUT PORTS-FILE N

Binds N sockets on 127.0.0.1 port 0, replaces @FE1@ .. @FEn@ in CONFIG-IN
with "fd@FD" (HAProxy takes an inherited socket that way, so no port is
guessed), writes CONFIG-OUT, writes the N ports to PORTS-FILE (one per
line) and becomes haproxy in the foreground (-db), keeping the sockets.
"""
import os
import socket
import sys

cfg_in, cfg_out, ports_file, n = sys.argv[1:5]
cfg = open(cfg_in).read()
socks = []
for i in range(1, int(n) + 1):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    s.set_inheritable(True)
    socks.append(s)
    cfg = cfg.replace("@FE%d@" % i, "fd@%d" % s.fileno())
with open(cfg_out, "w") as f:
    f.write(cfg)
with open(ports_file + ".tmp", "w") as f:
    for s in socks:
        f.write("%d\n" % s.getsockname()[1])
os.rename(ports_file + ".tmp", ports_file)
os.execvp("haproxy", ["haproxy", "-db", "-f", cfg_out])
