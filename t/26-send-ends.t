#!/bin/bash
# The ends of streams in mtls-send: descriptors 0-2 closed by the caller,
# replies that arrive with a TCP close, signals, a reader that goes away,
# HOST PORT, peer text on the terminal, the alert that says why.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
SRV="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"

# fd_of PID N: what descriptor N of PID is.
fd_of() {
	readlink "/proc/$1/fd/$2" 2>/dev/null || echo closed
}

# --- 2. Descriptors 0, 1 and 2 ----------------------------------------
# shellcheck disable=SC2086
serve_start "$T/fd.log" $SRV >&-
is "$(fd_of "$SPID" 1)" /dev/null "mtls-serve started with stdout closed: fd 1 is /dev/null"
mkfifo "$T/fd.in"
"$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" "localhost:$PORT" <"$T/fd.in" >&- 2>"$T/fd.err" &
cpid=$!
track "$cpid"
exec 7>"$T/fd.in"
waitfor 10 has_log "$T/fd.log" 'event=handshake'
is "$(fd_of "$cpid" 1)" /dev/null "mtls-send with stdout closed: fd 1 is /dev/null, not the socket"
echo secret >&7
exec 7>&-
wait "$cpid"
is "$?" 0 "it ends cleanly (exit 0)"
ok "the server saw a clean TLS session, no plaintext on the socket" \
    waitfor 5 has_log "$T/fd.log" 'event=closed end=close_notify'
unlike "$(cat "$T/fd.log")" 'event=(closed end=(tls|peer)|error)' "no TLS error at the server"
serve_stop "$SPID"
mkfifo "$T/ci.fifo"
"$BIN/mtls-certinfo" "$T/ci.fifo" <&- >&- 2>&- &
cipid=$!
track "$cipid"
# all_null PID: descriptors 0-2 of PID (once it runs mtls-certinfo) are
# all /dev/null.
all_null() {
	[ "$(readlink "/proc/$1/exe")" = "$BIN/mtls-certinfo" ] &&
	    [ "$(fd_of "$1" 0) $(fd_of "$1" 1) $(fd_of "$1" 2)" = \
	    "/dev/null /dev/null /dev/null" ]
}
ok "mtls-certinfo with 0-2 closed: all three on /dev/null" \
    waitfor 5 all_null "$cipid"
cat "$P/ca-cert.pem" >"$T/ci.fifo"
wait "$cipid"
is "$?" 0 "and it still works"

done_testing
