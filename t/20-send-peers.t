#!/bin/bash
# mtls-send against independent servers (gnutls-serv --echo, openssl
# s_server -rev) and against mtls-serve: the prototype's messages, both key
# types, TLS 1.3 and 1.2.
. "$(dirname "$0")/lib.sh"

printf 'Hello from mTLS client\nTesting mutual TLS authentication\n' \
    >"$T/msgs"

for keytype in ecdsa rsa4096; do
	P=$T/pki-$keytype
	mkpki "$P" "$keytype"
	srv="--x509certfile $P/server-cert.pem --x509keyfile $P/server-key.pem
	    --x509cafile $P/ca-cert.pem"
	# shellcheck disable=SC2086
	gserv_start "$T/gs.log" --echo $srv
	for v in 1.3 1.2; do
		what="$keytype gnutls-serv TLS$v"
		send "$P" -p "NORMAL:-VERS-ALL:+VERS-TLS$v" -v \
		    "localhost:$PORT" <"$T/msgs" >"$T/out" 2>"$T/err"
		is "$?" 0 "$what: exit 0"
		is "$(cat "$T/out")" "$(cat "$T/msgs")" \
		    "$what: the messages come back"
		like "$(cat "$T/err")" "TLS$v, TLS_" "$what: -v shows the version"
	done
	serve_stop "$SPID"

	osrv_start "$T/os.log" -rev -naccept 2 -Verify 1 -verify_return_error \
	    -cert "$P/server-cert.pem" -key "$P/server-key.pem" \
	    -CAfile "$P/ca-cert.pem"
	for v in 1.3 1.2; do
		what="$keytype openssl s_server TLS$v"
		send "$P" -p "NORMAL:-VERS-ALL:+VERS-TLS$v" "localhost:$PORT" \
		    <"$T/msgs" >"$T/out" 2>"$T/err"
		is "$?" 0 "$what: exit 0"
		# s_server -rev answers each line reversed.
		rev "$T/msgs" >"$T/msgs.rev"
		is "$(cat "$T/out")" "$(cat "$T/msgs.rev")" \
		    "$what: the messages come back reversed"
	done
	kill "$SPID" 2>/dev/null
	await "$SPID"

	log=$T/serve.log
	serve_start "$log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
	    -C "$P/ca-cert.pem"
	for v in 1.3 1.2; do
		what="$keytype mtls-serve TLS$v"
		send "$P" -p "NORMAL:-VERS-ALL:+VERS-TLS$v" "localhost:$PORT" \
		    <"$T/msgs" >"$T/out"
		is "$?" 0 "$what: exit 0"
		is "$(cut -d' ' -f3- "$T/out")" "$(cat "$T/msgs")" \
		    "$what: the messages come back decorated"
	done
	# By IP literal (matched against the IP SANs), IPv4 and IPv6.
	echo ip | send "$P" "127.0.0.1:$PORT" >"$T/out"
	is "$?" 0 "$keytype: 127.0.0.1 matches the IP SAN"
	serve_stop "$SPID"
done

# IPv6 (default host and port are checked in 23-send-errors.t).  Whether
# this machine has ::1 is asked of Python, not of the tool under test.
P=$T/pki-ecdsa
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	"$BIN/mtls-serve" -l '[::1]:0' -c "$P/server-cert.pem" \
	    -k "$P/server-key.pem" -C "$P/ca-cert.pem" 2>"$T/v6.log" &
	SPID=$!
	track $SPID
	ok "IPv6: mtls-serve listens on [::1]" \
	    waitfor 30 _listening "$T/v6.log" "$SPID"
	PORT=$(sed -n 's/.*event=listening addr=\[::1\]:\([0-9]*\) .*/\1/p' "$T/v6.log")
	echo six | send "$P" "[::1]:$PORT" >"$T/out" 2>"$T/err"
	st=$?
	like "$(cat "$T/out") $st" '\[::1\]:[0-9]+ six 0$' \
	    "IPv6: [::1]:PORT works and matches the IP SAN"
	serve_stop "$SPID"
	is "$?" 0 "IPv6: SIGTERM, exit 0"
else
	fails_with 1 "cannot listen on \[::1\]:0: .*(Cannot assign|not supported)" \
	    "IPv6: no ::1 here, and the server says so" \
	    "$BIN/mtls-serve" -l '[::1]:0' -c "$P/server-cert.pem" \
	    -k "$P/server-key.pem" -C "$P/ca-cert.pem"
fi

done_testing
