#!/bin/bash
# mtls-send's full-duplex and bulk paths against independent servers
# (gnutls-serv --echo, openssl s_server), what was negotiated and whether a
# session was resumed judged by the other side (gnutls-serv's and
# s_server's reports, gnutls-cli's report against mtls-serve, mtls-serve's
# log), and mtls-send's idle -t.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
SRVG="--x509certfile $P/server-cert.pem --x509keyfile $P/server-key.pem
    --x509cafile $P/ca-cert.pem"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$T/rand"
# gnutls-serv's echo is not binary-safe (it stops at a NUL byte): for it,
# the same bytes in base64, 27 MiB of text.
base64 <"$T/rand" >"$T/rand.b64"
seq 200000 >"$T/lines"
rev "$T/lines" >"$T/lines.rev"

# gdesc LOG N: the Nth "- Description:" of a gnutls-cli/-serv report, as
# "VERSION GROUP CIPHER" (a resumed TLS 1.3 session shows no group: "-").
gdesc() {
	grep -- '- Description:' "$1" | sed -n "${2}p" |
	    sed 's/^- Description: //; s/)-(/ /g; s/^(//; s/)$//; s/)--(/ - - /' |
	    awk '{ v = $1; sub(/-X\.509$/, "", v)
		g = $2; sub(/^ECDHE-/, "", g)
		print v, g, $NF }'
}
# sdesc ERRFILE: mtls-send -v's "VERSION, CIPHER, group GROUP" as
# "VERSION GROUP CIPHER", the cipher in gnutls-cli's spelling (AES-256-GCM)
# taken from the suite name.
sdesc() {
	sed -n 's/^mtls-send: \(TLS1\.[23]\), \([A-Z0-9_]*\), group \([A-Z0-9]*\),.*/\1 \3 \2/p' "$1" |
	    sed -E 's/ TLS_(ECDHE_(ECDSA|RSA)_)?(WITH_)?/ /; s/_SHA(256|384)$//' |
	    awk '{ c = $3; gsub(/_/, "-", c); print $1, $2, c }'
}

# Slow input: each line goes only after the reply to the one before has
# come back, so nothing passes unless replies flow while input is open.
# slow PORT WHAT EXPECTED-PREFIX: five lines, replies checked as they come.
slow() {
	_port=$1 _what=$2
	rm -f "$T/slow.in"
	mkfifo "$T/slow.in"
	send "$P" "localhost:$_port" <"$T/slow.in" >"$T/slow.out" \
	    2>"$T/slow.err" &
	_sp=$!
	track $_sp
	exec 7>"$T/slow.in"
	for _line in 1 2 3 4 5; do
		echo "slow $_line" >&7
		waitfor 10 _has_lines "$T/slow.out" "$_line"
		is "$(wc -l <"$T/slow.out" | tr -d ' ')" "$_line" \
		    "$_what: reply $_line arrives before more input is sent"
	done
	exec 7>&-
	await $_sp
	is "$?" 0 "$_what: exit 0 after the end of input"
}

# gnutls-serv --echo: everything comes back, while we are still sending.
# shellcheck disable=SC2086
gserv_start "$T/gs.log" --echo $SRVG
timeout 120 "$BIN/mtls-send" -v -C "$P/ca-cert.pem" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" "localhost:$PORT" <"$T/rand.b64" >"$T/rand.out" \
    2>"$T/rand.err"
is "$?" 0 "gnutls-serv --echo, 27 MiB of base64: exit 0"
is "$(sha256sum <"$T/rand.out")" "$(sha256sum <"$T/rand.b64")" \
    "gnutls-serv --echo: the 27 MiB come back byte-identical"
b64=$(wc -c <"$T/rand.b64" | tr -d ' ')
like "$(tail -n 1 "$T/rand.err")" \
    "$b64 bytes sent, $b64 received, closed with close_notify\$" \
    "gnutls-serv --echo: -v counts $b64 bytes each way, and a close_notify"
waitfor 5 has_log "$T/gs.log" '^- Description:'
is "$(sdesc "$T/rand.err")" "$(gdesc "$T/gs.log" 1)" \
    "gnutls-serv's report and mtls-send -v agree on version, group, cipher"
slow "$PORT" "gnutls-serv --echo, slow input"
is "$(cat "$T/slow.out")" "$(printf 'slow %s\n' 1 2 3 4 5)" \
    "gnutls-serv --echo, slow input: every line back once"
