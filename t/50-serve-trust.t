#!/bin/bash
# Whom mtls-serve and mtls-send trust: a CA with the same name as the real
# one but another key (each tool refuses what it signed, as openssl verify
# does; a CA file holding both trusts both); --allow email: and the globs
# that must not match; -p narrowed to TLS 1.3 refuses a TLS 1.2 client;
# --crl given twice, and reloaded at SIGHUP.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
# certs/mkpki makes the same CA name every time: a second run is a CA of
# the same name with another key.
O=$T/other
mkpki "$O"
chmod 600 "$O"/*-key.pem
SRV="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"

# overify CA CERT: openssl verify's exit status and first error number.
overify() {
	openssl verify -CAfile "$1" "$2" >"$T/ov.out" 2>&1
	echo "$? $(grep -o 'error [0-9]*' "$T/ov.out" | head -n 1)"
}

is "$(openssl x509 -in "$O/ca-cert.pem" -noout -subject)" \
    "$(openssl x509 -in "$P/ca-cert.pem" -noout -subject)" \
    "the two CAs have the same subject"
ok "and different keys" test \
    "$(openssl x509 -in "$O/ca-cert.pem" -noout -pubkey)" != \
    "$(openssl x509 -in "$P/ca-cert.pem" -noout -pubkey)"
is "$(overify "$P/ca-cert.pem" "$O/client-cert.pem")" "2 error 20" \
    "openssl verify: the other CA's client does not chain to ours (20)"
is "$(overify "$P/ca-cert.pem" "$O/server-cert.pem")" "2 error 20" \
    "openssl verify: nor does the other CA's server"
cat "$P/ca-cert.pem" "$O/ca-cert.pem" >"$T/both.pem"
is "$(overify "$T/both.pem" "$O/client-cert.pem") $(overify "$T/both.pem" "$P/client-cert.pem")" \
    "0  0 " "openssl verify: a CA file with both CAs verifies both clients"

# mtls-serve trusting our CA refuses the client the other CA signed.
# shellcheck disable=SC2086
serve_start "$T/samename.log" $SRV
fails_with 3 "^mtls-send: 127\.0\.0\.1:$PORT: server did not accept our certificate \(alert unknown_ca\); it accepts certificates issued by \"CN=mtls demo CA,O=mtls demo\"\$" \
    "same-name CA's client: mtls-send exit 3, unknown_ca" \
    "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$O/client-cert.pem" \
    -k "$O/client-key.pem" "localhost:$PORT"
ok "the server logs it as an unknown issuer" \
    waitfor 5 has_log "$T/samename.log" \
    'event=refused .*reason="certificate verification failed: unknown issuer'
openssl s_client -tls1_2 -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$P/ca-cert.pem" -cert "$O/client-cert.pem" \
    -key "$O/client-key.pem" </dev/null >"$T/sc.out" 2>&1
like "$(cat "$T/sc.out")" 'alert unknown ca' \
    "same-name CA's client: openssl s_client (TLS 1.2) gets unknown ca"
echo hi | gnutls-cli --x509cafile "$P/ca-cert.pem" \
    --x509certfile "$O/client-cert.pem" --x509keyfile "$O/client-key.pem" \
    -p "$PORT" localhost >"$T/g.out" 2>&1
is "$? $(grep -o 'Received alert \[[0-9]*\]' "$T/g.out")" \
    "1 Received alert [48]" "same-name CA's client: gnutls-cli gets unknown_ca (48)"
is "$(count_log "$T/samename.log" 'event=handshake')" 0 \
    "no handshake with a same-name CA's client succeeded"
echo hi | send "$P" "localhost:$PORT" >"$T/out"
like "$? $(cat "$T/out")" '^0 .* hi$' "our own client is still served"
serve_stop "$SPID"

# mtls-send trusting our CA refuses the server the other CA signed:
# mtls-serve, and gnutls-serv (which binds every address, so gserv_start
# makes it require a client certificate of ours).
serve_start "$T/otherserver.log" -c "$O/server-cert.pem" \
    -k "$O/server-key.pem" -C "$P/ca-cert.pem"
fails_with 4 "^mtls-send: 127\.0\.0\.1:$PORT: server certificate is signed by an unknown CA \(issuer \"CN=mtls demo CA,O=mtls demo\"\)" \
    "same-name CA's server (mtls-serve): mtls-send exit 4, unknown CA" \
    send "$P" "localhost:$PORT"
echo hi | "$BIN/mtls-send" -C "$T/both.pem" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" "localhost:$PORT" >"$T/out"
like "$? $(cat "$T/out")" '^0 .* hi$' \
    "with both CAs in -C the same server is accepted"
serve_stop "$SPID"
gserv_start "$T/gs-other.log" --echo --x509certfile "$O/server-cert.pem" \
    --x509keyfile "$O/server-key.pem" --x509cafile "$P/ca-cert.pem"
fails_with 4 "^mtls-send: 127\.0\.0\.1:$PORT: server certificate is signed by an unknown CA \(issuer \"CN=mtls demo CA,O=mtls demo\"\)" \
    "same-name CA's server (gnutls-serv): mtls-send exit 4, unknown CA" \
    send "$P" "localhost:$PORT"
echo hi | gnutls-cli --x509cafile "$P/ca-cert.pem" \
    --x509certfile "$P/client-cert.pem" --x509keyfile "$P/client-key.pem" \
    -p "$PORT" localhost >"$T/g.out" 2>&1
is "$? $(grep -c 'The certificate issuer is unknown' "$T/g.out")" "1 1" \
    "(gnutls-cli refuses that server too: issuer unknown)"
kill "$SPID" 2>/dev/null
await "$SPID"

# A CA file with both: mtls-serve serves the clients of both.
serve_start "$T/both.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$T/both.pem"
ok "a CA file with both same-name CAs: both are loaded" \
    has_log "$T/both.log" 'event=certificate .*trusted_cas=2'
for who in P O; do
	d=$P
	[ $who = O ] && d=$O
	echo "from $who" | "$BIN/mtls-send" -C "$P/ca-cert.pem" \
	    -c "$d/client-cert.pem" -k "$d/client-key.pem" "localhost:$PORT" \
	    >"$T/out"
	like "$? $(cat "$T/out")" "^0 .* from $who\$" \
	    "-C with both CAs: the client of CA $who is served"
done
serve_stop "$SPID"

# --allow email: and globs that must not match.
C=$T/clients
client() {	# client NAME TEMPLATE-LINES
	mkcert "$C" "$1" "$P" ca "$2
tls_www_client
signing_key
expiration_days = 5"
}
client mailok 'cn = "mailer"
email = "ops@example.org"'
client mailcom 'cn = "mailer2"
email = "ops@example.com"'
client mailsuffix 'cn = "mailer3"
email = "ops@example.org.evil.test"'
client cnmail 'cn = "ops@example.org"'
client web1 'cn = "web-1"'
client web10 'cn = "web-10"'
client webupper 'cn = "WEB-1"'
client cndns 'cn = "db.internal"'
client dnsok 'cn = "db-2"
dns_name = "db2.internal"'
client urinoslash 'cn = "svc1"
uri = "spiffe://example.org/ns/prod"'
client urisibling 'cn = "svc2"
uri = "spiffe://example.org/ns/production/sa/web"'
client urideep 'cn = "svc3"
uri = "spiffe://example.org/ns/prod/sa/web/extra"'
like "$(openssl x509 -in "$C/mailok-cert.pem" -noout -ext subjectAltName)" \
    'email:ops@example\.org$' "(openssl sees mailok's email SAN)"
ok "(openssl sees no SAN at all in cnmail)" \
    test -z "$(openssl x509 -in "$C/cnmail-cert.pem" -noout -ext subjectAltName 2>/dev/null)"

# shellcheck disable=SC2086
serve_start "$T/allow.log" $SRV --allow 'email:*@example.org' \
    --allow 'cn:web-?' --allow 'dns:*.internal' \
    --allow 'uri:spiffe://example.org/ns/prod/*'
as() {
	echo "hello" | "$BIN/mtls-send" -C "$P/ca-cert.pem" \
	    -c "$C/$1-cert.pem" -k "$C/$1-key.pem" "localhost:$PORT"
}
admitted() {	# admitted NAME RULE WHY
	as "$1" >"$T/out" 2>&1
	like "$? $(cat "$T/out")" '^0 .* hello$' "$3: $1 is admitted"
	ok "$3: the log names the rule $2" waitfor 5 has_log "$T/allow.log" \
	    "event=handshake .*allow=$(printf '%s' "$2" | sed 's/[*?.]/\\&/g')"
}
refused() {	# refused NAME SUBJECT WHY
	fails_with 3 "^mtls-send: 127\.0\.0\.1:$PORT: server's rules do not admit this certificate \(alert access_denied\)" \
	    "$3: $1 is refused, access_denied" as "$1"
	ok "$3: logged as not allowed, with its subject" \
	    waitfor 5 has_log "$T/allow.log" \
	    "event=refused .*reason=\"not allowed\" client_subject=\"$2\""
}
admitted mailok 'email:*@example.org' "email:*@example.org"
refused mailcom "CN=mailer2" "email:*@example.org, another domain"
refused mailsuffix "CN=mailer3" "email:*@example.org, a longer domain"
refused cnmail "CN=ops@example.org" \
    "email:*@example.org, only a CN that looks like one"
admitted web1 'cn:web-?' "cn:web-?"
refused web10 "CN=web-10" "cn:web-? is one character"
refused webupper "CN=WEB-1" "cn:web-? is case-sensitive"
admitted dnsok 'dns:*.internal' "dns:*.internal"
refused cndns "CN=db.internal" "dns:*.internal, only a CN that looks like one"
refused urinoslash "CN=svc1" "uri:.../ns/prod/*, the bare prefix"
refused urisibling "CN=svc2" "uri:.../ns/prod/*, a sibling path"
admitted urideep 'uri:spiffe://example.org/ns/prod/*' \
    "uri:.../ns/prod/* (* crosses /)"
echo hi | gnutls-cli --x509cafile "$P/ca-cert.pem" \
    --x509certfile "$C/mailcom-cert.pem" --x509keyfile "$C/mailcom-key.pem" \
    -p "$PORT" localhost >"$T/g.out" 2>&1
is "$? $(grep -o 'Received alert \[[0-9]*\]' "$T/g.out")" \
    "1 Received alert [49]" "gnutls-cli as mailcom gets access_denied (49)"
serve_stop "$SPID"
is "$?" 0 "SIGTERM: exit 0"

# -p narrowed to TLS 1.3 only.
# shellcheck disable=SC2086
serve_start "$T/tls13.log" $SRV -p 'NORMAL:-VERS-ALL:+VERS-TLS1.3'
echo hi | gcli "$P" "$PORT" --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2' \
    >"$T/g12.out" 2>&1
is "$? $(grep -o 'Received alert \[[0-9]*\]' "$T/g12.out")" \
    "1 Received alert [40]" \
    "-p TLS 1.3 only: a TLS 1.2 gnutls-cli is refused (handshake_failure)"
is "$(grep -c ' hi$' "$T/g12.out")" 0 "and nothing is echoed to it"
ok "the server logs the refusal" \
    waitfor 5 has_log "$T/tls13.log" 'event=refused .*reason="no common'
openssl s_client -tls1_2 -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$P/ca-cert.pem" -cert "$P/client-cert.pem" \
    -key "$P/client-key.pem" </dev/null >"$T/sc.out" 2>&1
like "$(cat "$T/sc.out")" 'alert (handshake failure|protocol version)' \
    "a TLS 1.2 openssl s_client is refused too"
# GnuTLS's server reports a TLS 1.2-only client to a TLS 1.3-only policy
# as sharing no cipher suite (its TLS 1.2 suites are gone with the
# version), and alerts handshake_failure rather than protocol_version.
fails_with 3 "^mtls-send: 127\.0\.0\.1:$PORT: server refused the handshake: .*\(alert handshake_failure\)\$" \
    "a TLS 1.2 mtls-send: exit 3, handshake_failure" \
    send "$P" -p 'NORMAL:-VERS-ALL:+VERS-TLS1.2' "localhost:$PORT"
echo hi | gcli "$P" "$PORT" >"$T/g13.out" 2>&1
is "$? $(grep -c ' hi$' "$T/g13.out")" "0 1" "a TLS 1.3 gnutls-cli is served"
like "$(grep -- '- Description:' "$T/g13.out")" '\(TLS1\.3-X\.509\)' \
    "gnutls-cli reports TLS 1.3"
is "$(count_log "$T/tls13.log" 'event=handshake version=TLS1.2')" 0 \
    "no TLS 1.2 handshake was logged"
serve_stop "$SPID"

# --crl twice: one from our CA, one from a second CA in the CA file; then
# the first is replaced and reloaded with SIGHUP.
mkca "$T/ca2" second
mkcert "$C" second "$T/ca2" second 'cn = "second-client"
tls_www_client
signing_key
expiration_days = 5'
cat "$P/ca-cert.pem" "$T/ca2/second-cert.pem" >"$T/two-cas.pem"
mkcrl "$P" ca "$T/one.crl" "$C/web1-cert.pem"
mkcrl "$T/ca2" second "$T/two.crl" "$C/second-cert.pem"
crlcheck() {	# crlcheck CAFILE CRL CERT: openssl's verdict, error number
	openssl verify -crl_check -CAfile "$1" -CRLfile "$2" "$3" >"$T/cv.out" 2>&1
	echo "$? $(grep -o 'error [0-9]*' "$T/cv.out" | head -n 1)"
}
is "$(crlcheck "$T/two-cas.pem" "$T/one.crl" "$C/web1-cert.pem")" "2 error 23" \
    "openssl verify: one.crl revokes web-1 (23)"
is "$(crlcheck "$T/two-cas.pem" "$T/two.crl" "$C/second-cert.pem")" "2 error 23" \
    "openssl verify: two.crl revokes second-client (23)"
serve_start "$T/crl2.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$T/two-cas.pem" --crl "$T/one.crl" --crl "$T/two.crl"
ok "--crl twice: both counted at start" \
    has_log "$T/crl2.log" 'event=certificate .*trusted_cas=2 crls=2'
revoked() {	# revoked NAME WHY
	fails_with 3 "^mtls-send: 127\.0\.0\.1:$PORT: server says our certificate is revoked \(alert certificate_revoked\)" \
	    "$2: $1 is refused, certificate_revoked" as "$1"
}
revoked web1 "--crl twice, the first CRL"
revoked second "--crl twice, the second CRL"
as dnsok >"$T/out" 2>&1
like "$? $(cat "$T/out")" '^0 .* hello$' "--crl twice: a client neither lists is served"
is "$(count_log "$T/crl2.log" 'reason="certificate verification failed: revoked')" 2 \
    "the log says revoked, twice"
# Replace the first CRL by one that lists nobody; the second stays.
mkcrl "$P" ca "$T/one.new"
mv "$T/one.new" "$T/one.crl"
kill -HUP "$SPID"
ok "SIGHUP: reloaded" waitfor 10 has_log "$T/crl2.log" 'event=reloaded'
ok "with both CRLs again" has_log "$T/crl2.log" 'event=reloaded .*crls=2'
as web1 >"$T/out" 2>&1
like "$? $(cat "$T/out")" '^0 .* hello$' "after SIGHUP: web-1, no longer listed, is served"
revoked second "after SIGHUP, the second CRL still holds"
# A first CRL that no trusted CA signed: the reload fails, the set stays.
mkcrl "$O" ca "$T/one.crl" "$C/web1-cert.pem"
kill -HUP "$SPID"
ok "SIGHUP with a CRL from the same-name CA: reload-failed, naming it" \
    waitfor 10 has_log "$T/crl2.log" \
    "event=reload-failed .*reason=\"$T/one\\.crl: CRL not signed by a trusted CA\""
as web1 >"$T/out" 2>&1
like "$? $(cat "$T/out")" '^0 .* hello$' "and the last good set is kept: web-1 served"
revoked second "and the second CRL still holds"
serve_stop "$SPID"
is "$?" 0 "SIGTERM after reloads: exit 0"

done_testing
