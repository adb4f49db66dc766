#!/bin/bash
# mtls-serve's processes and their options: under -u, /proc/PID/status of
# the parent, a connection's process and an exec'd program show the
# dropped uid and gid, no other group and no capability; -i's exit status
# is the connection's (0, 1, 2, 3); -v logs the client's issuer, expiry,
# chain length, SNI and every child's status; -q logs only refusals,
# failures, start and stop; SIGINT stops the server as SIGTERM does, and
# a connection's process ignores it.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
SRV="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"
mkca "$T/r" rogue
mkcert "$T/r" client "$T/r" rogue 'cn = "rogue client"
tls_www_client
signing_key
expiration_days = 3'

# ids PID: the Uid, Gid and Groups lines and CapEff of /proc/PID/status,
# as "uid:U U U U gid:G G G G groups:LIST capeff:HEX".
ids() {
	awk '/^Uid:/ { u = $2 " " $3 " " $4 " " $5 }
	    /^Gid:/ { g = $2 " " $3 " " $4 " " $5 }
	    /^Groups:/ { $1 = ""; sub(/^ +/, ""); gr = $0 }
	    /^CapEff:/ { c = $2 }
	    END { printf "uid:%s gid:%s groups:%s capeff:%s\n", u, g, gr, c }' \
	    "$1"
}

# -u: started as root with two supplementary groups (setpriv), so that
# dropping them is seen.
if [ "$(id -u)" = 0 ]; then
	nu=$(id -u nobody)
	ng=$(id -g nobody)
	want="uid:$nu $nu $nu $nu gid:$ng $ng $ng $ng groups:$ng capeff:0000000000000000"
	is "$(setpriv --groups 4,24 -- cat /proc/self/status | sed -n 's/^Groups:[[:space:]]*//p' | tr -s ' \t' ' ' | sed 's/ $//')" \
	    "4 24" "(setpriv starts a process with groups 4 and 24)"
	# shellcheck disable=SC2086
	setpriv --groups 4,24 -- "$BIN/mtls-serve" -l 127.0.0.1:0 $SRV \
	    -u nobody -t 10 -- sh -c 'cat /proc/$$/status' 2>"$T/u.log" &
	SPID=$!
	track $SPID
	ok "-u nobody: the server starts" \
	    waitfor 10 has_log "$T/u.log" 'event=listening'
	PORT=$(sed -n 's/.*event=listening addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/u.log")
	ok "it logs the drop" \
	    has_log "$T/u.log" "event=privileges-dropped user=nobody uid=$nu"
	is "$(ids "/proc/$SPID/status")" "$want" \
	    "-u nobody: the parent's uid, gid, groups and capabilities"
	# A connection's process: a client that connects and waits.
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	waitfor 5 has_log "$T/u.log" 'event=accepted'
	cpid=$(conn_pids "$SPID" | head -n 1)
	ok "a connection's process exists ($cpid)" test -n "$cpid"
	is "$(ids "/proc/$cpid/status" 2>&1)" "$want" \
	    "-u nobody: the connection process's uid, gid, groups and capabilities"
	exec 5<&-
	# The exec'd program prints its own /proc/PID/status to the client.
	send "$P" "localhost:$PORT" </dev/null >"$T/prog.status"
	is "$?" 0 "the exec'd program ran"
	is "$(ids "$T/prog.status")" "$want" \
	    "-u nobody: the exec'd program's uid, gid, groups and capabilities"
	serve_stop "$SPID"
	is "$?" 0 "SIGTERM: exit 0"
else
	# shellcheck disable=SC2086
	fails_with 1 '--user nobody: Operation not permitted' \
	    "not root: -u cannot switch user, exit 1" \
	    "$BIN/mtls-serve" -l 127.0.0.1:0 $SRV -u nobody
fi

# -i: run mtls-serve -i on one accepted connection, report its status.
# inetd CASE ARGS...: starts it; sets IPORT; the status is read by istatus.
inetd() {
	_case=$1
	shift
	python3 "$TOP/t/inetd.py" "$T/i-$_case.log" "$BIN/mtls-serve" -i "$@" \
	    >"$T/i-$_case.out" &
	IPID=$!
	track $IPID
	waitfor 10 test -s "$T/i-$_case.out"
	IPORT=$(head -n 1 "$T/i-$_case.out")
}
# istatus CASE: wait for it (in this shell, not a subshell), then its
# exit status, as the launcher saw it, in ISTATUS.
istatus() {
	await "$IPID"
	ISTATUS=$(sed -n 2p "$T/i-$1.out")
}

# shellcheck disable=SC2086
inetd good $SRV
echo "via inetd" | send "$P" "localhost:$IPORT" >"$T/out"
like "$? $(cat "$T/out")" '^0 .* via inetd$' "-i: a good client is served"
istatus good
is "$ISTATUS" 0 "-i: both sides closed with close_notify: exit 0"
like "$(cat "$T/i-good.log")" 'event=closed end=close_notify' \
    "-i: and it logged close_notify"

# shellcheck disable=SC2086
inetd refused $SRV
"$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$T/r/client-cert.pem" \
    -k "$T/r/client-key.pem" "localhost:$IPORT" </dev/null >/dev/null 2>&1
istatus refused
is "$ISTATUS" 2 "-i: a client from an unknown CA is refused: exit 2"
like "$(cat "$T/i-refused.log")" 'event=refused .*unknown issuer' \
    "-i: the log says why"

# shellcheck disable=SC2086
inetd timeout $SRV -t 1
exec 5<>"/dev/tcp/127.0.0.1/$IPORT"
istatus timeout
is "$ISTATUS" 3 "-i: a client that says nothing: timeout, exit 3"
exec 5<&-
like "$(cat "$T/i-timeout.log")" 'event=refused .*reason="timed out"' \
    "-i: the log says timed out"

# A client that vanishes after the handshake, with no close_notify:
# Python's ssl closes the socket without one.
# shellcheck disable=SC2086
inetd vanish $SRV
python3 -c '
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="localhost")
s.sendall(b"half a line")
s.close()' "$IPORT" "$P/ca-cert.pem" "$P/client-cert.pem" "$P/client-key.pem"
istatus vanish
is "$ISTATUS" 1 "-i: a client that vanishes without close_notify: exit 1"
like "$(cat "$T/i-vanish.log")" 'event=closed end="?peer vanished' \
    "-i: the log says the peer vanished"

