#!/bin/bash
# Revocation fails closed on the client side too: mtls-send with an expired
# CRL, a CRL no trusted CA signed (one from a CA of the same name but
# another key among them), and --require-ocsp with a stale stapled
# response; mtls-serve will not start with a stale --ocsp-response, nor
# take one at SIGHUP.  Each verdict is checked against openssl's.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
# Another demo PKI: same CA name, same serial numbers, other keys.
O=$T/other
mkpki "$O"
mkca "$T/r" rogue
S="$BIN/mtls-send -C $P/ca-cert.pem -c $P/client-cert.pem -k $P/client-key.pem"

# CRLs: an expired one from our CA; one from the rogue CA; one from the
# same-name CA that lists serial 02, which is our server's serial too;
# and a fresh one from our CA that lists nothing.
printf 'crl_this_update_date = "2020-01-01 00:00:00 UTC"\ncrl_next_update_date = "2020-02-01 00:00:00 UTC"\ncrl_number = 9\n' \
    >"$T/old.tmpl"
certtool --generate-crl --load-ca-privkey "$P/ca-key.pem" \
    --load-ca-certificate "$P/ca-cert.pem" --template "$T/old.tmpl" \
    --outfile "$T/old.crl" 2>/dev/null
mkcrl "$T/r" rogue "$T/rogue.crl"
mkcrl "$O" ca "$T/samename.crl" "$O/server-cert.pem"
mkcrl "$P" ca "$T/fresh.crl"
is "$(openssl x509 -in "$P/server-cert.pem" -noout -serial)" \
    "$(openssl x509 -in "$O/server-cert.pem" -noout -serial)" \
    "(our server and the same-name PKI's server share serial 02)"

# What openssl makes of them, against our CA.
openssl verify -crl_check -CRLfile "$T/old.crl" -CAfile "$P/ca-cert.pem" \
    "$P/server-cert.pem" >"$T/v.out" 2>&1
is "$? $(grep -o 'error [0-9]* at 0 depth lookup: CRL has expired' "$T/v.out")" \
    "2 error 12 at 0 depth lookup: CRL has expired" \
    "openssl verify: the old CRL has expired (error 12)"
openssl crl -in "$T/rogue.crl" -CAfile "$P/ca-cert.pem" -noout >"$T/c.out" 2>&1
like "$(cat "$T/c.out")" '^Error getting CRL issuer certificate' \
    "openssl crl: rogue.crl has no issuer among our CAs"
openssl crl -in "$T/samename.crl" -CAfile "$P/ca-cert.pem" -noout \
    >"$T/c.out" 2>&1
like "$(cat "$T/c.out")" '^verify failure' \
    "openssl crl: samename.crl names our CA but does not verify"
openssl crl -in "$T/fresh.crl" -CAfile "$P/ca-cert.pem" -noout >"$T/c.out" 2>&1
like "$(cat "$T/c.out")" '^verify OK$' "openssl crl: fresh.crl verifies"

osrv_start "$T/os-crl.log" -naccept 20 -rev -Verify 1 -verify_return_error \
    -cert "$P/server-cert.pem" -key "$P/server-key.pem" \
    -CAfile "$P/ca-cert.pem"
