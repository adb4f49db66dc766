#!/usr/bin/env python3
"""inetd.py LOG CMD [ARG...]: a one-connection super-server for tests.

Listens on 127.0.0.1, port 0, and prints the port; accepts one connection
and runs CMD with it as stdin and stdout, CMD's stderr into LOG; then
prints CMD's exit status as subprocess sees it (-N: killed by signal N).
"""
import socket
import subprocess
import sys

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
s.close()
with open(sys.argv[1], "w") as log:
    r = subprocess.run(sys.argv[2:], stdin=c, stdout=c, stderr=log)
c.close()
print(r.returncode, flush=True)
