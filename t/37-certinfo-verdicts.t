#!/bin/bash
# mtls-certinfo's verdicts that no other test reaches: "not yet valid",
# "bad signature" and "insecure algorithm", each judged the same way by
# openssl verify (its error number) and certtool --verify; a CA with the
# same name as the real one but another key; and --connect's exit 3 when
# no certificate arrives, with -t bounding the wait.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
# Another demo PKI: its CA has the very same name as ours, another key.
O=$T/other
mkpki "$O"
C=$T/c
mkcert "$C" future "$P" ca 'cn = "localhost"
dns_name = "localhost"
tls_www_server
signing_key
activation_date = "2099-01-01 00:00:00 UTC"
expiration_date = "2100-01-01 00:00:00 UTC"'
# A leaf whose signature is damaged: the last byte of the DER certificate
# is the last byte of the ECDSA signature's s.
openssl x509 -in "$P/server-cert.pem" -outform DER -out "$T/srv.der"
python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-1] ^= 1
open(sys.argv[2], "wb").write(b)' "$T/srv.der" "$C/badsig.der"
openssl x509 -inform DER -in "$C/badsig.der" -out "$C/badsig-cert.pem"
# A leaf signed with SHA-1, by openssl.
openssl req -new -key "$P/server-key.pem" -subj "/CN=sha1 signed" \
    -out "$T/sha1.csr" 2>/dev/null
openssl x509 -req -in "$T/sha1.csr" -CA "$P/ca-cert.pem" \
    -CAkey "$P/ca-key.pem" -sha1 -days 5 -set_serial 4242 \
    -out "$C/sha1-cert.pem" 2>/dev/null
like "$(openssl x509 -in "$C/sha1-cert.pem" -noout -text)" \
    'Signature Algorithm: ecdsa-with-SHA1' \
    "(the SHA-1 leaf is signed with ecdsa-with-SHA1, says openssl)"

# verdict CASE CERT OSSL-ERRNO OSSL-OPTS CERTTOOL-ERE CERTINFO-REASON:
# openssl verify fails with error OSSL-ERRNO, certtool --verify says
# CERTTOOL-ERE, mtls-certinfo exits 1 and names CERTINFO-REASON.
verdict() {
	_case=$1 _cert=$2 _errno=$3 _oopts=$4 _ct=$5 _why=$6
	# shellcheck disable=SC2086
	openssl verify $_oopts -CAfile "$P/ca-cert.pem" "$_cert" >"$T/o.out" 2>&1
	_o=$?
	is "$_o $(grep -o 'error [0-9]* at 0 depth' "$T/o.out")" \
	    "2 error $_errno at 0 depth" \
	    "$_case: openssl verify fails with error $_errno"
	certtool --verify --load-ca-certificate "$P/ca-cert.pem" \
	    --infile "$_cert" >"$T/ct.out" 2>&1
	_c=$?
	like "$_c $(grep '^Chain verification output' "$T/ct.out")" \
	    "^1 .*Not verified.*$_ct" "$_case: certtool --verify: $_ct"
	certinfo -C "$P/ca-cert.pem" "$_cert" >"$T/ci.out" 2>"$T/ci.err"
	_st=$?
	is "$_st $(grep -c . "$T/ci.err")" "1 0" \
	    "$_case: mtls-certinfo exits 1, nothing on stderr"
	is "$(grep '^Verification' "$T/ci.out")" "Verification: FAILED: $_why" \
	    "$_case: mtls-certinfo's verdict names the reason"
}

verdict "not yet valid" "$C/future-cert.pem" 9 "" \
    'uses not yet valid certificate' 'not yet valid'
verdict "bad signature" "$C/badsig-cert.pem" 7 "" \
    'The signature in the certificate is invalid' 'bad signature'
# openssl verify accepts SHA-1 at its default level; -auth_level 1 (80
# bits) is the level at which it calls SHA-1 too weak.
verdict "insecure algorithm (SHA-1)" "$C/sha1-cert.pem" 68 "-auth_level 1" \
    'insecure algorithm' 'insecure signature algorithm'
# The DER file itself, not only its PEM copy.
certinfo -C "$P/ca-cert.pem" "$C/badsig.der" >"$T/der.out"
is "$? $(grep '^Verification' "$T/der.out")" \
    "1 Verification: FAILED: bad signature" "bad signature, DER input: the same"