# shellcheck disable=SC2086
{
echo abc | $S --crl "$T/fresh.crl" "localhost:$PORT" >"$T/out"
is "$? $(cat "$T/out")" "0 cba" "a fresh CRL that lists nothing: exit 0, data flows"
fails_with 4 "^mtls-send: 127\.0\.0\.1:$PORT: revocation data too old: a CRL expired 2020-02-01T00:00:00Z\$" \
    "an expired CRL: exit 4, one line naming the expiry" \
    $S --crl "$T/old.crl" "localhost:$PORT"
fails_with 4 "revocation data too old: a CRL expired 2020-02-01T00:00:00Z\$" \
    "an expired CRL beside a fresh one: still exit 4" \
    $S --crl "$T/fresh.crl" --crl "$T/old.crl" "localhost:$PORT"
fails_with 2 "^mtls-send: $T/rogue\.crl: CRL not signed by a trusted CA\$" \
    "a CRL from an untrusted CA: exit 2, naming the file" \
    $S --crl "$T/rogue.crl" "localhost:$PORT"
fails_with 2 "^mtls-send: $T/samename\.crl: CRL not signed by a trusted CA\$" \
    "a CRL from a same-name CA with another key: exit 2, not 'revoked'" \
    $S --crl "$T/samename.crl" "localhost:$PORT"
fails_with 2 "^mtls-send: $T/samename\.crl: CRL not signed by a trusted CA\$" \
    "the same, after a good CRL: exit 2" \
    $S --crl "$T/fresh.crl" --crl "$T/samename.crl" "localhost:$PORT"
}
kill "$SPID" 2>/dev/null
await "$SPID"
# shellcheck disable=SC2086
fails_with 2 "^mtls-serve: time=[^ ]+ event=fatal level=error reason=\"$T/samename\.crl: CRL not signed by a trusted CA\" exit=2\$" \
    "mtls-serve: a CRL from a same-name CA: exit 2" \
    "$BIN/mtls-serve" -l 127.0.0.1:0 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem" --crl "$T/samename.crl"

# OCSP: a good response, and the same made stale (next update two days
# ago, signed again by the CA).
ocsp_response "$P" "$P/server-cert.pem" good "$T/good.ocsp"
python3 "$TOP/t/ocsp-backdate.py" "$T/good.ocsp" "$P/ca-key.pem" \
    "$T/stale.ocsp" 2
ocheck() {
	openssl ocsp -respin "$1" -CAfile "$P/ca-cert.pem" \
	    -issuer "$P/ca-cert.pem" -cert "$P/server-cert.pem" 2>&1
}
like "$(ocheck "$T/good.ocsp")" 'server-cert\.pem: good' \
    "openssl ocsp: the good response is good and current"
unlike "$(ocheck "$T/good.ocsp")" 'Status times invalid' \
    "openssl ocsp: its times are valid"
like "$(ocheck "$T/stale.ocsp")" 'Response verify OK' \
    "openssl ocsp: the stale response is signed by our CA"
like "$(ocheck "$T/stale.ocsp")" 'Status times invalid' \
    "openssl ocsp: and its times are invalid (status expired)"

osrv_start "$T/os-stale.log" -naccept 20 -rev -status_file "$T/stale.ocsp" \
    -Verify 1 -cert "$P/server-cert.pem" -key "$P/server-key.pem" \
    -CAfile "$P/ca-cert.pem"
# shellcheck disable=SC2086
{
fails_with 4 "^mtls-send: 127\.0\.0\.1:$PORT: server certificate rejected: revocation data too old" \
    "--require-ocsp with a stale stapled response: exit 4, too old" \
    $S --require-ocsp "localhost:$PORT"
# A stapled response is checked whenever one comes: stale is no better
# than none, even without --require-ocsp.
fails_with 4 "^mtls-send: 127\.0\.0\.1:$PORT: server certificate rejected: revocation data too old" \
    "a stale stapled response without --require-ocsp: exit 4 too" \
    $S "localhost:$PORT"
}
openssl s_client -status -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$P/ca-cert.pem" -cert "$P/client-cert.pem" \
    -key "$P/client-key.pem" </dev/null >"$T/sc.out" 2>&1
like "$(cat "$T/sc.out")" 'OCSP Response Status: successful' \
    "(s_server does staple it: s_client -status sees the response)"
kill "$SPID" 2>/dev/null
await "$SPID"

osrv_start "$T/os-good.log" -naccept 20 -rev -status_file "$T/good.ocsp" \
    -Verify 1 -cert "$P/server-cert.pem" -key "$P/server-key.pem" \
    -CAfile "$P/ca-cert.pem"
