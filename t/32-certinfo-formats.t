#!/bin/bash
# mtls-certinfo reads the same chain as PEM, DER, PKCS#7 and PKCS#12 (from
# openssl and from certtool) and says the same about it; a wrong PKCS#12
# password is a clear error; --json parses; --expires-within sets the exit
# status.
. "$(dirname "$0")/lib.sh"

C=$T/c
mkchain "$C"
cat "$C/leaf-cert.pem" "$C/int-cert.pem" >"$T/chain.pem"
# Text around the blocks is ignored, as in a bundle with comments.
{ echo "# my chain"; cat "$C/leaf-cert.pem"; echo "between"; cat "$C/int-cert.pem"; echo "end"; } >"$T/noisy.pem"
openssl x509 -in "$C/leaf-cert.pem" -outform DER -out "$T/leaf.der"
openssl x509 -in "$C/int-cert.pem" -outform DER -out "$T/int.der"
cat "$T/leaf.der" "$T/int.der" >"$T/chain.der"
openssl crl2pkcs7 -nocrl -certfile "$T/chain.pem" -outform DER -out "$T/chain.p7b"
openssl crl2pkcs7 -nocrl -certfile "$T/chain.pem" -out "$T/chain.p7c.pem"
printf 'secret pass\n' >"$T/pass"
openssl pkcs12 -export -in "$C/leaf-cert.pem" -inkey "$C/leaf-key.pem" \
    -certfile "$C/int-cert.pem" -passout 'pass:secret pass' \
    -out "$T/ossl.p12" 2>/dev/null
certtool --to-p12 --load-certificate "$T/chain.pem" \
    --load-privkey "$C/leaf-key.pem" --p12-name leaf \
    --password 'secret pass' --outder --outfile "$T/gnutls.p12" 2>/dev/null

# facts FILE: the facts that matter, one line per certificate, from JSON.
facts() {
	certinfo --json "$@" >"$T/f.json" || return 1
	jq_py "$T/f.json" '"\n".join(c["sha256"] + " " + c["subject"] + " " + c["serial"] + " " + c["not_after"] for c in d["certificates"])'
}

want=$(facts "$T/chain.pem")
is "$(echo "$want" | wc -l)" 2 "PEM chain: two certificates"
is "$(facts "$T/noisy.pem")" "$want" "PEM with text around: same facts"
is "$(facts "$T/chain.der")" "$want" "DER (two concatenated): same facts"
is "$(facts "$T/leaf.der" "$T/int.der")" "$want" "two DER files: same facts"
is "$(facts "$T/chain.p7b")" "$want" "PKCS#7 DER (openssl crl2pkcs7): same facts"
is "$(facts "$T/chain.p7c.pem")" "$want" "PKCS#7 PEM: same facts"
p12=$(MTLS_PASSWORD='secret pass' facts "$T/ossl.p12" | sort)
is "$p12" "$(echo "$want" | sort)" \
    "PKCS#12 from openssl, password from the environment: same facts"
p12=$(facts --password-file "$T/pass" "$T/gnutls.p12" | sort)
is "$p12" "$(echo "$want" | sort)" \
    "PKCS#12 from certtool, password from a file: same facts"
is "$(facts - <"$T/chain.pem")" "$want" "standard input: same facts"
is "$(facts <"$T/chain.der")" "$want" "no FILE reads standard input"
cp "$T/chain.p7b" "$T/misleading.pem"
is "$(facts "$T/misleading.pem")" "$want" \
    "format comes from the content, not the name"

printf 'wrong\n' >"$T/wrong"
fails_with 2 "ossl.p12: PKCS#12 password is wrong" \
    "wrong PKCS#12 password: exit 2" \
    "$BIN/mtls-certinfo" --password-file "$T/wrong" "$T/ossl.p12"
fails_with 2 "ossl.p12: PKCS#12 password is wrong \(none given" \
    "no PKCS#12 password: exit 2, says how to give one" \
    env -u MTLS_PASSWORD "$BIN/mtls-certinfo" "$T/ossl.p12"

# JSON parses for every input above, as a whole document.
parses() {
	python3 -m json.tool "$1" >/dev/null
}
for f in chain.pem noisy.pem chain.der chain.p7b; do
	certinfo --json "$T/$f" >"$T/j.json"
	ok "--json output of $f parses" parses "$T/j.json"
done

# --expires-within: the leaf has 10 days, the intermediate 20.
certinfo --expires-within 5 "$T/chain.pem" >/dev/null
is "$?" 0 "--expires-within 5: nothing expires, exit 0"
certinfo --expires-within 15 "$T/chain.pem" >"$T/exp.out"
is "$?" 1 "--expires-within 15: the leaf does, exit 1"
like "$(cat "$T/exp.out")" 'Expiry: 1 certificate expires within 15 days' \
    "and it says how many"
certinfo --json --expires-within 30 "$T/chain.pem" >"$T/exp.json"
is "$?" 1 "--expires-within 30 --json: exit 1"
is "$(jq_py "$T/exp.json" 'd["expiry"]')" '{"within_days": 30, "expiring": 2}' \
    "--json: expiry counts both"
mkcert "$T" old "$C" int 'cn = "old"
activation_date = "2020-01-01 00:00:00 UTC"
expiration_date = "2021-01-01 00:00:00 UTC"'
like "$(certinfo "$T/old-cert.pem")" 'Not after: +2021-01-01T00:00:00Z \(EXPIRED [0-9]+ days ago\)' \
    "an expired certificate says EXPIRED n days ago"
certinfo --expires-within 0 "$T/old-cert.pem" >/dev/null
is "$?" 1 "--expires-within 0: an expired certificate counts"

done_testing