# Other parameters, chosen by the client's -p: gnutls-serv must report
# the same as mtls-send -v.
n=2
for pr in 'NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305:-GROUP-ALL:+GROUP-X25519' \
    'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM'; do
	n=$((n + 1))
	echo hi | send "$P" -v -p "$pr" "localhost:$PORT" >"$T/p.out" 2>"$T/p.err"
	is "$? $(cat "$T/p.out")" "0 hi" "gnutls-serv, -p $pr: exit 0, echoed"
	waitfor 5 test "$(grep -c -- '- Description:' "$T/gs.log")" -ge $n
	is "$(sdesc "$T/p.err")" "$(gdesc "$T/gs.log" $n)" \
	    "gnutls-serv, -p $pr: its report and mtls-send -v agree"
done
like "$(gdesc "$T/gs.log" 3)" '^TLS1\.3 X25519 CHACHA20-POLY1305$' \
    "(gnutls-serv saw ChaCha20 with X25519 when asked)"
like "$(gdesc "$T/gs.log" 4)" '^TLS1\.2 SECP256R1 AES-128-GCM$' \
    "(and TLS 1.2 with AES-128-GCM)"
# Resumption, judged by both ends.
echo one | send "$P" -v --session "$T/gs.sess" "localhost:$PORT" \
    >/dev/null 2>"$T/r1.err"
echo two | send "$P" -v --session "$T/gs.sess" "localhost:$PORT" \
    >"$T/r2.out" 2>"$T/r2.err"
is "$? $(cat "$T/r2.out")" "0 two" "gnutls-serv, --session: the second run works"
like "$(grep 'session' "$T/r1.err") / $(grep 'session' "$T/r2.err")" \
    'session new / .*session resumed' "mtls-send -v: new, then resumed"
waitfor 5 test "$(grep -c "^\* Accepted connection" "$T/gs.log")" -ge 6
is "$(grep -E '^(\* Accepted|\*\*\* This is a resumed)' "$T/gs.log" |
    tail -n 3 | sed 's/ from .*//')" "* Accepted connection
* Accepted connection
*** This is a resumed session" \
    "gnutls-serv: the first --session run was not resumed, the second was"
kill "$SPID" 2>/dev/null
await "$SPID"

# openssl s_server -rev: 200 000 lines each way, reversed.
osrv_start "$T/os-rev.log" -naccept 1 -rev -Verify 1 -verify_return_error \
    -cert "$P/server-cert.pem" -key "$P/server-key.pem" \
    -CAfile "$P/ca-cert.pem"
timeout 120 "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" "localhost:$PORT" <"$T/lines" >"$T/lines.out"
is "$?" 0 "s_server -rev, 200 000 lines: exit 0"
is "$(sha256sum <"$T/lines.out")" "$(sha256sum <"$T/lines.rev")" \
    "s_server -rev: every line comes back reversed, in order (rev(1))"
await "$SPID"
osrv_start "$T/os-slow.log" -naccept 1 -rev -Verify 1 -verify_return_error \
    -cert "$P/server-cert.pem" -key "$P/server-key.pem" \
    -CAfile "$P/ca-cert.pem"
slow "$PORT" "s_server -rev, slow input"
is "$(cat "$T/slow.out")" "$(printf 'slow %s\n' 1 2 3 4 5 | rev)" \
    "s_server -rev, slow input: every line back reversed"
await "$SPID"

# openssl s_server, plain: what it receives goes to its standard output,
# among its own report lines.  20 MiB must be there, whole, in one piece.
exec 8<>"$T/osrv.in" 2>/dev/null || { mkfifo "$T/osrv.in"; exec 8<>"$T/osrv.in"; }
openssl s_server -accept 127.0.0.1:0 -naccept 1 -Verify 1 \
    -verify_return_error -cert "$P/server-cert.pem" \
    -key "$P/server-key.pem" -CAfile "$P/ca-cert.pem" <&8 \
    >"$T/os-bulk.out" 2>"$T/os-bulk.err" &
SPID=$!
track $SPID
waitfor 10 has_log "$T/os-bulk.out" '^ACCEPT'
PORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$T/os-bulk.out" | head -n 1)
timeout 120 "$BIN/mtls-send" -v -C "$P/ca-cert.pem" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" "localhost:$PORT" <"$T/rand" >"$T/os.out" \
    2>"$T/os.err"
is "$?" 0 "s_server, 20 MiB to it: exit 0"
await "$SPID"
is "$(python3 -c 'import sys
print(open(sys.argv[2], "rb").read() in open(sys.argv[1], "rb").read())' \
    "$T/os-bulk.out" "$T/rand")" True \
    "s_server received the 20 MiB whole and in order"
is "$(sed -n 's/^CIPHER is //p' "$T/os-bulk.out")" \
    "$(sed -n 's/^mtls-send: TLS1\.3, \([A-Z0-9_]*\),.*/\1/p' "$T/os.err")" \
    "s_server's \"CIPHER is\" is the suite mtls-send -v names"

