#!/bin/bash
# mtls-serve -- PROGRAM: the program's environment, cross-checked against
# openssl's view of the client certificate; 50 MiB each way; programs that
# exit at once, never read, or die by a signal; a scripted conversation
# with mtls-send -- PROGRAM.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
# A client certificate with every SAN type, made by openssl.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$T/c-key.pem" 2>/dev/null
chmod 600 "$T/c-key.pem"
openssl req -new -key "$T/c-key.pem" \
    -subj "/C=DE/O=Example Org/OU=Platform/CN=web-7" -out "$T/c.csr" 2>/dev/null
cat >"$T/c.ext" <<'EXT'
extendedKeyUsage=clientAuth
subjectAltName=DNS:web-7.internal,DNS:web.internal,IP:10.9.8.7,email:web@example.org,URI:spiffe://example.org/ns/prod/sa/web
EXT
openssl x509 -req -in "$T/c.csr" -CA "$P/ca-cert.pem" -CAkey "$P/ca-key.pem" \
    -set_serial 0x5eed -days 20 -extfile "$T/c.ext" -out "$T/c-cert.pem" 2>/dev/null
SEND="$BIN/mtls-send -C $P/ca-cert.pem -c $T/c-cert.pem -k $T/c-key.pem"
SRV="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"

# The environment, from a program that prints it (NUL-separated: the PEM
# certificate spans lines).
# shellcheck disable=SC2086
MTLS_PKCS11_PIN=secret-pin serve_start "$T/env.log" $SRV \
    --allow 'uri:spiffe://example.org/ns/prod/*' -- env -0
# shellcheck disable=SC2086
$SEND "localhost:$PORT" </dev/null >"$T/env.raw"
is "$?" 0 "mtls-send to a program that prints its environment: exit 0"
tr '\0' '\n' <"$T/env.raw" | grep -E '^[A-Z_0-9a-z]+=' >"$T/env" || true
# get NAME: the value of NAME (first line only).
get() {
	tr '\0' '\n' <"$T/env.raw" | sed -n "s/^$1=//p" | head -n 1
}
oss() {
	openssl x509 -in "$T/c-cert.pem" -noout "$@"
}
odate() {
	date -u -d "$(oss "$1" | sed 's/^[^=]*=//')" +%Y-%m-%dT%H:%M:%SZ
}
is "$(get PROTO)" TCP "PROTO=TCP"
is "$(get TCPREMOTEIP)" 127.0.0.1 "TCPREMOTEIP is the client's"
like "$(get TCPREMOTEPORT)" '^[0-9]+$' "TCPREMOTEPORT is a port"
is "$(get TCPLOCALIP):$(get TCPLOCALPORT)" "127.0.0.1:$PORT" \
    "TCPLOCALIP:TCPLOCALPORT is where the server listens"
is "$(get SSL_PROTOCOL)" TLSv1.3 "SSL_PROTOCOL"
like "$(get SSL_CIPHER)" '^TLS_AES_(128|256)_GCM_SHA(256|384)$' "SSL_CIPHER"
is "$(get SSL_SESSION_RESUMED)" Initial "SSL_SESSION_RESUMED"
is "$(get SSL_TLS_SNI)" localhost "SSL_TLS_SNI"
is "$(get SSL_CLIENT_VERIFY)" SUCCESS "SSL_CLIENT_VERIFY"
is "$(get SSL_CLIENT_S_DN)" \
    "$(oss -subject -nameopt RFC2253 | sed 's/^subject=//')" \
    "SSL_CLIENT_S_DN equals openssl's RFC 2253 subject"
is "$(get SSL_CLIENT_I_DN)" \
    "$(oss -issuer -nameopt RFC2253 | sed 's/^issuer=//')" \
    "SSL_CLIENT_I_DN equals openssl's issuer"
is "$(get SSL_CLIENT_S_DN_CN)/$(get SSL_CLIENT_S_DN_O)/$(get SSL_CLIENT_S_DN_OU)" \
    "web-7/Example Org/Platform" "SSL_CLIENT_S_DN_CN, _O, _OU"
is "$(get SSL_CLIENT_M_SERIAL)" "$(oss -serial | sed 's/^serial=//')" \
    "SSL_CLIENT_M_SERIAL equals openssl's serial"
is "$(get SSL_CLIENT_V_START)" "$(odate -startdate)" "SSL_CLIENT_V_START"
is "$(get SSL_CLIENT_V_END)" "$(odate -enddate)" "SSL_CLIENT_V_END"
like "$(get SSL_CLIENT_V_REMAIN)" '^(19|20)$' "SSL_CLIENT_V_REMAIN: days left"
is "$(tr '\0' '\n' <"$T/env.raw" | sed -n '/^SSL_CLIENT_CERT=/,/END CERTIFICATE/p' | sed 's/^SSL_CLIENT_CERT=//')" \
    "$(cat "$T/c-cert.pem")" "SSL_CLIENT_CERT is the client's certificate (PEM)"
