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
await "$cpid"
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
await "$cipid"
is "$?" 0 "and it still works"

# --- 3. What arrived is written out ----------------------------------
# A Python ssl server whose last replies arrive together with its TCP
# close, no close_notify.  mtls-send is stopped while they arrive, so both
# are waiting in its socket when it next reads.
cat >"$T/abrupt.py" <<'PY'
import socket, ssl, sys
d = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/server-cert.pem", d + "/server-key.pem")
ctx.load_verify_locations(d + "/ca-cert.pem")
ctx.verify_mode = ssl.CERT_REQUIRED
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
print(ls.getsockname()[1], flush=True)
c, _ = ls.accept()
t = ctx.wrap_socket(c, server_side=True)
open(sys.argv[2] + ".ready", "w").close()
open(sys.argv[2] + ".go").read()
t.sendall(b"".join(b"reply %d\n" % i for i in range(2000)))
t.close()        # no unwrap(): TCP FIN without close_notify
open(sys.argv[2] + ".closed", "w").close()
PY
python3 -c 'import sys
sys.stdout.write("".join("reply %d\n" % i for i in range(2000)))' >"$T/abrupt.want"
mkfifo "$T/ab.go" "$T/ab.in"
python3 "$T/abrupt.py" "$P" "$T/ab" >"$T/ab.port" 2>"$T/ab.pyerr" &
track $!
waitfor 10 test -s "$T/ab.port"
"$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" "localhost:$(cat "$T/ab.port")" \
    <"$T/ab.in" >"$T/ab.out" 2>"$T/ab.err" &
cpid=$!
track "$cpid"
exec 7>"$T/ab.in"
waitfor 10 test -e "$T/ab.ready"
kill -STOP "$cpid"
echo go >"$T/ab.go"
waitfor 10 test -e "$T/ab.closed"
kill -CONT "$cpid"
await "$cpid"
is "$?" 1 "replies then TCP close without close_notify: exit 1"
exec 7>&-
ok "every reply that arrived is on stdout (2000 lines)" \
    cmp -s "$T/ab.out" "$T/abrupt.want"
diag "got $(wc -l <"$T/ab.out") lines"
like "$(cat "$T/ab.err")" 'without close_notify; replies may be truncated' \
    "and the possible truncation is reported"
is "$(wc -l <"$T/ab.err")" 1 "in one line"

# --- 7. Signals and pipes ---------------------------------------------
# shellcheck disable=SC2086
serve_start "$T/sig.log" $SRV
n=0
for sig in HUP TERM INT; do
	n=$((n + 1))
	rm -f "$T/sig.in"
	mkfifo "$T/sig.in"
	"$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$P/client-cert.pem" \
	    -k "$P/client-key.pem" "localhost:$PORT" <"$T/sig.in" \
	    >"$T/sig.out" 2>"$T/sig.err" &
	cpid=$!
	track "$cpid"
	exec 7>"$T/sig.in"
	echo "line $sig" >&7
	waitfor 10 grep -q "line $sig" "$T/sig.out"
	kill -"$sig" "$cpid"
	await "$cpid"
	st=$?
	exec 7>&-
	is "$st" "$((128 + $(kill -l "$sig")))" "SIG$sig: exit 128+$(kill -l "$sig")"
	ok "SIG$sig: the server saw our close_notify" \
	    waitfor 5 has_log "$T/sig.log" 'event=closed end=close_notify' "$n"
	unlike "$(cat "$T/sig.log")" 'peer vanished' "SIG$sig: no vanished peer"
done
# Two clients share one standard input (a fifo each keeps open read and
# write, as bench/run's did): one line wakes both, one takes it and the
# other is left in read(2).  A signal still ends both, with close_notify.
rm -f "$T/shared.in"
mkfifo "$T/shared.in"
exec 7<>"$T/shared.in"
# shared_client I: one of them, in the background; its pid in $!.
shared_client() {
	"$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$P/client-cert.pem" \
	    -k "$P/client-key.pem" "localhost:$PORT" <&7 \
	    >"$T/shared.$1.out" 2>"$T/shared.$1.err" &
}
shared_client 1
sp1=$!
track $sp1
shared_client 2
sp2=$!
track $sp2
ok "two clients sharing a stdin are connected" \
    waitfor 20 has_log "$T/sig.log" 'event=handshake' $((n + 2))
echo "one line" >&7
either_got() {
	has_log "$T/shared.1.out" "one line" || has_log "$T/shared.2.out" "one line"
}
ok "one of them got the line" waitfor 20 either_got
kill -TERM "$sp1" "$sp2"
await "$sp1" 20
is "$?" 143 "SIGTERM ends the first, even if it waits in read(2): exit 143"
await "$sp2" 20
is "$?" 143 "and the second: exit 143"
exec 7>&-
ok "the server saw two more close_notify" \
    waitfor 10 has_log "$T/sig.log" 'event=closed end=close_notify' $((n + 2))

# A reader of standard output that stops reading (it keeps the pipe
# open): mtls-send blocks in write(2), and a signal still ends it.
rm -f "$T/stuck.out"
mkfifo "$T/stuck.out"
exec 6<>"$T/stuck.out"
head -c 4000000 /dev/zero | tr '\0' 'x' | fold -w 100 >"$T/stuck.in"
"$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" "localhost:$PORT" <"$T/stuck.in" \
    >"$T/stuck.out" 2>"$T/stuck.err" &
