#!/bin/bash
# mtls-send: bad local files and bad addresses are exit status 2, network
# failures exit status 1, each one line on stderr naming the cause.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
O=$T/other
mkpki "$O"
printf 'not a certificate\n' >"$T/garbage.pem"
: >"$T/empty.pem"
mkdir "$T/dir.pem"
S="$BIN/mtls-send -C $P/ca-cert.pem -c $P/client-cert.pem -k $P/client-key.pem"

# shellcheck disable=SC2086
{
fails_with 2 "^mtls-send: $T/missing.pem: No such file or directory\$" \
    "missing certificate" $S -c "$T/missing.pem" localhost:1
fails_with 2 "^mtls-send: $T/missing.pem: No such file or directory\$" \
    "missing key" $S -k "$T/missing.pem" localhost:1
fails_with 2 "^mtls-send: $T/missing.pem: No such file or directory\$" \
    "missing CA file" $S -C "$T/missing.pem" localhost:1
fails_with 2 "^mtls-send: $T/dir.pem: Is a directory\$" \
    "a directory as CA file" $S -C "$T/dir.pem" localhost:1
fails_with 2 "^mtls-send: $T/garbage.pem: no certificate found" \
    "garbage certificate" $S -c "$T/garbage.pem" localhost:1
fails_with 2 "^mtls-send: $T/empty.pem: empty file\$" \
    "empty key" $S -k "$T/empty.pem" localhost:1
fails_with 2 "^mtls-send: $O/client-key.pem: key does not match certificate $P/client-cert.pem\$" \
    "key of another pair" $S -k "$O/client-key.pem" localhost:1
fails_with 2 "^mtls-send: $T/garbage.pem: no certificate found" \
    "garbage CA file" $S -C "$T/garbage.pem" localhost:1
fails_with 2 '^mtls-send: localhost:99999: bad port "99999"' \
    "bad port" $S localhost:99999
fails_with 2 '^mtls-send: localhost:: bad port ""' \
    "empty port" $S localhost:
fails_with 2 "^mtls-send: \[::1:9443: missing '\]'" \
    "unclosed IPv6 bracket" $S '[::1:9443'
fails_with 2 '^mtls-send: \[localhost\]:1: "localhost" is not an IPv6 address' \
    "a name in brackets" $S '[localhost]:1'
fails_with 2 '^mtls-send: unexpected argument "b:2"' \
    "two targets" $S a:1 b:2
fails_with 2 '^mtls-send: --timeout: "-1" is not a number' \
    "bad --timeout" $S -t -1 localhost:1
fails_with 2 '^mtls-send: priority "NONSENSE"' \
    "bad priority" $S -p NONSENSE localhost:1
fails_with 1 '^mtls-send: could not resolve no-such-host.invalid: ' \
    "unknown host: exit 1" $S no-such-host.invalid:9443
}

# Nothing listening: exit 1.  The port is held bound and not listening.
closed_port
port=$CLOSED_PORT
# shellcheck disable=SC2086
fails_with 1 "^mtls-send: could not connect to 127.0.0.1:$port: Connection refused\$" \
    "connection refused: exit 1" $S "127.0.0.1:$port"

# A server that accepts TCP and never answers: the timeout ends it, exit 1.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); time.sleep(30)' >"$T/mute.port" &
mp=$!
track $mp
waitfor 10 test -s "$T/mute.port"
# shellcheck disable=SC2086
fails_with 1 "^mtls-send: 127.0.0.1:[0-9]+: handshake timed out\$" \
    "a server that never answers: handshake timeout, exit 1" \
    $S -t 1 "127.0.0.1:$(cat "$T/mute.port")"
kill $mp 2>/dev/null

# Defaults: a bare host means port 9443; no argument means localhost:9443.
# Whether or not something listens there, the messages name the port.
# shellcheck disable=SC2086
$S -v -t 2 127.0.0.1 </dev/null >/dev/null 2>"$T/bare.err"
like "$(cat "$T/bare.err")" '(connected to|could not connect to) 127\.0\.0\.1:9443' \
    "a bare host means port 9443"
# shellcheck disable=SC2086
$S -v -t 2 </dev/null >/dev/null 2>"$T/none.err"
like "$(cat "$T/none.err")" '(connected to (127\.0\.0\.1|\[::1\])|could not connect to localhost):9443' \
    "no argument means localhost:9443"
"$BIN/mtls-send" --help >"$T/help"
is "$?" 0 "--help exits 0"
like "$(cat "$T/help")" 'default certs/client-cert.pem' "--help shows the defaults"

# The server closes first (its idle timeout) while our input is still
# open but nothing is waiting to be sent: a clean end, as with nc.
serve_start "$T/serve.log" -t 3 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem"
mkfifo "$T/hold"
exec 7<>"$T/hold"
# shellcheck disable=SC2086
$S -v "localhost:$PORT" <&7 >"$T/held.out" 2>"$T/held.err"
is "$?" 0 "server closed with close_notify at its idle timeout: exit 0"
like "$(tail -n 1 "$T/held.err")" 'closed with close_notify' \
    "and -v says how the connection ended"
exec 7>&-
serve_stop "$SPID"

done_testing
