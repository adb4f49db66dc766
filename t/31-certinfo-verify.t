#!/bin/bash
# mtls-certinfo -C: its verdicts agree with certtool --verify and openssl
# verify for a good chain, a rogue CA, an expired leaf, a revoked leaf with
# its CRL, an intermediate without CA:TRUE, and a wrong name.
. "$(dirname "$0")/lib.sh"

C=$T/c
mkchain "$C"
mkca "$C" rogue
mkcert "$C" expired "$C" int 'cn = "localhost"
dns_name = "localhost"
tls_www_server
signing_key
activation_date = "2020-01-01 00:00:00 UTC"
expiration_date = "2021-01-01 00:00:00 UTC"'
mkcert "$C" notca "$C" root 'cn = "not a CA"
signing_key
expiration_days = 20'
mkcert "$C" underling "$C" notca 'cn = "localhost"
dns_name = "localhost"
tls_www_server
signing_key
expiration_days = 10'
mkcert "$C" revoked "$C" int 'cn = "localhost"
dns_name = "localhost"
tls_www_server
signing_key
serial = 777
expiration_days = 10'
printf 'crl_next_update = 30\ncrl_number = 1\n' >"$C/crl.tmpl"
certtool --generate-crl --load-ca-privkey "$C/int-key.pem" \
    --load-ca-certificate "$C/int-cert.pem" \
    --load-certificate "$C/revoked-cert.pem" --template "$C/crl.tmpl" \
    --outfile "$C/int-crl.pem" 2>/dev/null
# A CRL from the rogue CA: not signed by anything trusted.
certtool --generate-crl --load-ca-privkey "$C/rogue-key.pem" \
    --load-ca-certificate "$C/rogue-cert.pem" --template "$C/crl.tmpl" \
    --outfile "$C/rogue-crl.pem" 2>/dev/null

# verdicts CASE LEAF INTERMEDIATE CAFILE EXPECT REASON-ERE [EXTRA...]:
# mtls-certinfo, certtool and openssl must all say EXPECT (ok or fail).
verdicts() {
	_case=$1 _leaf=$2 _int=$3 _ca=$4 _want=$5 _why=$6
	shift 6
	certinfo -C "$_ca" "$@" "$_leaf" "$_int" >"$T/ci.out" 2>&1
	_st=$?
	if [ "$_want" = ok ]; then
		is "$_st" 0 "$_case: mtls-certinfo exit 0"
		like "$(grep '^Verification' "$T/ci.out")" '^Verification: OK' \
		    "$_case: mtls-certinfo says OK"
	else
		is "$_st" 1 "$_case: mtls-certinfo exit 1"
		like "$(grep '^Verification' "$T/ci.out")" \
		    "^Verification: FAILED: .*$_why" \
		    "$_case: mtls-certinfo names the reason"
	fi
	cat "$_leaf" "$_int" >"$T/chain.pem"
	_copt="" _oopt=""
	case " $* " in
	*" -n "*) _copt="--verify-hostname localhost.invalid"
		  _oopt="-verify_hostname localhost.invalid" ;;
	esac
	case " $* " in *" --crl "*) _crl=$C/int-crl.pem ;; *) _crl= ;; esac
	# shellcheck disable=SC2086
	if [ -n "$_crl" ]; then
		openssl verify -CAfile "$_ca" -untrusted "$_int" -crl_check \
		    -CRLfile "$_crl" $_oopt "$_leaf" >/dev/null 2>&1
	else
		openssl verify -CAfile "$_ca" -untrusted "$_int" $_oopt \
		    "$_leaf" >/dev/null 2>&1
	fi
	_o=$?
	# shellcheck disable=SC2086
	if [ -n "$_crl" ]; then
		certtool --verify --load-ca-certificate "$_ca" \
		    --load-crl "$_crl" $_copt --infile "$T/chain.pem" \
		    >"$T/ct.out" 2>&1
	else
		certtool --verify --load-ca-certificate "$_ca" $_copt \
		    --infile "$T/chain.pem" >"$T/ct.out" 2>&1
	fi
	_c=$?
	if [ "$_want" = ok ]; then
		is "$_o/$_c" 0/0 "$_case: openssl verify and certtool agree: OK"
	else
		ok "$_case: openssl verify and certtool agree: fails ($_o/$_c)" \
		    test "$_o" != 0 -a "$_c" != 0
	fi
}

verdicts "good chain" "$C/leaf-cert.pem" "$C/int-cert.pem" \
    "$C/root-cert.pem" ok ''
verdicts "good chain, name and purpose" "$C/leaf-cert.pem" \
    "$C/int-cert.pem" "$C/root-cert.pem" ok '' --purpose server
verdicts "rogue CA" "$C/leaf-cert.pem" "$C/int-cert.pem" \
    "$C/rogue-cert.pem" fail 'unknown issuer'
verdicts "expired leaf" "$C/expired-cert.pem" "$C/int-cert.pem" \
    "$C/root-cert.pem" fail 'expired'
verdicts "revoked leaf" "$C/revoked-cert.pem" "$C/int-cert.pem" \
    "$C/root-cert.pem" fail 'revoked' --crl "$C/int-crl.pem"
verdicts "intermediate without CA:TRUE" "$C/underling-cert.pem" \
    "$C/notca-cert.pem" "$C/root-cert.pem" fail 'issuer is not a CA'
verdicts "wrong name" "$C/leaf-cert.pem" "$C/int-cert.pem" \
    "$C/root-cert.pem" fail 'name mismatch' -n localhost.invalid

# The same good chain with its CRL: not revoked, still OK.
certinfo -C "$C/root-cert.pem" --crl "$C/int-crl.pem" "$C/leaf-cert.pem" \
    "$C/int-cert.pem" >"$T/out"
is "$?" 0 "a CRL that does not list the leaf: OK"
# Purpose: a server certificate is not a client certificate.
certinfo -C "$C/root-cert.pem" --purpose client "$C/leaf-cert.pem" \
    "$C/int-cert.pem" >"$T/out"
is "$?" 1 "--purpose client on a server certificate: exit 1"
like "$(cat "$T/out")" 'FAILED: .*extended key usage' "and says why"
# A CRL nobody trusted signed is refused, not silently used.
fails_with 2 "rogue-crl.pem: CRL not signed by a trusted CA" \
    "a CRL from an untrusted CA: exit 2" \
    "$BIN/mtls-certinfo" -C "$C/root-cert.pem" --crl "$C/rogue-crl.pem" \
    "$C/leaf-cert.pem" "$C/int-cert.pem"
fails_with 2 "needs -C" "--crl without -C: exit 2" \
    "$BIN/mtls-certinfo" --crl "$C/int-crl.pem" "$C/leaf-cert.pem"
# --json says the same.
certinfo --json -C "$C/rogue-cert.pem" "$C/leaf-cert.pem" \
    "$C/int-cert.pem" >"$T/v.json"
is "$(jq_py "$T/v.json" 'd["verification"]["ok"]')" false \
    "--json: verification.ok is false for a rogue CA"

done_testing
