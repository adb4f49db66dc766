#!/usr/bin/env python3
"""Socket activation for the tests, as systemd does with Accept=no: bind
and listen on 127.0.0.1 (a free port), print the port, then exec the
command with the socket as fd 3, LISTEN_FDS=1 and LISTEN_PID set to the
pid the command will have (exec keeps it).

  activate.py COMMAND [ARG...]
"""
import os
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execvp(sys.argv[1], sys.argv[1:])