# shellcheck disable=SC2086
echo xyz | $S --require-ocsp "localhost:$PORT" >"$T/out"
is "$? $(cat "$T/out")" "0 zyx" "the same server with a good response: exit 0"
kill "$SPID" 2>/dev/null
await "$SPID"

# A response for our server (serial 02, our CA's name) signed by the
# same-name CA: openssl does not verify it against our CA, a client
# refuses it stapled, and mtls-serve must not start with it.  One signed
# by a responder our CA delegated to (OCSPSigning) is good.  (timeout:
# a server that wrongly starts must fail the test, not hang it.)
openssl ocsp -issuer "$O/ca-cert.pem" -cert "$P/server-cert.pem" -no_nonce \
    -reqout "$T/foreign.req" >/dev/null 2>&1
openssl ocsp -index "$T/good.ocsp.index" -rsigner "$O/ca-cert.pem" \
    -rkey "$O/ca-key.pem" -CA "$O/ca-cert.pem" -reqin "$T/foreign.req" \
    -respout "$T/foreign.ocsp" -ndays 1 >/dev/null 2>&1
like "$(ocheck "$T/foreign.ocsp")" 'Response Verify Failure' \
    "openssl ocsp: the same-name CA's response does not verify against our CA"
mkcert "$T/resp" responder "$P" ca 'cn = "ocsp responder"
ocsp_signing_key
signing_key
expiration_days = 5'
openssl ocsp -index "$T/good.ocsp.index" \
    -rsigner "$T/resp/responder-cert.pem" -rkey "$T/resp/responder-key.pem" \
    -CA "$P/ca-cert.pem" -reqin "$T/good.ocsp.req" -respout "$T/deleg.ocsp" \
    -ndays 1 >/dev/null 2>&1
like "$(ocheck "$T/deleg.ocsp")" 'Response verify OK' \
    "openssl ocsp: the delegated responder's response verifies"
osrv_start "$T/os-foreign.log" -naccept 20 -rev \
    -status_file "$T/foreign.ocsp" -Verify 1 -cert "$P/server-cert.pem" \
    -key "$P/server-key.pem" -CAfile "$P/ca-cert.pem"
# shellcheck disable=SC2086
fails_with 4 "^mtls-send: 127\.0\.0\.1:$PORT: server certificate rejected: invalid OCSP status" \
    "a stapled response from the same-name CA: mtls-send exit 4" \
    $S "localhost:$PORT"
kill "$SPID" 2>/dev/null
await "$SPID"
fails_with 2 "^mtls-serve: time=[^ ]+ event=fatal level=error reason=\"$T/foreign\.ocsp: OCSP response not usable \(not signed by the issuer of our certificate\)\" exit=2\$" \
    "mtls-serve --ocsp-response from the same-name CA: exit 2, naming the file" \
    timeout 10 "$BIN/mtls-serve" -l 127.0.0.1:0 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem" --ocsp-response "$T/foreign.ocsp"
cat "$P/ca-cert.pem" "$O/ca-cert.pem" >"$T/both-cas.pem"
fails_with 2 "^mtls-serve: time=[^ ]+ event=fatal level=error reason=\"$T/foreign\.ocsp: OCSP response not usable \(not signed by the issuer of our certificate\)\" exit=2\$" \
    "the same, with both same-name CAs in -C: exit 2" \
    timeout 10 "$BIN/mtls-serve" -l 127.0.0.1:0 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$T/both-cas.pem" --ocsp-response "$T/foreign.ocsp"
serve_start "$T/serve-deleg.log" -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem" --ocsp-response "$T/deleg.ocsp"
is "$(grep -vc 'event=' "$T/serve-deleg.log")" 0 \
    "mtls-serve takes a delegated responder's response, without a warning"
# shellcheck disable=SC2086
echo deleg | $S --require-ocsp "localhost:$PORT" >"$T/out"
like "$? $(cat "$T/out")" '^0 .* deleg$' \
    "and mtls-send --require-ocsp accepts it stapled"