is "$(get SSL_CLIENT_SAN_DNS_0) $(get SSL_CLIENT_SAN_DNS_1)" \
    "web-7.internal web.internal" "SSL_CLIENT_SAN_DNS_0, _1"
is "$(get SSL_CLIENT_SAN_IP_0)" 10.9.8.7 "SSL_CLIENT_SAN_IP_0"
is "$(get SSL_CLIENT_SAN_Email_0)" web@example.org "SSL_CLIENT_SAN_Email_0"
is "$(get SSL_CLIENT_SAN_URI_0)" spiffe://example.org/ns/prod/sa/web \
    "SSL_CLIENT_SAN_URI_0: the SPIFFE ID"
like "$(oss -ext subjectAltName)" "DNS:web-7.internal, DNS:web.internal, IP Address:10.9.8.7, email:web@example.org, URI:spiffe://example.org/ns/prod/sa/web" \
    "(openssl sees the same SANs)"
is "$(get SSL_CLIENT_CERT_SHA256)" \
    "$(oss -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)" \
    "SSL_CLIENT_CERT_SHA256 equals openssl's fingerprint"
is "$(get SSL_CLIENT_SPKI_SHA256)" \
    "$(oss -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)" \
    "SSL_CLIENT_SPKI_SHA256 equals the SHA-256 of openssl's public key"
is "$(get MTLS_ALLOW_RULE)" 'uri:spiffe://example.org/ns/prod/*' \
    "MTLS_ALLOW_RULE is the rule that admitted the client"
ok "no variable holds a key path" \
    test "$(grep -c -e 'key.pem' -e "$P" "$T/env")" = 0
ok "no variable holds key material or the token PIN" \
    test "$(grep -c -e 'PRIVATE KEY' -e 'secret-pin' -e 'MTLS_PKCS11' "$T/env")" = 0
ok "the closing log line has the program's status and the peer" \
    waitfor 5 has_log "$T/env.log" 'event=closed end=close_notify .*program="exit 0" client_subject="CN=web-7,OU=Platform,O=Example Org,C=DE"'
serve_stop "$SPID"

# 50 MiB in: a program that hashes its input.
head -c $((50 * 1024 * 1024)) /dev/urandom >"$T/big"
# shellcheck disable=SC2086
serve_start "$T/hash.log" $SRV -- sha256sum
# shellcheck disable=SC2086
$SEND "localhost:$PORT" <"$T/big" >"$T/hash.out"
is "$?" 0 "50 MiB to a hashing program: exit 0"
is "$(cat "$T/hash.out")" "$(sha256sum <"$T/big")" "the program saw every byte"
serve_stop "$SPID"

# 50 MiB out: a program that writes without reading.
# shellcheck disable=SC2086
serve_start "$T/cat.log" $SRV -- cat "$T/big"
# shellcheck disable=SC2086
$SEND "localhost:$PORT" </dev/null | sha256sum >"$T/cat.out"
is "$(cat "$T/cat.out")" "$(sha256sum <"$T/big")" \
    "a program writing 50 MiB without reading: all of it arrives"
serve_stop "$SPID"

# A program that exits at once while the client is still sending.
# shellcheck disable=SC2086
serve_start "$T/quit.log" $SRV -t 5 -- true
# shellcheck disable=SC2086
$SEND "localhost:$PORT" <"$T/big" >/dev/null 2>"$T/quit.err"
is "$?" 1 "a program that exits at once: input is left over, exit 1"
like "$(cat "$T/quit.err")" \
    "^mtls-send: 127\.0\.0\.1:$PORT: (server closed the connection before all input was sent|server stopped reading): .*not delivered" \
    "and the client says the conversation was cut short"
ok "its status is logged" waitfor 5 has_log "$T/quit.log" 'program="exit 0"'
ok "no zombie" waitfor 5 no_zombies "$SPID"
serve_stop "$SPID"

# A program that never reads: memory stays bounded, the timeout ends it.
# shellcheck disable=SC2086
serve_start "$T/deaf.log" $SRV -t 5 -- sleep 60
# shellcheck disable=SC2086
$SEND "localhost:$PORT" <"$T/big" >/dev/null 2>"$T/deaf.err"
is "$?" 1 "a program that never reads: the client is ended (exit 1)"
ok "by the idle timeout" waitfor 10 has_log "$T/deaf.log" 'event=closed end=timeout'
like "$(grep 'event=closed' "$T/deaf.log")" 'program="signal 15 \(Terminated\)"' \
    "the program is ended with SIGTERM, and that is logged"
