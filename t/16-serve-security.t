#!/bin/bash
# mtls-serve's safety options: --allow rules, --crl, --ocsp-response,
# SIGHUP reload (rotation, and a broken file that changes nothing),
# --user, --max-per-ip and key file permissions.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
C=$T/clients
client() {	# client NAME TEMPLATE-LINES
	mkcert "$C" "$1" "$P" ca "$2
tls_www_client
signing_key
expiration_days = 5"
}
client web 'cn = "web-1"
uri = "spiffe://example.org/ns/prod/sa/web"'
client db 'cn = "db-1"
dns_name = "db1.internal"'
client ops 'cn = "someone"
unit = "ops"'
client mail 'cn = "mailer"'
sha_db=$(openssl x509 -in "$C/db-cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
pin_ops=$(openssl x509 -in "$C/ops-cert.pem" -noout -pubkey |
    openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)

# as NAME: mtls-send as that client; prints the reply, exit status kept.
as() {
	echo "hello" | "$BIN/mtls-send" -C "$P/ca-cert.pem" \
	    -c "$C/$1-cert.pem" -k "$C/$1-key.pem" "localhost:$PORT"
}
S="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"

# --allow
# shellcheck disable=SC2086
serve_start "$T/allow.log" $S --allow 'cn:web-*' \
    --allow 'uri:spiffe://example.org/ns/staging/*' --allow "sha256:$sha_db" \
    --allow "pin-sha256:sha256//$pin_ops"
as web >"$T/out" 2>&1
is "$?" 0 "--allow cn:web-*: web-1 is admitted"
ok "the handshake log names the rule that admitted it" \
    waitfor 5 has_log "$T/allow.log" 'event=handshake .*allow=cn:web-\*'
as db >/dev/null 2>&1
is "$?" 0 "--allow sha256:FINGERPRINT (with colons) admits that certificate"
as ops >/dev/null 2>&1
is "$?" 0 "--allow pin-sha256:sha256//PIN admits that key"
as mail >"$T/out" 2>&1
is "$?" 3 "a client no rule admits: mtls-send exit 3"
like "$(cat "$T/out")" 'alert access_denied' "it got access_denied"
ok "the log says not allowed, with the client's identity" \
    waitfor 5 has_log "$T/allow.log" 'event=refused .*reason="not allowed" client_subject="CN=mailer"'
echo hi | gnutls-cli --x509cafile "$P/ca-cert.pem" \
    --x509certfile "$C/mail-cert.pem" --x509keyfile "$C/mail-key.pem" \
    -p "$PORT" localhost >"$T/g.out" 2>&1
is "$?" 1 "gnutls-cli with a client no rule admits fails"
like "$(cat "$T/g.out")" 'Received alert \[49\]' "gnutls-cli saw access_denied (49)"
serve_stop "$SPID"

# shellcheck disable=SC2086
serve_start "$T/allow2.log" $S --allow 'uri:spiffe://example.org/ns/prod/*' \
    --allow 'dns:*.internal' --allow 'ou:ops'
for who in web db ops; do
	as $who >/dev/null 2>&1
	is "$?" 0 "--allow uri:/dns:/ou: admit $who"
done
as mail >/dev/null 2>&1
is "$?" 3 "and still refuse the client none matches"
serve_stop "$SPID"
# shellcheck disable=SC2086
fails_with 2 '--allow "name:x": unknown kind' "an unknown rule kind: exit 2" \
    "$BIN/mtls-serve" $S --allow name:x
# shellcheck disable=SC2086
fails_with 2 '--allow "sha256:abc": not a SHA-256 fingerprint' \
    "a short fingerprint: exit 2" "$BIN/mtls-serve" $S --allow sha256:abc

# --crl
mkcrl "$P" ca "$T/revoke-db.crl" "$C/db-cert.pem"
# shellcheck disable=SC2086
serve_start "$T/crl.log" $S --crl "$T/revoke-db.crl"
as db >"$T/out" 2>&1
is "$?" 3 "--crl: a revoked client is refused (exit 3)"
like "$(cat "$T/out")" 'alert certificate_revoked' "it got certificate_revoked"
ok "the log says revoked" \
    waitfor 5 has_log "$T/crl.log" 'event=refused .*reason="certificate verification failed: revoked"'
as web >/dev/null 2>&1
is "$?" 0 "--crl: a client it does not list is served"
ok "the start-up log counts the CRL" has_log "$T/crl.log" 'event=certificate .*crls=1'
serve_stop "$SPID"
# A CRL in our CA's name but not signed by its key: the server does not
# start.
mkdir -p "$T/r"
certtool --generate-privkey --key-type=ecdsa --outfile "$T/r/fake-key.pem" \
    2>/dev/null
certtool --generate-self-signed --template "$TOP/certs/ca.tmpl" \
    --load-privkey "$T/r/fake-key.pem" --outfile "$T/r/fake-cert.pem" 2>/dev/null
mkcrl "$T/r" fake "$T/fake.crl" "$C/web-cert.pem"
# shellcheck disable=SC2086
fails_with 2 "fake.crl: CRL not signed by a trusted CA" \
    "a CRL in the CA's name with another key: the server does not start" \
    "$BIN/mtls-serve" -l 127.0.0.1:0 $S --crl "$T/fake.crl"
# A CRL from a CA we do not trust at all (an intermediate's, perhaps) is
# kept for client chains that hold its issuer; it revokes nobody else.
mkca "$T/r" rogue
mkcrl "$T/r" rogue "$T/rogue.crl" "$C/web-cert.pem"
# shellcheck disable=SC2086
serve_start "$T/rogue.log" $S --crl "$T/rogue.crl"
ok "a CRL from an untrusted CA: the server starts, the CRL deferred" \
    has_log "$T/rogue.log" 'event=certificate .*crls_deferred=1'
as web >/dev/null 2>&1
is "$?" 0 "and it revokes nobody whose chain does not hold its issuer"
serve_stop "$SPID"
printf 'crl_this_update_date = "2020-01-01 00:00:00 UTC"\ncrl_next_update_date = "2020-02-01 00:00:00 UTC"\ncrl_number = 9\n' >"$T/old.tmpl"
certtool --generate-crl --load-ca-privkey "$P/ca-key.pem" \
    --load-ca-certificate "$P/ca-cert.pem" --template "$T/old.tmpl" \
    --outfile "$T/old.crl" 2>/dev/null
# shellcheck disable=SC2086
serve_start "$T/oldcrl.log" $S --crl "$T/old.crl"
ok "an expired CRL: a warning at start" \
    has_log "$T/oldcrl.log" 'old.crl: CRL expired 2020-02-01T00:00:00Z'
as web >/dev/null 2>&1
is "$?" 3 "an expired CRL fails closed: clients are refused"
ok "the log says the revocation data is too old" \
    waitfor 5 has_log "$T/oldcrl.log" 'reason="revocation data too old: a CRL expired 2020-02-01T00:00:00Z"'
serve_stop "$SPID"

# --ocsp-response: stapled for clients that ask (gnutls-cli checks it).
ocsp_response "$P" "$P/server-cert.pem" good "$T/good.ocsp"
ocsp_response "$P" "$P/server-cert.pem" revoked "$T/revoked.ocsp"
# shellcheck disable=SC2086
serve_start "$T/ocsp.log" $S --ocsp-response "$T/good.ocsp"
openssl s_client -status -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$P/ca-cert.pem" -cert "$C/web-cert.pem" -key "$C/web-key.pem" \
    </dev/null >"$T/o.out" 2>&1
like "$(cat "$T/o.out")" 'Cert Status: good' \
    "openssl s_client -status receives the stapled response: good"
echo hi | "$BIN/mtls-send" --require-ocsp -C "$P/ca-cert.pem" \
    -c "$C/web-cert.pem" -k "$C/web-key.pem" "localhost:$PORT" >/dev/null
is "$?" 0 "mtls-send --require-ocsp accepts it"
serve_stop "$SPID"
# shellcheck disable=SC2086
fails_with 2 "revoked.ocsp: OCSP response not usable" \
    "a revoked OCSP response for ourselves: the server does not start" \
    "$BIN/mtls-serve" -l 127.0.0.1:0 $S --ocsp-response "$T/revoked.ocsp"

# SIGHUP: rotate the server certificate; then break the key file.
R=$T/rot
mkdir -p "$R"
cp "$P/server-cert.pem" "$P/server-key.pem" "$R/"
serve_start "$T/hup.log" -c "$R/server-cert.pem" -k "$R/server-key.pem" \
    -C "$P/ca-cert.pem"
serial() {
	openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
	    -CAfile "$P/ca-cert.pem" -cert "$C/web-cert.pem" \
	    -key "$C/web-key.pem" </dev/null 2>/dev/null |
	    openssl x509 -noout -serial | cut -d= -f2
}
is "$(serial)" 02 "before SIGHUP: the demo server certificate (serial 02)"
mkcert "$T/new" server "$P" ca 'cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
serial = 4660
tls_www_server
signing_key
expiration_days = 5'
cp "$T/new/server-cert.pem" "$T/new/server-key.pem" "$R/"
kill -HUP "$SPID"
ok "SIGHUP: the server logs the reload" \
    waitfor 5 has_log "$T/hup.log" 'event=reloaded serial=1234 '
is "$(serial)" 1234 "after SIGHUP: the next client sees the new certificate"
echo garbage >"$R/server-key.pem"
kill -HUP "$SPID"
ok "SIGHUP with a broken key: reload-failed, naming the file" \
    waitfor 5 has_log "$T/hup.log" "event=reload-failed level=error reason=\"$R/server-key.pem: no private key found"
as web >/dev/null 2>&1
is "$?" 0 "and clients are still served"
is "$(serial)" 1234 "with the set that was last good"
serve_stop "$SPID"
is "$?" 0 "SIGTERM after reloads: exit 0"

# --max-per-ip: two from 127.0.0.1 at once, no more; another address is
# still served.
# shellcheck disable=SC2086
serve_start "$T/perip.log" $S --max-per-ip 2 -t 60
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
waitfor 5 has_log "$T/perip.log" 'event=accepted' 2
as web >/dev/null 2>&1
is "$?" 3 "--max-per-ip 2: a third connection from 127.0.0.1 is not served"
ok "the log says why" has_log "$T/perip.log" \
    'reason="too many connections from 127.0.0.1 \(2\)"'
echo "from two" | pyclient 127.0.0.1 "$PORT" --source 127.0.0.2 \
    --ca "$P/ca-cert.pem" --cert "$C/web-cert.pem" --key "$C/web-key.pem" \
    --expect-lines 1 >"$T/two.out"
like "$(cat "$T/two.out")" '127\.0\.0\.2:[0-9]+ from two' \
    "a client from 127.0.0.2 is served meanwhile"
exec 5<&- 6<&-
serve_stop "$SPID"

# --user
if [ "$(id -u)" = 0 ]; then
	# shellcheck disable=SC2086
	serve_start "$T/user.log" $S -u nobody -t 5
	ok "--user nobody: the log says so" \
	    has_log "$T/user.log" "event=privileges-dropped user=nobody uid=$(id -u nobody)"
	is "$(ps -o user= -p "$SPID" | tr -d ' ')" nobody \
	    "the server runs as nobody"
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	waitfor 5 has_log "$T/user.log" 'event=accepted'
	is "$(ps -o user= --ppid "$SPID" | tr -d ' ' | sort -u)" nobody \
	    "its connection processes run as nobody"
	exec 5<&-
	as web >"$T/out" 2>&1
	is "$?" 0 "and it serves clients"
	kill -HUP "$SPID"
	ok "a reload as nobody cannot read the root-only key: reload-failed" \
	    waitfor 5 has_log "$T/user.log" 'event=reload-failed .*Permission denied'
	serve_stop "$SPID"
	is "$?" 0 "SIGTERM: exit 0"
else
	# shellcheck disable=SC2086
	fails_with 1 '--user nobody: Operation not permitted' \
	    "not root: --user fails, exit 1" "$BIN/mtls-serve" \
	    -l 127.0.0.1:0 $S -u nobody
fi
# shellcheck disable=SC2086
fails_with 2 '--user no-such-user-here: no such user' \
    "--user with an unknown user: exit 2" "$BIN/mtls-serve" \
    -l 127.0.0.1:0 $S -u no-such-user-here

# Peer-controlled text in the log: a client whose CN holds a newline, a
# forged log line and a terminal escape sequence.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$T/evil-key.pem" 2>/dev/null
chmod 600 "$T/evil-key.pem"
evil=$(printf 'evil\nmtls-serve: time=0 event=handshake forged=yes \033[31mred')
openssl req -new -key "$T/evil-key.pem" -subj "/CN=$evil" \
    -out "$T/evil.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$T/evil.ext"
openssl x509 -req -in "$T/evil.csr" -CA "$P/ca-cert.pem" \
    -CAkey "$P/ca-key.pem" -set_serial 77 -days 2 -extfile "$T/evil.ext" \
    -out "$T/evil-cert.pem" 2>/dev/null
# shellcheck disable=SC2086
serve_start "$T/evil.log" $S
echo hi | "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$T/evil-cert.pem" \
    -k "$T/evil-key.pem" "localhost:$PORT" >/dev/null
is "$?" 0 "a client with a hostile CN is served (the CA signed it)"
waitfor 5 has_log "$T/evil.log" 'event=closed'
serve_stop "$SPID"
ok "no forged line in the log" test "$(count_log "$T/evil.log" '^mtls-serve: time=0 ')" = 0
ok "every log line is one of ours" \
    test "$(grep -cv '^mtls-serve: time=' "$T/evil.log")" = 0
ok "no escape character reaches the log" \
    test "$(tr -dc '\033' <"$T/evil.log" | wc -c)" = 0
like "$(grep 'event=handshake' "$T/evil.log")" \
    'client_subject="CN=evil\\nmtls-serve: time=0 event=handshake forged=yes \\x1b\[31mred"' \
    "the CN is logged escaped, newline and ESC visible"

# Key file permissions.
cp "$P/server-key.pem" "$T/open-key.pem"
chmod 644 "$T/open-key.pem"
serve_start "$T/perm.log" -c "$P/server-cert.pem" -k "$T/open-key.pem" \
    -C "$P/ca-cert.pem"
ok "a key others can read: a warning naming it" \
    has_log "$T/perm.log" "open-key.pem: private key is readable by others \\(mode 0644\\)"
serve_stop "$SPID"
fails_with 2 "open-key.pem: private key is readable by others" \
    "--strict: the same key is fatal" "$BIN/mtls-serve" -l 127.0.0.1:0 \
    --strict -c "$P/server-cert.pem" -k "$T/open-key.pem" -C "$P/ca-cert.pem"

done_testing