cp "$T/foreign.ocsp" "$T/deleg.ocsp"
kill -HUP "$SPID"
ok "SIGHUP with the same-name CA's response: reload-failed" \
    waitfor 10 has_log "$T/serve-deleg.log" \
    "event=reload-failed .*reason=\"$T/deleg\\.ocsp: OCSP response not usable \\(not signed by the issuer"
serve_stop "$SPID"

# A server certificate whose issuer (an intermediate) is in neither its
# chain file nor -C: the signature cannot be checked; a warning says so
# and the server starts.  With the intermediate in the chain file it is
# checked, silently.
mkchain "$T/ch"
lser=$(openssl x509 -in "$T/ch/leaf-cert.pem" -noout -serial | cut -d= -f2)
printf 'V\t%s\t\t%s\tunknown\t/CN=x\n' \
    "$(date -u -d '+1 year' +%y%m%d%H%M%SZ)" "$lser" >"$T/ch/index"
openssl ocsp -issuer "$T/ch/int-cert.pem" -cert "$T/ch/leaf-cert.pem" \
    -no_nonce -reqout "$T/ch/req" >/dev/null 2>&1
openssl ocsp -index "$T/ch/index" -rsigner "$T/ch/int-cert.pem" \
    -rkey "$T/ch/int-key.pem" -CA "$T/ch/int-cert.pem" -reqin "$T/ch/req" \
    -respout "$T/ch/leaf.ocsp" -ndays 1 >/dev/null 2>&1
serve_start "$T/serve-nochain.log" -c "$T/ch/leaf-cert.pem" \
    -k "$T/ch/leaf-key.pem" -C "$P/ca-cert.pem" \
    --ocsp-response "$T/ch/leaf.ocsp"
is "$(grep 'level=warning' "$T/serve-nochain.log" | sed 's/.*reason=//')" \
    "\"$T/ch/leaf.ocsp: cannot check who signed this OCSP response: the issuer of our certificate is neither in its chain nor a trusted CA\"" \
    "the leaf's issuer nowhere at hand: one warning, naming the file"
serve_stop "$SPID"
cat "$T/ch/leaf-cert.pem" "$T/ch/int-cert.pem" >"$T/ch/chain.pem"
serve_start "$T/serve-chain.log" -c "$T/ch/chain.pem" \
    -k "$T/ch/leaf-key.pem" -C "$P/ca-cert.pem" \
    --ocsp-response "$T/ch/leaf.ocsp"
is "$(grep -vc 'event=' "$T/serve-chain.log")" 0 \
    "with the intermediate in the chain file: checked, no warning"
serve_stop "$SPID"

# mtls-serve: a stale response keeps it from starting.
fails_with 2 "^mtls-serve: time=[^ ]+ event=fatal level=error reason=\"$T/stale\.ocsp: OCSP response not usable .*expired.*\" exit=2\$" \
    "mtls-serve --ocsp-response STALE: exit 2, naming the file" \
    "$BIN/mtls-serve" -l 127.0.0.1:0 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem" --ocsp-response "$T/stale.ocsp"
# ... and is not taken at SIGHUP: the good one stays.
cp "$T/good.ocsp" "$T/live.ocsp"
serve_start "$T/serve-ocsp.log" -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem" --ocsp-response "$T/live.ocsp"
cp "$T/stale.ocsp" "$T/live.ocsp"
kill -HUP "$SPID"
ok "SIGHUP with a stale response: reload-failed, naming the file" \
    waitfor 10 has_log "$T/serve-ocsp.log" \
    "event=reload-failed .*reason=\"$T/live\\.ocsp: OCSP response not usable"
# shellcheck disable=SC2086
echo still | $S --require-ocsp "localhost:$PORT" >"$T/out"
like "$? $(cat "$T/out")" '^0 .* still$' \
    "and the good response is still stapled (--require-ocsp passes)"
serve_stop "$SPID"
is "$?" 0 "SIGTERM: exit 0"

done_testing
