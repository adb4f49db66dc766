#!/bin/bash
# mtls-certinfo --connect against mtls-serve and openssl s_server -Verify 1,
# with and without a client certificate: the server's chain, what was
# negotiated, and the issuers the server accepts, which must equal the CAs
# it was configured with.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
O=$T/other
mkpki "$O"
# The other PKI's CA has the same name as ours: the server's list of
# names cannot tell them apart.  A CA with a name of its own can.
mkca "$T/r" rogue
mkcert "$T/r" client "$T/r" rogue 'cn = "rogue client"
tls_www_client
signing_key
expiration_days = 3'
# The CA as a string, from openssl's view of the CA file.
ca_dn=$(openssl x509 -in "$P/ca-cert.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')

check() {
	_what=$1 _json=$2
	is "$(jq_py "$_json" 'd["certificates"][0]["sha256"]')" \
	    "$(openssl x509 -in "$P/server-cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)" \
	    "$_what: the chain shown is the server's certificate"
	is "$(jq_py "$_json" 'd["connection"]["certificate_request"]["asked"]')" \
	    true "$_what: the server asked for a client certificate"
	is "$(jq_py "$_json" 'd["connection"]["certificate_request"]["issuers"]')" \
	    "[\"$ca_dn\"]" "$_what: the accepted issuers are the configured CA"
	like "$(jq_py "$_json" 'd["connection"]["certificate_request"]["signature_algorithms"]')" \
	    'ECDSA-SECP256R1-SHA256' "$_what: the accepted signature algorithms"
}

serve_start "$T/serve.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"
certinfo --json --connect "localhost:$PORT" >"$T/a.json"
is "$?" 0 "mtls-serve, no client certificate: exit 0"
check "mtls-serve, no client certificate" "$T/a.json"
certinfo --json --connect "localhost:$PORT" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" >"$T/b.json"
is "$?" 0 "mtls-serve, good client certificate: exit 0"
check "mtls-serve, good client certificate" "$T/b.json"
is "$(jq_py "$T/b.json" 'd["connection"]["version"]')" TLS1.3 \
    "mtls-serve: the version negotiated"
is "$(jq_py "$T/b.json" 'd["connection"]["certificate_request"]["client_issuer_accepted"]')" \
    true "mtls-serve: our client certificate's issuer is accepted"
certinfo --connect "localhost:$PORT" -c "$T/r/client-cert.pem" \
    -k "$T/r/client-key.pem" >"$T/c.txt"
like "$(cat "$T/c.txt")" 'Our issuer: +NOT among them' \
    "mtls-serve, another CA's client certificate: its issuer is not accepted"
# TLS 1.2 without a client certificate: the server refuses the handshake,
# yet its chain and its certificate request are shown.
certinfo --json --connect "localhost:$PORT" -p 'NORMAL:-VERS-ALL:+VERS-TLS1.2' \
    >"$T/r.json"
is "$?" 0 "a server that refuses the handshake: exit 0, the chain is shown"
is "$(jq_py "$T/r.json" 'd["connection"]["handshake_ok"]')" false \
    "the handshake is reported failed"
like "$(jq_py "$T/r.json" 'd["connection"]["error"]')" 'alert handshake_failure' \
    "with the server's alert"
is "$(jq_py "$T/r.json" 'd["connection"]["certificate_request"]["issuers"]')" \
    "[\"$ca_dn\"]" "and the issuers it would have accepted"
is "$(jq_py "$T/r.json" 'len(d["certificates"])')" 1 "the server's certificate is there"
certinfo --connect "localhost:$PORT" -C "$P/ca-cert.pem" -n localhost \
    --purpose server >"$T/d.txt"
is "$?" 0 "--connect with -C -n --purpose: the server verifies, exit 0"
like "$(cat "$T/d.txt")" '^Verification: OK' "and says so"
certinfo --connect "localhost:$PORT" -C "$O/ca-cert.pem" >"$T/e.txt"
is "$?" 1 "--connect with another CA: exit 1"
like "$(cat "$T/e.txt")" '^Verification: FAILED: unknown issuer' "and says why"
serve_stop "$SPID"

for mode in without with; do
	osrv_start "$T/os.log" -naccept 1 -Verify 1 -verify_return_error \
	    -cert "$P/server-cert.pem" -key "$P/server-key.pem" \
	    -CAfile "$P/ca-cert.pem"
	if [ $mode = with ]; then
		certinfo --json --connect "localhost:$PORT" \
		    -c "$P/client-cert.pem" -k "$P/client-key.pem" >"$T/o.json"
	else
		certinfo --json --connect "localhost:$PORT" >"$T/o.json"
	fi
	is "$?" 0 "openssl s_server, $mode a client certificate: exit 0"
	check "openssl s_server, $mode a client certificate" "$T/o.json"
	kill "$SPID" 2>/dev/null
	await "$SPID"
done

closed_port
port=$CLOSED_PORT
fails_with 3 "could not connect to 127.0.0.1:$port: Connection refused" \
    "nothing listening: exit 3" "$BIN/mtls-certinfo" --connect "127.0.0.1:$port"
fails_with 2 "--connect takes no FILE" "--connect with files: exit 2" \
    "$BIN/mtls-certinfo" --connect "127.0.0.1:$port" "$P/ca-cert.pem"

done_testing
