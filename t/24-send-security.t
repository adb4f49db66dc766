#!/bin/bash
# mtls-send's added checks: --pin, --crl, --require-ocsp (against a server
# that staples a good, a revoked or no response), key file permissions.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
S="$BIN/mtls-send -C $P/ca-cert.pem -c $P/client-cert.pem -k $P/client-key.pem"
pin=$(openssl x509 -in "$P/server-cert.pem" -noout -pubkey |
    openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)
other=$(openssl x509 -in "$P/ca-cert.pem" -noout -pubkey |
    openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)

serve_start "$T/serve.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"
# shellcheck disable=SC2086
{
echo hi | $S --pin "sha256//$pin" "localhost:$PORT" >"$T/out"
is "$?" 0 "--pin with the server's pin (computed by openssl): exit 0"
echo hi | $S --pin "sha256//$other" --pin "sha256//$pin" "localhost:$PORT" >/dev/null
is "$?" 0 "--pin twice, the second matching: exit 0"
pin_re=$(printf '%s' "$pin" | sed 's/[+.]/\\&/g')
fails_with 4 "server key matches no --pin \(its pin is sha256//$pin_re\)" \
    "--pin with another key's pin: exit 4, the server's pin shown" \
    $S --pin "sha256//$other" "localhost:$PORT"
fails_with 2 '--pin "sha256//short": not a SHA-256 pin' \
    "a malformed pin: exit 2" $S --pin sha256//short "localhost:$PORT"
fails_with 4 'server stapled no valid OCSP response' \
    "--require-ocsp against a server that staples nothing: exit 4" \
    $S --require-ocsp "localhost:$PORT"
}
serve_stop "$SPID"

# --crl revoking the server's certificate.
mkcrl "$P" ca "$T/srv.crl" "$P/server-cert.pem"
mkcrl "$P" ca "$T/empty.crl"
gserv_start "$T/gs.log" --echo --x509certfile "$P/server-cert.pem" \
    --x509keyfile "$P/server-key.pem" --x509cafile "$P/ca-cert.pem"
# shellcheck disable=SC2086
{
fails_with 4 'server certificate is revoked' \
    "--crl revoking the server (gnutls-serv): exit 4" \
    $S --crl "$T/srv.crl" "localhost:$PORT"
echo hi | $S --crl "$T/empty.crl" "localhost:$PORT" >"$T/out"
is "$?" 0 "--crl that does not list it: exit 0"
is "$(cat "$T/out")" hi "and the echo comes back"
}
kill "$SPID" 2>/dev/null
await "$SPID"

# OCSP stapled by openssl s_server: good, and revoked.
ocsp_response "$P" "$P/server-cert.pem" good "$T/good.ocsp"
ocsp_response "$P" "$P/server-cert.pem" revoked "$T/revoked.ocsp"
for st in good revoked; do
	osrv_start "$T/os.log" -naccept 2 -rev -status_file "$T/$st.ocsp" \
	    -Verify 1 -cert "$P/server-cert.pem" -key "$P/server-key.pem" \
	    -CAfile "$P/ca-cert.pem"
	# shellcheck disable=SC2086
	if [ $st = good ]; then
		echo abc | $S --require-ocsp "localhost:$PORT" >"$T/out"
		is "$?" 0 "a stapled good response satisfies --require-ocsp"
		is "$(cat "$T/out")" cba "and the session works"
	else
		fails_with 4 'server certificate is revoked' \
		    "a stapled revoked response fails, even without --require-ocsp" \
		    $S "localhost:$PORT"
		fails_with 4 'server certificate is revoked' \
		    "and with --require-ocsp" $S --require-ocsp "localhost:$PORT"
	fi
	kill "$SPID" 2>/dev/null
	await "$SPID"
done

# Key permissions.
cp "$P/client-key.pem" "$T/open-key.pem"
chmod 640 "$T/open-key.pem"
serve_start "$T/s2.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"
echo hi | "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$P/client-cert.pem" \
    -k "$T/open-key.pem" "localhost:$PORT" >/dev/null 2>"$T/warn"
is "$?" 0 "a group-readable key still works"
like "$(cat "$T/warn")" 'open-key.pem: private key is readable by its group \(mode 0640\)' \
    "with a warning naming it"
fails_with 2 'open-key.pem: private key is readable by its group' \
    "--strict makes it fatal" "$BIN/mtls-send" --strict -C "$P/ca-cert.pem" \
    -c "$P/client-cert.pem" -k "$T/open-key.pem" "localhost:$PORT"
serve_stop "$SPID"

done_testing
