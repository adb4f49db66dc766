#!/usr/bin/env python3
"""An independent TLS client for the tests: Python's ssl module (OpenSSL).

Sends standard input and writes what comes back to standard output, both
at once (asyncio), so a large echo cannot deadlock the way a client that
blocks in send does.  Python's SSL transport cannot half-close, so it reads
until --expect-bytes or --expect-lines have arrived (or the server closes),
then closes with close_notify.  Exit status: 0 done, 1 connection or TLS
error (the reason on stderr), 3 the server closed before what was expected.
"""
import argparse
import asyncio
import ssl
import sys


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--servername", default="localhost")
    ap.add_argument("--tls", choices=["1.2", "1.3"])
    ap.add_argument("--expect-bytes", type=int)
    ap.add_argument("--expect-lines", type=int)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--source", help="local address to connect from")
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(a.ca)
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    if a.tls == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif a.tls == "1.3":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3

    reader, writer = await asyncio.open_connection(
        a.host, a.port, ssl=ctx, server_hostname=a.servername,
        local_addr=(a.source, 0) if a.source else None)
    out = sys.stdout.buffer

    async def send():
        loop = asyncio.get_running_loop()
        while True:
            chunk = await loop.run_in_executor(
                None, sys.stdin.buffer.read1, 65536)
            if not chunk:
                return
            writer.write(chunk)
            await writer.drain()

    async def receive():
        got = lines = 0
        while True:
            if a.expect_bytes is not None and got >= a.expect_bytes:
                return 0
            if a.expect_lines is not None and lines >= a.expect_lines:
                return 0
            data = await reader.read(65536)
            if not data:
                return 3 if (a.expect_bytes or a.expect_lines) else 0
            got += len(data)
            lines += data.count(b"\n")
            out.write(data)

    sender = asyncio.create_task(send())
    status = await asyncio.wait_for(receive(), a.timeout)
    out.flush()
    sender.cancel()
    writer.close()
    try:
        await writer.wait_closed()
    except (ssl.SSLError, ConnectionError):
        pass
    return status


try:
    sys.exit(asyncio.run(main()))
except (OSError, ssl.SSLError, asyncio.TimeoutError) as e:
    print("tlsclient.py: %s" % (e or type(e).__name__), file=sys.stderr)
    sys.exit(1)
