#!/bin/bash
# mtls-serve refuses what it must, with the right alert and a log line that
# names the reason, and keeps serving good clients afterwards.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
B=$T/bad
mkca "$B" rogue
mkcert "$B" rogue-client "$B" rogue 'cn = "rogue-client"
tls_www_client
signing_key
expiration_days = 30'
mkcert "$B" expired "$P" ca 'cn = "expired-client"
tls_www_client
signing_key
activation_date = "2020-01-01 00:00:00 UTC"
expiration_date = "2021-01-01 00:00:00 UTC"'
mkcert "$B" future "$P" ca 'cn = "future-client"
tls_www_client
signing_key
activation_date = "2099-01-01 00:00:00 UTC"
expiration_date = "2100-01-01 00:00:00 UTC"'
mkcert "$B" srvonly "$P" ca 'cn = "server-only"
tls_www_server
signing_key
expiration_days = 30'

log=$T/serve.log
serve_start "$log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"

# good: a good client is served (and still is, after each refusal).
good() {
	echo "still here" | gcli "$P" "$PORT" --logfile="$T/gcli.err" \
	    >"$T/good.out" && grep -q ' still here$' "$T/good.out"
}

# refused NAME ERE-IN-LOG ALERT-ERE CLIENT-ARGS...: openssl s_client is
# refused; the server logs the reason and the client saw the alert.
refused() {
	_name=$1 _why=$2 _alert=$3
	shift 3
	_before=$(count_log "$log" 'event=refused')
	openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
	    -CAfile "$P/ca-cert.pem" "$@" </dev/null >"$T/c.out" 2>"$T/c.err"
	ok "$_name: server logs a refusal" \
	    waitfor 5 has_log "$log" 'event=refused' $((_before + 1))
	like "$(grep 'event=refused' "$log" | tail -n 1)" "$_why" \
	    "$_name: the log names the reason"
	if [ -n "$_alert" ]; then
		like "$(cat "$T/c.err")" "$_alert" "$_name: client got the alert"
	fi
	ok "$_name: a good client is served afterwards" good
}

ok "a good client is served" good

# s_client may exit before a TLS 1.3 alert arrives; gnutls-cli reads it.
refused "no client certificate, TLS 1.3" 'reason="no certificate sent"' \
    '' -tls1_3
echo hi | gnutls-cli --x509cafile "$P/ca-cert.pem" -p "$PORT" localhost \
    >"$T/g.out" 2>&1
is "$?" 1 "no client certificate, TLS 1.3: gnutls-cli fails"
like "$(cat "$T/g.out")" 'Received alert \[116\]' \
    "no client certificate, TLS 1.3: client got certificate_required (116)"
refused "no client certificate, TLS 1.2" 'reason="no certificate sent"' \
    'alert handshake failure' -tls1_2
# With TLS 1.2 the alert ends the client's handshake, where s_client shows it.
refused "client from a rogue CA" 'unknown issuer' 'alert unknown ca' \
    -tls1_2 -cert "$B/rogue-client-cert.pem" -key "$B/rogue-client-key.pem"
refused "expired client" 'verification failed: expired' \
    'alert certificate expired' \
    -tls1_2 -cert "$B/expired-cert.pem" -key "$B/expired-key.pem"
refused "not-yet-valid client" 'not yet valid' 'alert certificate expired' \
    -tls1_2 -cert "$B/future-cert.pem" -key "$B/future-key.pem"
refused "client whose EKU is serverAuth only" 'extended key usage' \
    'alert unsupported certificate' \
    -tls1_2 -cert "$B/srvonly-cert.pem" -key "$B/srvonly-key.pem"
refused "TLS 1.1-only client" 'protocol version' 'alert protocol version' \
    -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
    -cert "$P/client-cert.pem" -key "$P/client-key.pem"
refused "TLS 1.2 CBC-only client" 'no common cipher suite' \
    'alert handshake failure' -tls1_2 \
    -cipher 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA' \
    -cert "$P/client-cert.pem" -key "$P/client-key.pem"
refused "TLS 1.2 RSA-key-exchange-only client" 'no common cipher suite' \
    'alert handshake failure' -tls1_2 \
    -cipher 'AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA' \
    -cert "$P/client-cert.pem" -key "$P/client-key.pem"

# With TLS 1.3 the client's handshake may finish before the server judges
# its certificate; GnuTLS's client gets the alert with its first read.
echo hi | gnutls-cli --x509cafile "$P/ca-cert.pem" \
    --x509certfile "$B/expired-cert.pem" --x509keyfile "$B/expired-key.pem" \
    -p "$PORT" localhost >"$T/g.out" 2>&1
is "$?" 1 "gnutls-cli (TLS 1.3) with an expired certificate fails"
like "$(cat "$T/g.out")" 'Received alert \[45\]' \
    "gnutls-cli sees certificate_expired (45)"
is "$(grep -c ' hi$' "$T/g.out")" 0 "nothing was echoed to the refused client"

# Each refused connection's process ended with the refusal status, and
# none is left behind.
ok "no zombie children" waitfor 5 no_zombies "$SPID"
serve_stop "$SPID"
is "$?" 0 "SIGTERM ends the server with status 0"

done_testing
