#!/bin/bash
# mtls-send refuses servers it must not trust (exit 4) and reports servers
# that refuse it or share no parameters with it (exit 3), each in one line
# that names the reason.  The servers are gnutls-serv, openssl s_server and
# mtls-serve.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
B=$T/bad
mkca "$B" rogue
srvtmpl='tls_www_server
signing_key
encryption_key
dns_name = "localhost"
ip_address = "127.0.0.1"'
mkcert "$B" rogue-server "$B" rogue "cn = \"localhost\"
expiration_days = 30
$srvtmpl"
mkcert "$B" rogue-client "$B" rogue 'cn = "rogue-client"
tls_www_client
signing_key
expiration_days = 30'
mkcert "$B" expired "$P" ca "cn = \"localhost\"
activation_date = \"2020-01-01 00:00:00 UTC\"
expiration_date = \"2021-01-01 00:00:00 UTC\"
$srvtmpl"
mkcert "$B" dnsonly "$P" ca 'cn = "localhost"
dns_name = "localhost"
tls_www_server
signing_key
expiration_days = 30'
mkcert "$B" clientonly "$P" ca 'cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_client
signing_key
expiration_days = 30'
mkcert "$B" rsa "$P" ca "cn = \"localhost\"
expiration_days = 30
$srvtmpl" rsa

# gserv NAME ARGS...: gnutls-serv --echo with B/NAME as its certificate.
gserv() {
	_c=$1
	shift
	gserv_start "$T/gs.log" --echo --x509certfile "$B/$_c-cert.pem" \
	    --x509keyfile "$B/$_c-key.pem" --x509cafile "$P/ca-cert.pem" "$@"
}
stop() {
	kill "$SPID" 2>/dev/null
	await "$SPID"
}
S="send $P"

gserv rogue-server
fails_with 4 "server certificate is signed by an unknown CA \(issuer \"CN=rogue\"\)" \
    "server from a rogue CA: exit 4, unknown CA named" $S "localhost:$PORT"
stop

gserv expired
fails_with 4 'server certificate expired on 2021-01-01T00:00:00Z' \
    "expired server certificate: exit 4, date named" $S "localhost:$PORT"
stop

gserv dnsonly
fails_with 4 'name mismatch: expected "db1", got "localhost"' \
    "--servername mismatch: exit 4, both names shown" \
    $S -n db1 "localhost:$PORT"
fails_with 4 'name mismatch: expected "127.0.0.1", got "localhost"' \
    "an IP not in the SANs: exit 4" $S "127.0.0.1:$PORT"
echo ok | send "$P" -n localhost "127.0.0.1:$PORT" >"$T/out" 2>&1
is "$?" 0 "--servername localhost makes the same server acceptable"
stop

gserv clientonly
fails_with 4 'not for server use' \
    "server certificate for clientAuth only: exit 4" $S "localhost:$PORT"
stop

osrv_start "$T/os.log" -naccept 1 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
    -cert "$P/server-cert.pem" -key "$P/server-key.pem"
fails_with 3 'no common protocol version with the server \(alert protocol_version\)' \
    "server offering only TLS 1.1: exit 3" $S "localhost:$PORT"
stop

gserv rsa --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC'
fails_with 3 'no common cipher suite' \
    "server offering only CBC: exit 3" $S "localhost:$PORT"
stop

gserv rsa --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA'
fails_with 3 'no common cipher suite' \
    "server offering only RSA key exchange: exit 3" $S "localhost:$PORT"
stop

# Servers that require a client certificate and do not take ours.
serve_start "$T/serve.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"
for v in 1.3 1.2; do
	fails_with 3 "server did not accept our certificate \(alert unknown_ca\); it accepts certificates issued by \"CN=mtls demo CA,O=mtls demo\"" \
	    "mtls-serve refuses our rogue client certificate, TLS$v: exit 3" \
	    "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$B/rogue-client-cert.pem" \
	    -k "$B/rogue-client-key.pem" -p "NORMAL:-VERS-ALL:+VERS-TLS$v" \
	    "localhost:$PORT"
done
serve_stop "$SPID"

osrv_start "$T/os.log" -naccept 1 -Verify 1 -verify_return_error \
    -cert "$P/server-cert.pem" -key "$P/server-key.pem" \
    -CAfile "$P/ca-cert.pem"
fails_with 3 "server did not accept our certificate" \
    "openssl s_server refuses our rogue client certificate: exit 3" \
    "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$B/rogue-client-cert.pem" \
    -k "$B/rogue-client-key.pem" "localhost:$PORT"
await "$SPID"

done_testing
