#!/bin/bash
# mtls-serve: the prototype's flow, decorated echo, checked by gnutls-cli
# and openssl s_client, over TLS 1.3 and 1.2, with an ECDSA P-256 PKI and
# an RSA-4096 one.
. "$(dirname "$0")/lib.sh"

printf 'Hello from mTLS client\nTesting mutual TLS authentication\n' \
    >"$T/msgs"

# check_replies OUT PEERLOG DESC: each reply is "TIME ADDR:PORT LINE", the
# time parses and is now, the address is the client's, the line is intact.
check_replies() {
	_out=$1 _what=$3
	is "$(wc -l <"$_out")" 2 "$_what: two replies"
	is "$(cut -d' ' -f3- "$_out")" "$(cat "$T/msgs")" \
	    "$_what: messages come back unchanged"
	_ts=$(head -n 1 "$_out" | cut -d' ' -f1)
	like "$_ts" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$' \
	    "$_what: timestamp is RFC 3339 UTC"
	_then=$(date -u -d "$_ts" +%s 2>/dev/null || echo 0)
	_now=$(date -u +%s)
	ok "$_what: timestamp is the current time" \
	    test $((_now - _then)) -ge 0 -a $((_now - _then)) -le 60
	_addr=$(head -n 1 "$_out" | cut -d' ' -f2)
	like "$_addr" '^127\.0\.0\.1:[0-9]+$' "$_what: client address shown"
	ok "$_what: address is the one the server accepted" \
	    grep -q "event=accepted peer=$_addr\$" "$2"
}

for keytype in ecdsa rsa4096; do
	P=$T/pki-$keytype
	mkpki "$P" "$keytype"
	log=$T/serve-$keytype.log
	serve_start "$log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
	    -C "$P/ca-cert.pem"

	for v in 1.3 1.2; do
		what="$keytype gnutls-cli TLS$v"
		gcli "$P" "$PORT" --logfile="$T/gcli.err" \
		    --priority "NORMAL:-VERS-ALL:+VERS-TLS$v" \
		    <"$T/msgs" >"$T/out"
		is "$?" 0 "$what: exits 0"
		check_replies "$T/out" "$log" "$what"
		waitfor 5 has_log "$log" "event=handshake version=TLS$v " 
		like "$(grep 'event=handshake' "$log" | tail -n 1)" \
		    "version=TLS$v .*client_subject=\"CN=mtls-client,O=mtls demo\"" \
		    "$what: log names version and client"

		what="$keytype openssl s_client TLS$v"
		ossl_talk "$T/msgs" 2 "$T/out" -tls"${v/./_}" \
		    -connect "127.0.0.1:$PORT" -servername localhost \
		    -CAfile "$P/ca-cert.pem" -verify_return_error \
		    -cert "$P/client-cert.pem" -key "$P/client-key.pem"
		is "$?" 0 "$what: exits 0"
		check_replies "$T/out" "$log" "$what"
	done

	# The log line that ends each connection says it ended cleanly.
	ok "$keytype: every connection ended with close_notify" \
	    waitfor 5 has_log "$log" 'event=closed end=close_notify' 4
	like "$(grep -m1 'event=handshake' "$log")" 'cipher=TLS_AES_(256|128)_GCM' \
	    "$keytype: AES-GCM negotiated by default"
	serve_stop "$SPID"
	is "$?" 0 "$keytype: SIGTERM ends the server with status 0"
done

# The server's order wins: a client preferring ChaCha20 still gets AES-GCM.
P=$T/pki-ecdsa
serve_start "$T/order.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"
echo hi | gcli "$P" "$PORT" --logfile="$T/gcli.err" \
    --priority "NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305:+AES-128-GCM" >/dev/null
waitfor 5 has_log "$T/order.log" 'event=handshake'
like "$(grep 'event=handshake' "$T/order.log")" 'cipher=TLS_AES_128_GCM_SHA256' \
    "server precedence: AES-GCM chosen over the client's ChaCha20"
# A last line without a newline comes back as a whole line.
printf 'no newline' | gcli "$P" "$PORT" --logfile="$T/gcli.err" >"$T/out"
like "$(cat "$T/out")" ' no newline$' "a last line without newline is echoed"
is "$(tail -c 1 "$T/out" | od -An -c | tr -d ' ')" '\n' \
    "and the reply ends with a newline"
serve_stop "$SPID"

done_testing