# -v: the client's issuer, expiry and chain length, the SNI name, and the
# status of every connection's process.  The client sends a chain: a
# leaf and the intermediate that signed it; the server trusts the root.
V=$T/v
mkchain "$V"
mkcert "$V" vclient "$V" int 'cn = "chained client"
tls_www_client
signing_key
expiration_days = 7'
cat "$V/vclient-cert.pem" "$V/int-cert.pem" >"$V/vchain.pem"
mkcert "$V" vdirect "$V" root 'cn = "direct client"
tls_www_client
signing_key
expiration_days = 7'

oiss=$(openssl x509 -in "$V/vclient-cert.pem" -noout -issuer -nameopt RFC2253 |
    sed 's/^issuer=//')
oend=$(date -u -d "$(openssl x509 -in "$V/vclient-cert.pem" -noout -enddate |
    sed 's/^[^=]*=//')" +%Y-%m-%dT%H:%M:%SZ)
serve_start "$T/verbose.log" -v -t 2 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$V/root-cert.pem"
echo hi | "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$V/vchain.pem" \
    -k "$V/vclient-key.pem" "localhost:$PORT" >"$T/out"
like "$? $(cat "$T/out")" '^0 .* hi$' "-v: a client with a chain is served"
ok "-v: the handshake line has the issuer openssl reads ($oiss)" \
    waitfor 5 has_log "$T/verbose.log" \
    "event=handshake .*client_issuer=\"$oiss\""
ok "-v: the expiry openssl reads ($oend)" \
    has_log "$T/verbose.log" "event=handshake .*client_not_after=$oend"
ok "-v: the chain length (leaf and intermediate: 2)" \
    has_log "$T/verbose.log" 'event=handshake .*client_chain=2'
ok "-v: the SNI name mtls-send sent (localhost)" \
    has_log "$T/verbose.log" 'event=handshake .*sni=localhost'
ok "-v: the connection's process exit status, 0" \
    waitfor 5 has_log "$T/verbose.log" 'event=child-exit .*status=0'
openssl s_client -connect "127.0.0.1:$PORT" -servername sni.example.test \
    -CAfile "$P/ca-cert.pem" -cert "$V/vdirect-cert.pem" \
    -key "$V/vdirect-key.pem" </dev/null >/dev/null 2>&1
ok "-v: a client the root signed: its issuer, chain 1, the SNI s_client sent" \
    waitfor 5 has_log "$T/verbose.log" \
    "event=handshake .*client_subject=\"CN=direct client\" .*client_issuer=\"$(openssl x509 -in "$V/root-cert.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')\" .*client_chain=1 sni=sni\\.example\\.test"
