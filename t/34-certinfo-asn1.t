#!/bin/bash
# mtls-certinfo --asn1: offsets, depths, header lengths and lengths equal
# openssl asn1parse's, line for line, for every demo certificate of both
# key types and for a certificate with many extensions; OIDs and strings
# are decoded.
. "$(dirname "$0")/lib.sh"

# shape: "offset depth hl len cons|prim tag" per line, blanks squeezed.
shape() {
	sed -En 's/^ *([0-9]+):d=([0-9]+) +hl=([0-9]+) +l= *([0-9]+) (cons|prim): *([^:]*[^: ]).*/\1 \2 \3 \4 \5 \6/p'
}

asn1_agrees() {
	certinfo --asn1 "$1" | shape >"$T/ours"
	openssl asn1parse -i -in "$1" | shape >"$T/theirs"
	[ -s "$T/ours" ] && cmp -s "$T/ours" "$T/theirs" ||
	    { diff "$T/ours" "$T/theirs" | head -n 5 | sed 's/^/# /'; return 1; }
}

for keytype in ecdsa rsa4096; do
	P=$T/pki-$keytype
	mkpki "$P" "$keytype"
	for f in ca server client; do
		ok "$keytype $f: --asn1 structure equals openssl asn1parse" \
		    asn1_agrees "$P/$f-cert.pem"
	done
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/o-key.pem" -out "$T/o-cert.pem" -days 10 \
    -subj "/C=DE/O=Example/CN=asn1.example" \
    -addext "subjectAltName=DNS:x.example,IP:192.0.2.7,URI:spiffe://e/x" \
    -addext "extendedKeyUsage=serverAuth,clientAuth" 2>/dev/null
ok "openssl cert with extensions: --asn1 structure equals openssl asn1parse" \
    asn1_agrees "$T/o-cert.pem"

certinfo --asn1 "$T/o-cert.pem" >"$T/dump"
like "$(cat "$T/dump")" 'OBJECT +:commonName' "OIDs are named"
like "$(cat "$T/dump")" 'UTF8STRING +:asn1.example|PRINTABLESTRING +:asn1.example' \
    "strings are decoded"
like "$(cat "$T/dump")" 'OBJECT +:X509v3 Subject Alternative Name' \
    "extension OIDs are named"
like "$(cat "$T/dump")" 'UTCTIME +:[0-9]{12}Z' "times are shown"
like "$(cat "$T/dump")" 'BIT STRING +:0 unused bits:[0-9a-f]+' \
    "bit strings are shown with their unused bits"
fails_with 2 "cannot be used together" "--asn1 with --json: exit 2" \
    "$BIN/mtls-certinfo" --asn1 --json "$T/o-cert.pem"

done_testing