rss=$(sed -n 's/.*event=closed .*max_rss_kb=\([0-9]*\).*/\1/p' "$T/deaf.log")
diag "peak RSS of that connection: $rss KiB"
ok "the connection's memory stayed bounded ($rss KiB < 64 MiB)" \
    test "${rss:-999999}" -lt 65536
ok "no zombie" waitfor 5 no_zombies "$SPID"
serve_stop "$SPID"

# A program killed by a signal.
# shellcheck disable=SC2086
serve_start "$T/kill.log" $SRV -- sh -c 'echo dying; kill -9 $$'
# shellcheck disable=SC2086
$SEND "localhost:$PORT" </dev/null >"$T/kill.out" 2>"$T/kill.err"
is "$(cat "$T/kill.out")" dying "what the program wrote before it died arrives"
like "$(cat "$T/kill.err")" "without close_notify" "and the client is told its end was not clean"
ok "its death by SIGKILL is logged" \
    waitfor 5 has_log "$T/kill.log" 'program="signal 9 \(Killed\)"'
serve_stop "$SPID"

# With --user, the program runs unprivileged too.
if [ "$(id -u)" = 0 ]; then
	# shellcheck disable=SC2086
	serve_start "$T/user.log" $SRV -u nobody -- id -un
	# shellcheck disable=SC2086
	$SEND "localhost:$PORT" </dev/null >"$T/user.out"
	is "$(cat "$T/user.out")" nobody "with -u nobody the program runs as nobody"
	serve_stop "$SPID"
else
	# shellcheck disable=SC2086
	serve_start "$T/user.log" $SRV -- id -u
	# shellcheck disable=SC2086
	$SEND "localhost:$PORT" </dev/null >"$T/user.out"
	is "$(cat "$T/user.out")" "$(id -u)" "not root: the program runs as we do"
	serve_stop "$SPID"
fi

# A program that is not there, or cannot run: found at start-up, exit 2.
# shellcheck disable=SC2086
{
fails_with 2 '^mtls-serve: /no/such/program: No such file or directory$' \
    "a missing program: exit 2 at start-up, named" \
    timeout 10 "$BIN/mtls-serve" -l 127.0.0.1:0 $SRV -- /no/such/program
fails_with 2 '^mtls-serve: no-such-program-here: not found in PATH$' \
    "a program not in PATH: exit 2 at start-up" \
    timeout 10 "$BIN/mtls-serve" -l 127.0.0.1:0 $SRV -- no-such-program-here
fails_with 2 "^mtls-serve: $T/c.csr: Permission denied\$" \
    "a file that is not executable: exit 2" \
    timeout 10 "$BIN/mtls-serve" -l 127.0.0.1:0 $SRV -- "$T/c.csr"
}

# A conversation: mtls-send -- PROGRAM with an exec-mode server.
cat >"$T/server.sh" <<'SH'
while read -r cmd arg; do
	case $cmd in
	hello) echo "hello $SSL_CLIENT_S_DN_CN" ;;
	add) echo "sum $((arg + 1))" ;;
	bye) echo "bye"; exit 0 ;;
	*) echo "what?" ;;
	esac
done
SH
cat >"$T/client.sh" <<'SH'
echo "hello"; read -r a; echo "1: $a" >&2
echo "add 41"; read -r b; echo "2: $b" >&2
echo "server: $SSL_SERVER_S_DN_CN $SSL_SERVER_SAN_DNS_0" >&2
echo "bye"; read -r c; echo "3: $c" >&2
SH
# shellcheck disable=SC2086
serve_start "$T/conv.log" $SRV -- sh "$T/server.sh"
# shellcheck disable=SC2086
$SEND "localhost:$PORT" -- sh "$T/client.sh" 2>"$T/conv.err"
is "$?" 0 "mtls-send -- PROGRAM: a scripted conversation, exit 0"
is "$(cat "$T/conv.err")" "1: hello web-7
2: sum 42
server: localhost localhost
3: bye" "each line answered in turn; SSL_SERVER_* names the server"
serve_stop "$SPID"
# shellcheck disable=SC2086
serve_start "$T/conv2.log" $SRV
# shellcheck disable=SC2086
$SEND "localhost:$PORT" -- sh -c 'echo x; read r; exit 5' 2>/dev/null
is "$?" 5 "mtls-send -- PROGRAM exits with the program's status"
serve_stop "$SPID"

done_testing
