#!/bin/bash
# mtls-certinfo: every field agrees with openssl x509, for the demo PKI in
# both key types, for certificates made by certtool and by openssl with
# many extensions, and for every certificate in the system CA bundle.
. "$(dirname "$0")/lib.sh"

xcheck() {
	python3 "$TOP/t/xcheck.py" "$BIN/mtls-certinfo" "$1" >"$T/x.out" 2>&1
	_st=$?
	[ $_st = 0 ] || diag "$(cat "$T/x.out")"
	return $_st
}

for keytype in ecdsa rsa4096; do
	P=$T/pki-$keytype
	mkpki "$P" "$keytype"
	for f in ca server client; do
		ok "$keytype $f: serial, SHA-256, dates, names, SANs, key size agree with openssl" \
		    xcheck "$P/$f-cert.pem"
	done
done
certinfo --json "$T/pki-rsa4096/server-cert.pem" >"$T/rsa.json"
is "$(jq_py "$T/rsa.json" 'd["certificates"][0]["public_key"]["bits"]')" 4096 \
    "RSA-4096 key size"
certinfo --json "$T/pki-ecdsa/server-cert.pem" >"$T/ec.json"
is "$(jq_py "$T/ec.json" 'd["certificates"][0]["public_key"]["curve"]')" \
    SECP256R1 "ECDSA curve"

# certtool, many extensions.
P=$T/pki-ecdsa
mkcert "$T" many "$P" ca 'cn = "many.example"
organization = "Example"
unit = "Unit"
country = "DE"
dns_name = "a.example"
dns_name = "b.example"
ip_address = "10.1.2.3"
ip_address = "2001:db8::1"
uri = "spiffe://example.org/ns/prod/sa/web"
tls_www_server
tls_www_client
signing_key
encryption_key
expiration_days = 40'
ok "certtool cert with many extensions agrees with openssl" \
    xcheck "$T/many-cert.pem"
certinfo --json "$T/many-cert.pem" >"$T/many.json"
is "$(jq_py "$T/many.json" 'd["certificates"][0]["san"]')" \
    '{"dns": ["a.example", "b.example"], "ip": ["10.1.2.3", "2001:db8::1"], "email": [], "uri": ["spiffe://example.org/ns/prod/sa/web"]}' \
    "certtool cert: every SAN type"
# In the certificate's own order, as openssl lists it.
eku=$(openssl x509 -in "$T/many-cert.pem" -noout -ext extendedKeyUsage |
    tail -n 1 | sed 's/^ *//; s/TLS Web Server Authentication/"serverAuth"/;
    s/TLS Web Client Authentication/"clientAuth"/')
is "$(jq_py "$T/many.json" 'd["certificates"][0]["extended_key_usage"]')" \
    "[$eku]" "certtool cert: EKU as openssl lists it"
days=$(jq_py "$T/many.json" 'd["certificates"][0]["days_left"]')
ok "certtool cert: 39 or 40 days left ($days)" test "$days" -ge 39 -a "$days" -le 40

# openssl, many extensions, P-384, a CA with a path length.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
    -keyout "$T/o-key.pem" -out "$T/o-cert.pem" -days 10 \
    -subj "/C=DE/O=Example/OU=Unit/CN=openssl.example" \
    -addext "subjectAltName=DNS:x.example,IP:192.0.2.7,email:a@example.org,URI:https://example.org/id" \
    -addext "keyUsage=critical,digitalSignature,keyCertSign" \
    -addext "extendedKeyUsage=serverAuth,codeSigning" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:2" 2>/dev/null
ok "openssl cert with many extensions agrees with openssl" \
    xcheck "$T/o-cert.pem"
certinfo --json "$T/o-cert.pem" >"$T/o.json"
c='d["certificates"][0]'
is "$(jq_py "$T/o.json" "${c}[\"key_usage\"]")" '["digitalSignature", "keyCertSign"]' \
    "openssl cert: key usage"
is "$(jq_py "$T/o.json" "${c}[\"extended_key_usage\"]")" '["serverAuth", "codeSigning"]' \
    "openssl cert: extended key usage"
is "$(jq_py "$T/o.json" "${c}[\"basic_constraints\"]")" '{"ca": true, "path_len": 2}' \
    "openssl cert: basic constraints with path length"
is "$(jq_py "$T/o.json" "${c}[\"public_key\"][\"bits\"]") $(jq_py "$T/o.json" "${c}[\"public_key\"][\"curve\"]")" \
    "384 SECP384R1" "openssl cert: P-384 key"
is "$(jq_py "$T/o.json" "${c}[\"self_signed\"]")" true "openssl cert: self-signed"
is "$(jq_py "$T/o.json" "${c}[\"sha1\"]")" \
    "$(openssl x509 -in "$T/o-cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f)" \
    "SHA-1 fingerprint agrees with openssl"
ski=$(openssl x509 -in "$T/o-cert.pem" -noout -ext subjectKeyIdentifier | tail -n 1 | tr -d ' :' | tr A-F a-f)
is "$(jq_py "$T/o.json" "${c}[\"subject_key_id\"]")" "$ski" \
    "subject key id agrees with openssl"
pin=$(openssl x509 -in "$T/o-cert.pem" -noout -pubkey |
    openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)
is "$(jq_py "$T/o.json" "${c}[\"spki_sha256\"][\"pin\"]")" "sha256//$pin" \
    "SPKI pin agrees with openssl's SHA-256 of the public key"
aki=$(openssl x509 -in "$T/many-cert.pem" -noout -ext authorityKeyIdentifier | sed -n 's/^ *\(keyid:\)\{0,1\}//p' | tail -n 1 | tr -d ' :' | tr A-F a-f)
is "$(jq_py "$T/many.json" 'd["certificates"][0]["authority_key_id"]')" "$aki" \
    "authority key id agrees with openssl"

# --pins: every form of the same pin.
certinfo --pins "$T/o-cert.pem" >"$T/pins.txt"
ok "--pins: curl form" grep -qF "sha256//$pin" "$T/pins.txt"
ok "--pins: HPKP form" grep -qF "pin-sha256=\"$pin\"" "$T/pins.txt"
hexpin=$(printf '%s' "$pin" | base64 -d | od -An -tx1 | tr -d ' \n')
ok "--pins: DANE form" grep -qF "3 1 1 $hexpin" "$T/pins.txt"

# The system CA bundle, every certificate.
bundle=/etc/ssl/certs/ca-certificates.crt
if [ -s "$bundle" ]; then
	ok "every certificate in $bundle agrees with openssl" xcheck "$bundle"
	diag "$(tail -n 1 "$T/x.out")"
else
	ok "no system CA bundle here: ca-certificates is not installed" false
fi

done_testing