# The not-yet-valid leaf's dates, as openssl reads them.
nb=$(date -u -d "$(openssl x509 -in "$C/future-cert.pem" -noout -startdate |
    sed 's/^[^=]*=//')" +%Y-%m-%dT%H:%M:%SZ)
certinfo "$C/future-cert.pem" >"$T/f.out"
like "$(grep 'Not before' "$T/f.out")" "Not before: +$nb\$" \
    "not yet valid: the start date is openssl's ($nb)"
like "$(grep 'Not after' "$T/f.out")" '\(not yet valid\)$' \
    "and the text output marks it not yet valid"
certinfo --json "$C/future-cert.pem" >"$T/f.json"
is "$(jq_py "$T/f.json" '[d["certificates"][0]["not_yet_valid"], d["certificates"][0]["expired"]]')" \
    "[true, false]" "--json: not_yet_valid true, expired false"

# Same name, other key: the other PKI's server certificate names our CA
# as its issuer, byte for byte, and still does not verify.
is "$(openssl x509 -in "$O/server-cert.pem" -noout -issuer -nameopt RFC2253)" \
    "$(openssl x509 -in "$P/ca-cert.pem" -noout -subject -nameopt RFC2253 |
    sed 's/^subject=/issuer=/')" \
    "same-name CA: the other server's issuer is our CA's subject"
ok "same-name CA: the two CA keys differ" test \
    "$(openssl x509 -in "$O/ca-cert.pem" -noout -pubkey)" != \
    "$(openssl x509 -in "$P/ca-cert.pem" -noout -pubkey)"
openssl verify -CAfile "$P/ca-cert.pem" "$O/server-cert.pem" >"$T/o.out" 2>&1
is "$? $(grep -o 'error [0-9]* at 0 depth' "$T/o.out")" "2 error 20 at 0 depth" \
    "same-name CA: openssl verify fails (20, unable to get local issuer)"
certinfo -C "$P/ca-cert.pem" "$O/server-cert.pem" >"$T/sn.out"
like "$? $(grep '^Verification' "$T/sn.out")" \
    '^1 Verification: FAILED: unknown issuer \(not signed by a trusted CA\)$' \
    "same-name CA: mtls-certinfo fails it too (unknown issuer)"
certinfo -C "$O/ca-cert.pem" "$O/server-cert.pem" >"$T/sn2.out"
is "$? $(grep '^Verification' "$T/sn2.out")" "0 Verification: OK" \
    "and its own CA verifies it"

# --connect: no certificate received is exit 3.  A server that accepts
# and never answers: -t 1 ends the wait.
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); time.sleep(60)' >"$T/mute.port" &
mp=$!
track $mp
waitfor 10 test -s "$T/mute.port"
mport=$(cat "$T/mute.port")
fails_with 3 "^mtls-certinfo: 127\.0\.0\.1:$mport: no certificate received: timed out\$" \
    "-t 1 against a server that never answers: exit 3, timed out" \
    "$BIN/mtls-certinfo" -t 1 --connect "127.0.0.1:$mport"
kill $mp 2>/dev/null
await $mp

# A server that answers with something that is not TLS and closes.
python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.recv(4096); c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n"); c.close()' \
    >"$T/http.port" &
hp=$!
track $hp
waitfor 10 test -s "$T/http.port"
hport=$(cat "$T/http.port")
fails_with 3 "^mtls-certinfo: 127\.0\.0\.1:$hport: no certificate received: " \
    "a server that answers in plain text: exit 3, no certificate received" \
    "$BIN/mtls-certinfo" -t 5 --connect "127.0.0.1:$hport"
await $hp

# A TLS server that offers only what we refuse (TLS 1.1) alerts before
# sending its certificate.
osrv_start "$T/os11.log" -naccept 1 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
    -cert "$P/server-cert.pem" -key "$P/server-key.pem"
fails_with 3 "^mtls-certinfo: 127\.0\.0\.1:$PORT: no certificate received: .*protocol.version" \
    "a TLS 1.1-only server: exit 3, no certificate, the protocol named" \
    "$BIN/mtls-certinfo" -t 5 --connect "127.0.0.1:$PORT"
kill "$SPID" 2>/dev/null
await "$SPID"

fails_with 2 '^mtls-certinfo: --timeout: "0"' "-t 0 is a usage error" \
    "$BIN/mtls-certinfo" -t 0 --connect 127.0.0.1:1

done_testing