"$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$T/r/client-cert.pem" \
    -k "$T/r/client-key.pem" "localhost:$PORT" </dev/null >/dev/null 2>&1
ok "-v: a refused connection's process exits 2" \
    waitfor 5 has_log "$T/verbose.log" 'event=child-exit .*status=2'
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
ok "-v: a silent connection's process exits 3 (timeout)" \
    waitfor 10 has_log "$T/verbose.log" 'event=child-exit .*status=3'
exec 5<&-
serve_stop "$SPID"
# The same without -v: none of it.
serve_start "$T/normal.log" -t 2 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$V/root-cert.pem"
echo hi | "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$V/vchain.pem" \
    -k "$V/vclient-key.pem" "localhost:$PORT" >/dev/null
waitfor 5 has_log "$T/normal.log" 'event=closed'
serve_stop "$SPID"
is "$(count_log "$T/normal.log" 'client_issuer=|client_chain=|sni=|event=child-exit')" 0 \
    "without -v: no issuer, chain, SNI or child-exit in the log"
ok "without -v: the handshake line is still there" \
    has_log "$T/normal.log" 'event=handshake .*client_subject="CN=chained client"'

# -q: a good client leaves no line; a refusal and a timeout do; start and
# stop are logged.
serve_start "$T/quiet.log" -q -t 1 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem"
echo hi | send "$P" "localhost:$PORT" >"$T/out"
like "$? $(cat "$T/out")" '^0 .* hi$' "-q: a good client is served"
"$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$T/r/client-cert.pem" \
    -k "$T/r/client-key.pem" "localhost:$PORT" </dev/null >/dev/null 2>&1
mkfifo "$T/idle.in"
exec 6<>"$T/idle.in"
send "$P" "localhost:$PORT" <&6 >/dev/null 2>&1
exec 6>&-
serve_stop "$SPID"
is "$?" 0 "-q: SIGTERM, exit 0"
is "$(count_log "$T/quiet.log" 'event=(accepted|handshake)')" 0 \
    "-q: no accepted or handshake lines"
is "$(count_log "$T/quiet.log" 'event=closed end=close_notify')" 0 \
    "-q: no closed line for the connection that went well"
is "$(count_log "$T/quiet.log" 'event=refused .*unknown issuer')" 1 \
    "-q: the refusal is logged"
is "$(count_log "$T/quiet.log" 'event=closed end=timeout')" 1 \
    "-q: the idle timeout (a failure) is logged"
is "$(grep -o 'event=[a-z-]*' "$T/quiet.log" | sed 's/event=//' |
    grep -Evx 'refused|closed' | tr '\n' ' ')" \
    "certificate listening draining stopped " \
    "-q: otherwise only start (certificate, listening) and stop lines"

# SIGINT: a connection's process ignores it (it is the parent's to
# decide), the parent stops as at SIGTERM, letting the connection finish.
serve_start "$T/int.log" -t 10 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem"
mkfifo "$T/int.in"
send "$P" "localhost:$PORT" <"$T/int.in" >"$T/int.out" 2>"$T/int.err" &
cp=$!
track $cp
exec 7>"$T/int.in"
echo one >&7
waitfor 10 _has_lines "$T/int.out" 1
cpid=$(conn_pids "$SPID" | head -n 1)
ok "a connection's process exists ($cpid)" test -n "$cpid"
kill -INT "$cpid"
echo two >&7
waitfor 10 _has_lines "$T/int.out" 2
like "$(tail -n 1 "$T/int.out")" ' two$' \
    "SIGINT to a connection's process: the connection goes on"
kill -INT "$SPID"
ok "SIGINT to the server: it logs the shutdown, one child running" \
    waitfor 10 has_log "$T/int.log" 'event=draining signal=SIGINT connections=1'
echo three >&7
exec 7>&-
await $cp
is "$? $(tail -n 1 "$T/int.out" | cut -d' ' -f3-)" "0 three" \
    "the open connection finishes its work, exit 0"
await "$SPID"
is "$?" 0 "SIGINT: the server exits 0"
like "$(tail -n 1 "$T/int.log")" 'event=stopped' "the last line says stopped"
is "$(count_log "$T/int.log" 'event=child-died')" 0 "no connection process died of a signal"
fails_with 1 "^mtls-send: could not connect to 127\.0\.0\.1:$PORT: Connection refused\$" \
    "after SIGINT nothing listens" send "$P" "127.0.0.1:$PORT"

done_testing
