#!/bin/sh
# demo.sh - the prototype's whole flow in one go (run by `make demo`):
# start mtls-serve, pipe the test messages through mtls-send -v, show the
# replies and the server's log, stop the server.
#
# Environment: MTLS_BIN (programs, default build), DEMO_CERTS (the PKI,
# default certs; made if absent), DEMO_PORT (default 9443; a free port is
# taken if that one is in use).
set -u
BIN=${MTLS_BIN:-build}
CERTS=${DEMO_CERTS:-certs}
PORT=${DEMO_PORT:-9443}
here=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -e "$CERTS/ca-cert.pem" ]; then
	"$here/certs/mkpki" "$CERTS" || exit 1
fi
log=$(mktemp "${TMPDIR:-/tmp}/mtls-demo.XXXXXX")
pid=

stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	fi
}
trap 'stop; rm -f "$log"' EXIT
trap 'exit 1' INT TERM

# start PORT: the server, and wait (bounded) for its listening line.
start() {
	"$BIN/mtls-serve" -l "127.0.0.1:$1" -c "$CERTS/server-cert.pem" \
	    -k "$CERTS/server-key.pem" -C "$CERTS/ca-cert.pem" 2>"$log" &
	pid=$!
	i=0
	while [ $i -lt 200 ]; do
		grep -q 'event=listening' "$log" && return 0
		kill -0 "$pid" 2>/dev/null || { wait "$pid"; pid=; return 1; }
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

if ! start "$PORT"; then
	echo "demo: port $PORT is taken ($(tail -n 1 "$log")); using a free one"
	start 0 || { cat "$log"; exit 1; }
fi
PORT=$(sed -n 's/.*event=listening addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")

echo "== mtls-serve is listening on 127.0.0.1:$PORT"
echo "== piping the test messages through mtls-send -v"
echo
printf '%s\n' "Hello from mTLS client" "Testing mutual TLS authentication" \
    "Both sides proved who they are" "Goodbye" |
    "$BIN/mtls-send" -v -C "$CERTS/ca-cert.pem" \
    -c "$CERTS/client-cert.pem" -k "$CERTS/client-key.pem" \
    "localhost:$PORT"
status=$?
echo
echo "== mtls-send exited with status $status"
# The child writes its closing line as it exits; give it a moment, bounded.
i=0
while [ $i -lt 100 ] && ! grep -q 'event=closed' "$log"; do
	sleep 0.05
	i=$((i + 1))
done
stop
echo "== the server's log"
cat "$log"
exit $status