# s_server's view of resumption: two connections, the second from the
# saved session; at -naccept's end it counts its session cache hits.
osrv_start "$T/os-res.log" -naccept 2 -rev -Verify 1 -verify_return_error \
    -cert "$P/server-cert.pem" -key "$P/server-key.pem" \
    -CAfile "$P/ca-cert.pem" \
    -ciphersuites TLS_CHACHA20_POLY1305_SHA256
echo abc | send "$P" -v --session "$T/os.sess" "localhost:$PORT" \
    >"$T/o1.out" 2>"$T/o1.err"
echo def | send "$P" -v --session "$T/os.sess" "localhost:$PORT" \
    >"$T/o2.out" 2>"$T/o2.err"
is "$(cat "$T/o1.out" "$T/o2.out")" "cba
fed" "s_server, two --session runs: both answered"
await "$SPID"
like "$(grep 'session' "$T/o1.err") / $(grep 'session' "$T/o2.err")" \
    'session new / .*session resumed' "mtls-send -v: new, then resumed"
like "$(cat "$T/os-res.log")" ' 1 session cache hits' \
    "s_server counts one session cache hit"
is "$(sed -n 's/^Ciphersuite: //p' "$T/os-res.log" | sort -u)" \
    "$(sed -n 's/^mtls-send: TLS1\.3, \([A-Z0-9_]*\),.*/\1/p' "$T/o1.err" "$T/o2.err" | sort -u)" \
    "s_server's Ciphersuite (ChaCha20, its choice) is what mtls-send -v names"

# gnutls-cli's report against mtls-serve's log.
serve_start "$T/serve.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"
n=0
for pr in NORMAL 'NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305:-GROUP-ALL:+GROUP-X25519' \
    'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:-GROUP-ALL:+GROUP-SECP384R1'; do
	n=$((n + 1))
	echo hi | gcli "$P" "$PORT" --priority "$pr" >"$T/gc.out" 2>&1
	is "$?" 0 "gnutls-cli --priority $pr: exit 0"
	read -r v g c <<EOF
$(gdesc "$T/gc.out" 1)
EOF
	waitfor 5 has_log "$T/serve.log" 'event=handshake' $n
	like "$(grep 'event=handshake' "$T/serve.log" | sed -n "${n}p")" \
	    "version=$v cipher=TLS_([A-Z]+_)*${c//-/_}_SHA(256|384) group=$g " \
	    "gnutls-cli reports $v $g $c: mtls-serve logs the same"
done
# Resumption: mtls-send -v and mtls-serve's log agree.
echo one | send "$P" -v --session "$T/ms.sess" "localhost:$PORT" \
    >/dev/null 2>"$T/m1.err"
echo two | send "$P" -v --session "$T/ms.sess" "localhost:$PORT" \
    >/dev/null 2>"$T/m2.err"
like "$(grep 'session' "$T/m1.err") / $(grep 'session' "$T/m2.err")" \
    'session new / .*session resumed' "mtls-send -v: new, then resumed"
waitfor 5 has_log "$T/serve.log" 'event=handshake' $((n + 2))
is "$(grep 'event=handshake' "$T/serve.log" | tail -n 2 |
    sed 's/.*resumed=yes.*/resumed/; s/.*event=handshake.*/full/' | tr '\n' ' ')" \
    "full resumed " "mtls-serve's log: the first was a full handshake, the second resumed"
serve_stop "$SPID"

# mtls-send -t: idle in both directions for that long ends the connection
# (exit 1), after a close_notify, which the server sees.
serve_start "$T/idle.log" -t 30 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem"
mkfifo "$T/hold"
exec 6<>"$T/hold"
fails_with_in() {	# like fails_with, but stdin from fd 6
	"$@" <&6 >"$T/fw6.out" 2>"$T/fw6.err"
}
fails_with_in send "$P" -t 1 "localhost:$PORT"
is "$? $(cat "$T/fw6.err")" \
    "1 mtls-send: 127.0.0.1:$PORT: no data for 1 seconds" \
    "mtls-send -t 1, nothing to send or receive: exit 1, one line saying so"
ok "the server saw our close_notify, not a vanished peer" \
    waitfor 5 has_log "$T/idle.log" 'event=closed end=close_notify'
serve_stop "$SPID"
# shellcheck disable=SC2086
gserv_start "$T/gs-idle.log" --echo $SRVG
fails_with_in send "$P" -t 1 "localhost:$PORT"
is "$? $(cat "$T/fw6.err")" \
    "1 mtls-send: 127.0.0.1:$PORT: no data for 1 seconds" \
    "mtls-send -t 1 against an idle gnutls-serv: exit 1, the same line"
kill "$SPID" 2>/dev/null
await "$SPID"
exec 6>&-

done_testing
