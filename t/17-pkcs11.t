#!/bin/bash
# Keys in a hardware token, for real: SoftHSM2 holds the server's key (and
# then the client's); mtls-serve and mtls-send use it through a pkcs11:
# URI, with the PIN from pin-source, from the environment, or missing.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
H=$T/hsm
mkdir -p "$H/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$H" >"$H/softhsm2.conf"
export SOFTHSM2_CONF=$H/softhsm2.conf
softhsm2-util --init-token --free --label mtls --pin 4321 --so-pin 8765 \
    >/dev/null 2>&1 || { echo "Bail out! softhsm2-util cannot make a token"; exit 1; }
for who in server client; do
	openssl pkcs8 -topk8 -nocrypt -in "$P/$who-key.pem" -out "$H/$who.p8"
	softhsm2-util --import "$H/$who.p8" --token mtls --label "$who" \
	    --id "0$([ $who = server ] && echo 1 || echo 2)" --pin 4321 \
	    >/dev/null 2>&1
	rm -f "$H/$who.p8"
done
printf '4321' >"$H/pin"
chmod 600 "$H/pin"
key="pkcs11:token=mtls;object=server;type=private"

# PIN from pin-source: a TLS 1.3 and a TLS 1.2 client complete mTLS.
serve_start "$T/a.log" -c "$P/server-cert.pem" \
    -k "$key?pin-source=$H/pin" -C "$P/ca-cert.pem"
for v in 1.3 1.2; do
	echo "token $v" | gcli "$P" "$PORT" --logfile="$T/g.err" \
	    --priority "NORMAL:-VERS-ALL:+VERS-TLS$v" >"$T/out"
	like "$(cat "$T/out")" " token $v\$" \
	    "key in SoftHSM (pin-source): gnutls-cli TLS$v completes mTLS"
done
ok "the key's URI is never logged" \
    test "$(count_log "$T/a.log" 'pkcs11:')" = 0

# One login, in the key process, for the server's lifetime: with the PIN
# file gone, new connections (each a new process) and a SIGHUP still
# work; no connection's process has the token's module loaded.
KPID=$(key_pid "$T/a.log")
ok "the key process has the token's module loaded" \
    grep -q libsofthsm2 "/proc/$KPID/maps"
mv "$H/pin" "$H/pin.away"
for i in 1 2 3; do
	echo "again $i" | gcli "$P" "$PORT" --logfile="$T/g.err" >"$T/out"
	like "$(cat "$T/out")" " again $i\$" \
	    "PIN file gone: connection $i still completes mTLS (no new login)"
done
kill -HUP "$SPID"
ok "SIGHUP with the PIN file gone: reloaded" \
    waitfor 20 has_log "$T/a.log" 'event=reloaded'
unlike "$(cat "$T/a.log")" 'event=reload-failed' "and nothing failed to load"
ok "after the SIGHUP, a new client completes mTLS" \
    live_start "$P" "$PORT" "after hup"
CPID=$(conn_pids "$SPID" | head -n 1)
ok "a connection's process is there ($CPID)" test -n "$CPID"
is "$(grep -c libsofthsm2 "/proc/$CPID/maps")" 0 \
    "and it has no PKCS#11 module loaded: only the key process uses the token"
live_stop
mv "$H/pin.away" "$H/pin"
serve_stop "$SPID"

# PIN from the environment.
MTLS_PKCS11_PIN=4321 serve_start "$T/b.log" -c "$P/server-cert.pem" \
    -k "$key" -C "$P/ca-cert.pem"
echo env >"$T/env.in"
ossl_talk "$T/env.in" 1 "$T/out" -connect "127.0.0.1:$PORT" \
    -CAfile "$P/ca-cert.pem" -verify_return_error \
    -cert "$P/client-cert.pem" -key "$P/client-key.pem"
like "$(cat "$T/out")" ' env$' \
    "key in SoftHSM (MTLS_PKCS11_PIN): openssl s_client completes mTLS"
grep -q ' env$' "$T/out" ||
    diag "s_client: $(tail -n 5 "$T/ossl.err")" "server: $(tail -n 3 "$T/b.log")"

# The client's key in the token too.
echo both | MTLS_PKCS11_PIN=4321 "$BIN/mtls-send" -C "$P/ca-cert.pem" \
    -c "$P/client-cert.pem" -k "pkcs11:token=mtls;object=client;type=private" \
    "localhost:$PORT" >"$T/out"
is "$?" 0 "mtls-send with its key in SoftHSM: exit 0"
like "$(cat "$T/out")" ' both$' "and the echo comes back"
serve_stop "$SPID"

# No PIN, a wrong PIN, a missing object: exit 2, the PIN never shown.
fails_with 2 "^mtls-serve: .* reason=\"$key: .*PIN" "no PIN: exit 2" \
    env -u MTLS_PKCS11_PIN "$BIN/mtls-serve" -l 127.0.0.1:0 \
    -c "$P/server-cert.pem" -k "$key" -C "$P/ca-cert.pem"
fails_with 2 "^mtls-serve: .* reason=\"$key: Error in provided PIN" "a wrong PIN: exit 2" \
    "$BIN/mtls-serve" -l 127.0.0.1:0 -c "$P/server-cert.pem" \
    -k "$key?pin-value=9999" -C "$P/ca-cert.pem"
unlike "$(cat "$T/fw.err")" '9999' "and the message does not show it"
fails_with 2 "key does not match certificate" \
    "the client's token key with the server's certificate: exit 2" \
    "$BIN/mtls-serve" -l 127.0.0.1:0 -c "$P/server-cert.pem" \
    -k "pkcs11:token=mtls;object=client;type=private?pin-source=$H/pin" \
    -C "$P/ca-cert.pem"

done_testing
