#!/bin/bash
# Certificates for real names: make certs CERTS=DIR SERVER_NAMES=...
# CLIENT_NAME=..., a further client from the existing CA (make
# client-cert), and certs/mkpki's --help and usage errors.
. "$(dirname "$0")/lib.sh"

M="$TOP/certs/mkpki"
"$M" --help >"$T/help.out" 2>"$T/help.err"
is "$?" 0 "mkpki --help: exit 0"
like "$(head -n 1 "$T/help.out")" '^usage: mkpki ' "and prints its usage on stdout"
is "$(cat "$T/help.err")" "" "and nothing on stderr"
ok "the help names --server-names and --add-client" \
    grep -q -- '--add-client' "$T/help.out"
fails_with 2 '^mkpki: unknown option --bogus \(usage: mkpki ' \
    "an unknown option: one usage line, exit 2" "$M" --bogus "$T/x"
fails_with 2 '^mkpki: no directory given \(usage: ' \
    "no directory: one usage line" "$M"
fails_with 2 '^mkpki: option -s needs an argument' \
    "a missing option argument: one line" "$M" -s
fails_with 2 '^mkpki: unknown key type "dsa"' "a bad key type: one line" \
    "$M" "$T/x" dsa
fails_with 2 '^mkpki: --server-names: "bad_name!" is neither' \
    "a name that is neither DNS nor IP: one line" "$M" -s 'ok bad_name!' "$T/x"
ok "and nothing was made" test ! -e "$T/x"

# make certs for a real host and client.
R=$T/real
make -s -C "$TOP" certs CERTS="$R" SERVER_NAMES="db1.example 127.0.0.2" \
    CLIENT_NAME=alice >"$T/make.out" 2>&1
is "$?" 0 "make certs CERTS=... SERVER_NAMES=... CLIENT_NAME=alice: exit 0"
san=$(openssl x509 -in "$R/server-cert.pem" -noout -ext subjectAltName)
like "$san" 'DNS:db1\.example' "openssl: the DNS name is a DNS SAN"
like "$san" 'IP Address:127\.0\.0\.2' "openssl: the IP address is an IP SAN"
unlike "$san" 'localhost|DNS:127' "and nothing else"
like "$(openssl x509 -in "$R/client-cert.pem" -noout -subject)" \
    'CN ?= ?alice$' "openssl: the client certificate has CN=alice"
like "$(openssl x509 -in "$R/client-cert.pem" -noout -ext extendedKeyUsage)" \
    'TLS Web Client Authentication' "for client authentication"
is "$(stat -c %a "$R/server-key.pem" "$R/client-key.pem" "$R/ca-key.pem" | sort -u)" \
    600 "the keys are mode 0600"

S="-c $R/server-cert.pem -k $R/server-key.pem -C $R/ca-cert.pem"
# shellcheck disable=SC2086
serve_start "$T/s.log" $S -l 127.0.0.2:0
p2=$(sed -n 's/.*event=listening addr=127\.0\.0\.2:\([0-9]*\).*/\1/p' "$T/s.log")
like "$(echo hi | send "$R" -n db1.example "127.0.0.2:$p2")" ' hi$' \
    "mtls-send -n db1.example: the server is verified by its DNS name"
like "$(echo ip | send "$R" "127.0.0.2:$p2")" ' ip$' \
    "mtls-send 127.0.0.2: verified by its IP SAN"
ok "the server saw CN=alice" \
    waitfor 5 has_log "$T/s.log" 'client_subject="CN=alice,O=mtls demo"'
echo x | send "$R" -n localhost "127.0.0.2:$p2" >/dev/null 2>"$T/mm.err"
is "$?" 4 "a name not in the certificate is refused (exit 4)"
certtool --verify --load-ca-certificate "$R/ca-cert.pem" \
    --verify-hostname db1.example --infile "$R/server-cert.pem" >"$T/v.out" 2>&1
is "$?" 0 "certtool: the server certificate verifies for db1.example"

# One more client from the same CA, the CA untouched.
sha_ca=$(sha256sum <"$R/ca-cert.pem")
sha_cakey=$(sha256sum <"$R/ca-key.pem")
make -s -C "$TOP" client-cert CERTS="$R" CLIENT_NAME=bob >"$T/bob.out" 2>&1
is "$?" 0 "make client-cert CLIENT_NAME=bob: exit 0"
is "$(sha256sum <"$R/ca-cert.pem")$(sha256sum <"$R/ca-key.pem")" \
    "$sha_ca$sha_cakey" "the CA is not remade"
openssl verify -purpose sslclient -CAfile "$R/ca-cert.pem" \
    "$R/bob-cert.pem" >"$T/ov.out" 2>&1
is "$?" 0 "openssl verifies bob's certificate against that CA for client use"
like "$(openssl x509 -in "$R/bob-cert.pem" -noout -subject)" 'CN ?= ?bob$' \
    "bob's certificate has CN=bob"
isnt_serial() {
	[ "$(openssl x509 -in "$R/bob-cert.pem" -noout -serial)" != \
	    "$(openssl x509 -in "$R/client-cert.pem" -noout -serial)" ]
}
ok "with its own serial number" isnt_serial
is "$(stat -c %a "$R/bob-key.pem")" 600 "its key is mode 0600"
like "$("$BIN/mtls-send" -C "$R/ca-cert.pem" -c "$R/bob-cert.pem" \
    -k "$R/bob-key.pem" -n db1.example "127.0.0.2:$p2" <<<bob)" ' bob$' \
    "the running server admits bob"
ok "and logs CN=bob" waitfor 5 has_log "$T/s.log" 'client_subject="CN=bob,O=mtls demo"'
serve_stop "$SPID"
fails_with 1 "^mkpki: $R/bob-cert\\.pem exists; keeping it" \
    "issuing bob again keeps the first" "$M" -a bob "$R"
fails_with 1 "^mkpki: $T/none/ca-key\\.pem: no CA here" \
    "a further client without a CA: one line" "$M" -a carol "$T/none"

done_testing
