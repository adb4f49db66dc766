#!/bin/bash
# mtls-certinfo's chain diagnostics, each triggered by a chain made for it:
# reversed order, intermediate left out, root included, a key from another
# pair, an intermediate that expires before the leaf.
. "$(dirname "$0")/lib.sh"

C=$T/c
mkchain "$C"
mkcert "$C" longleaf "$C" int 'cn = "localhost"
dns_name = "localhost"
tls_www_server
signing_key
expiration_days = 300'

# problems ARGS...: the chain problem codes, space-separated.
problems() {
	certinfo --json "$@" >"$T/p.json"
	jq_py "$T/p.json" '" ".join(p["code"] for p in d["chain_problems"])'
}

is "$(problems "$C/leaf-cert.pem" "$C/int-cert.pem")" "" \
    "a good chain: no problems"
is "$(problems -C "$C/root-cert.pem" "$C/leaf-cert.pem" "$C/int-cert.pem")" "" \
    "a good chain with its root trusted: no problems"
is "$(problems "$C/int-cert.pem" "$C/leaf-cert.pem")" "out-of-order" \
    "reversed order: out-of-order"
like "$(certinfo "$C/int-cert.pem" "$C/leaf-cert.pem")" \
    'Chain: certificates out of order: #1 is issued by #0' \
    "reversed order: the text names the certificates"
is "$(problems -C "$C/root-cert.pem" "$C/leaf-cert.pem")" \
    "missing-intermediate" "intermediate left out: missing-intermediate"
like "$(certinfo -C "$C/root-cert.pem" "$C/leaf-cert.pem")" \
    'missing intermediate: .*issuer "CN=mtls test intermediate"' \
    "intermediate left out: the text names the missing issuer"
is "$(problems "$C/leaf-cert.pem" "$C/int-cert.pem" "$C/root-cert.pem")" \
    "root-included" "root included: root-included"
is "$(problems -k "$C/int-key.pem" "$C/leaf-cert.pem" "$C/int-cert.pem")" \
    "key-mismatch" "a key from another pair: key-mismatch"
is "$(problems -k "$C/leaf-key.pem" "$C/leaf-cert.pem" "$C/int-cert.pem")" \
    "" "the right key: no problem"
is "$(problems "$C/longleaf-cert.pem" "$C/int-cert.pem")" \
    "intermediate-expires-first" \
    "an intermediate that expires first: intermediate-expires-first"
# A bundle of CAs is not a chain.
cat "$C/root-cert.pem" "$C/int-cert.pem" >"$T/cas.pem"
is "$(problems "$T/cas.pem")" "" "a bundle of CAs: no chain problems"

done_testing