sp=$!
track $sp
# stuck: the pipe is full, and mtls-send sleeps in write(2).
stuck() {
	grep -Eq "^(anon_)?pipe_write" "/proc/$sp/wchan" 2>/dev/null
}
ok "a reader that stops reading: mtls-send waits in write(2)" \
    waitfor 20 stuck
kill -TERM "$sp"
await "$sp" 20
is "$?" 143 "SIGTERM ends it there: exit 143"
exec 6<&-

# The reader of stdout goes away.
yes | head -c 2000000 | "$BIN/mtls-send" -C "$P/ca-cert.pem" \
    -c "$P/client-cert.pem" -k "$P/client-key.pem" "localhost:$PORT" \
    2>"$T/pipe.err" | head -n 1 >/dev/null
is "${PIPESTATUS[2]}" 1 "a reader that goes away: exit 1"
is "$(cat "$T/pipe.err")" \
    "mtls-send: the reader of standard output went away (replies not all written)" \
    "one clear line says so"
serve_stop "$SPID"

# --- 8. HOST PORT -----------------------------------------------------
# shellcheck disable=SC2086
serve_start "$T/hp.log" $SRV
echo two-args | send "$P" localhost "$PORT" >"$T/hp.out" 2>"$T/hp.err"
is "$?" 0 "mtls-send HOST PORT: exit 0"
like "$(cat "$T/hp.out")" 'two-args$' "the data flows"
fails_with 2 '^mtls-send: unexpected argument "x"' "HOST WORD is still refused" \
    send "$P" localhost x
serve_stop "$SPID"
# shellcheck disable=SC2086
"$BIN/mtls-serve" -l '[::1]:0' $SRV 2>"$T/v6.log" &
SPID=$!
track "$SPID"
waitfor 10 has_log "$T/v6.log" 'event=listening'
PORT6=$(sed -n 's/.*event=listening addr=\[::1\]:\([0-9]*\).*/\1/p' "$T/v6.log")
echo six | send "$P" ::1 "$PORT6" >"$T/v6.out" 2>"$T/v6.err"
is "$?" 0 "mtls-send ::1 PORT (unbracketed IPv6, as git passes it): exit 0"
like "$(cat "$T/v6.out")" 'six$' "the data flows over IPv6"
echo six | send "$P" '[::1]' "$PORT6" >"$T/v6b.out" 2>&1
like "$(cat "$T/v6b.out")" 'six$' "[::1] PORT works too"
serve_stop "$SPID"

# --- 9. Peer text escaped; the server hears why -----------------------
O=$T/other
mkpki "$O"
esc=$(printf '\033')
bel=$(printf '\007')
mkcert "$T" evil "$O" ca "cn = \"evil${esc}]0;pwned${bel}${esc}[2J\"
dns_name = \"localhost\"
tls_www_server
signing_key
expiration_days = 5"
serve_start "$T/evil.log" -c "$T/evil-cert.pem" -k "$T/evil-key.pem" \
    -C "$P/ca-cert.pem"
send "$P" "localhost:$PORT" </dev/null >/dev/null 2>"$T/evil.err"
is "$?" 4 "a server certificate from an unknown CA: exit 4"
ok "no ESC or BEL reaches stderr" \
    test "$(tr -cd '\033\007' <"$T/evil.err" | wc -c)" = 0
like "$(cat "$T/evil.err")" 'subject "CN=evil\\x1b\]0\\;pwned\\x07\\x1b\[2J"' \
    "the subject is shown escaped"
ok "the server hears why: alert unknown_ca" \
    waitfor 5 has_log "$T/evil.log" 'event=refused .*reason="peer sent alert unknown_ca"'
serve_stop "$SPID"
# Revoked by --crl: certificate_revoked.
mkcrl "$P" ca "$T/srv.crl" "$P/server-cert.pem"
# shellcheck disable=SC2086
serve_start "$T/rev.log" $SRV
send "$P" --crl "$T/srv.crl" "localhost:$PORT" </dev/null >/dev/null 2>"$T/rev.err"
is "$?" 4 "a revoked server: exit 4"
ok "the server hears: alert certificate_revoked" \
    waitfor 5 has_log "$T/rev.log" 'event=refused .*reason="peer sent alert certificate_revoked"'
send "$P" --pin sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    "localhost:$PORT" </dev/null >/dev/null 2>"$T/pin.err"
is "$?" 4 "a server key no --pin matches: exit 4"
ok "the server hears: alert bad_certificate" \
    waitfor 5 has_log "$T/rev.log" 'reason="peer sent alert bad_certificate"'
serve_stop "$SPID"

# mtls-certinfo: UTF-8 C1 controls (U+009B works as CSI on some terminals).
c1=$(printf '\302\233')
mkcert "$T" c1 "$P" ca "cn = \"c1${c1}31mred é\"
expiration_days = 5"
certinfo "$T/c1-cert.pem" >"$T/c1.txt" 2>&1
ok "mtls-certinfo: no raw U+009B in its output" \
    test "$(grep -c "$c1" "$T/c1.txt")" = 0
like "$(cat "$T/c1.txt")" 'CN=c1\\xc2\\x9b31mred é' \
    "it is shown as \\xc2\\x9b; other UTF-8 (é) as it is"
certinfo --json "$T/c1-cert.pem" >"$T/c1.json"
like "$(jq_py "$T/c1.json" 'repr(d)')" 'c1\\x9b31mred' \
    "JSON carries it escaped, and parses to U+009B"
ok "no raw U+009B in the JSON either" test "$(grep -c "$c1" "$T/c1.json")" = 0

done_testing
