# shellcheck shell=bash
# t/lib.sh - shared setup for the shell TAP tests; source it first.
#
# Gives: TAP output (ok, is, like, fails_with, done_testing), a temporary
# directory $T removed at exit, throwaway PKIs (mkpki, mkcert), servers
# started on free ports and waited for by their "listening" line
# (serve_start), and an EXIT trap that ends exactly the PIDs we started.

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MTLS_BIN:-$TOP/build}
T=$(mktemp -d "${TMPDIR:-/tmp}/mtls-t.XXXXXX")
_tap_n=0
_tap_fail=0
_pids=""

_cleanup() {
	for p in $_pids; do
		kill "$p" 2>/dev/null
	done
	for p in $_pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap _cleanup EXIT

# track PID: end it at exit if the test has not.
track() {
	_pids="$_pids $1"
}

_tap() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_fail=$((_tap_fail + 1))
	fi
}

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# ok DESC CMD...: passes when CMD succeeds.
ok() {
	_d=$1
	shift
	"$@"
	_tap $? "$_d"
}

# is GOT EXPECTED DESC
is() {
	if [ "$1" = "$2" ]; then
		_tap 0 "$3"
	else
		_tap 1 "$3"
		diag "got:      '$1'" "expected: '$2'"
	fi
}

# like GOT ERE DESC
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_tap 0 "$3"
	else
		_tap 1 "$3"
		diag "got:      '$1'" "expected to match: /$2/"
	fi
}

# unlike GOT ERE DESC
unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_tap 1 "$3"
		diag "got:      '$1'" "expected not to match: /$2/"
	else
		_tap 0 "$3"
	fi
}

# fails_with STATUS ERE DESC CMD...: CMD must exit with STATUS and print
# exactly one line on stderr, matching ERE.  A signal or 127 is never a pass.
fails_with() {
	_st=$1 _re=$2 _d=$3
	shift 3
	"$@" >"$T/fw.out" 2>"$T/fw.err" </dev/null
	_got=$?
	_msg=$(cat "$T/fw.err")
	if [ "$_got" = "$_st" ] && [ "$(wc -l <"$T/fw.err")" = 1 ] &&
	    printf '%s\n' "$_msg" | grep -Eq -- "$_re"; then
		_tap 0 "$_d"
	else
		_tap 1 "$_d"
		diag "exit $_got (expected $_st)" "stderr: $_msg" \
		    "expected one line matching /$_re/"
	fi
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_fail" = 0 ]
}

# waitfor SECONDS CMD...: run CMD until it succeeds, at most SECONDS.
# For conditions with no readiness signal of their own (a log line that
# a child writes after the client has gone, a reaped child).
waitfor() {
	_limit=$(($1 * 50))
	shift
	_i=0
	while ! "$@"; do
		_i=$((_i + 1))
		[ "$_i" -ge "$_limit" ] && return 1
		sleep 0.02
	done
	return 0
}

# count_log FILE ERE: how many lines of FILE match.
count_log() {
	_c=$(grep -Ec -- "$2" "$1" 2>/dev/null)
	echo "${_c:-0}"
}

# has_log FILE ERE [N]: FILE has at least N (1) lines matching.
has_log() {
	[ "$(count_log "$1" "$2")" -ge "${3:-1}" ]
}

# mkpki DIR [ecdsa|rsa4096]: a fresh demo PKI (CA, server, client).
mkpki() {
	FORCE=1 "$TOP/certs/mkpki" "$1" "${2:-ecdsa}" 2>/dev/null ||
	    { echo "Bail out! mkpki $1 failed"; exit 1; }
}

# keyopts KEYTYPE: certtool's options for a key of that type.
keyopts() {
	case ${1:-ecdsa} in
	rsa*) echo "--key-type=rsa --bits=${2:-2048}" ;;
	*) echo "--key-type=ecdsa --curve=secp256r1" ;;
	esac
}

# mkca DIR NAME: a self-signed CA, DIR/NAME-cert.pem and DIR/NAME-key.pem.
mkca() {
	mkdir -p "$1"
	# shellcheck disable=SC2046
	certtool --generate-privkey $(keyopts) --no-text \
	    --outfile "$1/$2-key.pem" 2>/dev/null
	printf 'cn = "%s"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 30\n' \
	    "$2" >"$1/$2.tmpl"
	certtool --generate-self-signed --template "$1/$2.tmpl" \
	    --load-privkey "$1/$2-key.pem" --outfile "$1/$2-cert.pem" \
	    2>/dev/null || { echo "Bail out! mkca $2 failed"; exit 1; }
}

# mkcert DIR NAME CADIR CANAME TEMPLATE [KEYTYPE]: a certificate from the
# template text, signed by CADIR/CANAME; DIR/NAME-cert.pem, DIR/NAME-key.pem.
mkcert() {
	mkdir -p "$1"
	# shellcheck disable=SC2046
	certtool --generate-privkey $(keyopts "${6:-ecdsa}") --no-text \
	    --outfile "$1/$2-key.pem" 2>/dev/null
	printf '%s\n' "$5" >"$1/$2.tmpl"
	certtool --generate-certificate --template "$1/$2.tmpl" \
	    --load-privkey "$1/$2-key.pem" \
	    --load-ca-certificate "$3/$4-cert.pem" \
	    --load-ca-privkey "$3/$4-key.pem" \
	    --outfile "$1/$2-cert.pem" 2>/dev/null ||
	    { echo "Bail out! mkcert $2 failed"; exit 1; }
}

# serve_start LOG ARGS...: start mtls-serve on 127.0.0.1, a free port, with
# ARGS; stderr goes to LOG.  Waits (bounded) for the "listening" line, then
# sets SPID and PORT.
serve_start() {
	_log=$1
	shift
	"$BIN/mtls-serve" -l 127.0.0.1:0 "$@" 2>"$_log" &
	SPID=$!
	track "$SPID"
	if ! waitfor 10 has_log "$_log" 'event=listening'; then
		echo "Bail out! mtls-serve did not start: $(cat "$_log")"
		exit 1
	fi
	PORT=$(sed -n 's/.*event=listening addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' \
	    "$_log" | head -n 1)
}

# serve_stop PID: SIGTERM, then the exit status (0 expected).
serve_stop() {
	kill -TERM "$1"
	wait "$1"
}

# zombies PID: how many children of PID are zombies.
zombies() {
	ps -o stat= --ppid "$1" 2>/dev/null | grep -c '^Z' || true
}

no_zombies() {
	[ "$(zombies "$1")" = 0 ]
}

# children PID: how many children PID has.
children() {
	ps -o pid= --ppid "$1" 2>/dev/null | grep -c . || true
}

# gcli DIR PORT [ARGS...]: gnutls-cli with DIR's CA and client pair.
gcli() {
	_dir=$1 _port=$2
	shift 2
	gnutls-cli --x509cafile "$_dir/ca-cert.pem" \
	    --x509certfile "$_dir/client-cert.pem" \
	    --x509keyfile "$_dir/client-key.pem" \
	    -p "$_port" localhost "$@"
}

# ossl_talk INFILE NLINES OUTFILE ARGS...: a conversation through
# openssl s_client: send INFILE, wait (bounded) until NLINES replies have
# arrived, then end input, so s_client closes with close_notify.  s_client
# closes at end of input without waiting for replies, hence the fifo.
ossl_talk() {
	_in=$1 _n=$2 _out=$3
	shift 3
	rm -f "$T/ossl.fifo"
	mkfifo "$T/ossl.fifo"
	openssl s_client -quiet -no_ign_eof "$@" <"$T/ossl.fifo" \
	    >"$_out" 2>"$T/ossl.err" &
	_op=$!
	track "$_op"
	exec 9>"$T/ossl.fifo"
	cat "$_in" >&9
	waitfor 10 _has_lines "$_out" "$_n"
	exec 9>&-
	wait "$_op"
}

_has_lines() {
	[ "$(wc -l <"$1")" -ge "$2" ]
}

# pyclient ARGS...: the asyncio client (Python's ssl, i.e. OpenSSL).
pyclient() {
	python3 "$TOP/t/tlsclient.py" "$@"
}

# free_port: a TCP port free on 127.0.0.1 right now, for peers (such as
# gnutls-serv) that cannot take port 0 and say which port they got.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# gserv_start LOG ARGS...: gnutls-serv on a free port with ARGS; waits for
# its "listening" line, sets SPID and PORT.
gserv_start() {
	_log=$1
	shift
	PORT=$(free_port)
	gnutls-serv -p "$PORT" "$@" >"$_log" 2>&1 &
	SPID=$!
	track "$SPID"
	waitfor 10 has_log "$_log" 'listening on IPv4.*done' ||
	    { echo "Bail out! gnutls-serv did not start: $(cat "$_log")"; exit 1; }
}

# osrv_start LOG ARGS...: openssl s_server on port 0 with ARGS; waits for
# its ACCEPT line, sets SPID and PORT.
osrv_start() {
	_log=$1
	shift
	# s_server reads its stdin and quits at its end: give it one that
	# never ends.
	[ -p "$T/osrv.in" ] || mkfifo "$T/osrv.in"
	exec 8<>"$T/osrv.in"
	openssl s_server -accept 0 "$@" <&8 >"$_log" 2>&1 &
	SPID=$!
	track "$SPID"
	waitfor 10 has_log "$_log" '^ACCEPT' ||
	    { echo "Bail out! s_server did not start: $(cat "$_log")"; exit 1; }
	PORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$_log" | head -n 1)
}

# send DIR ARGS...: mtls-send with DIR's CA and client pair.
send() {
	_dir=$1
	shift
	"$BIN/mtls-send" -C "$_dir/ca-cert.pem" -c "$_dir/client-cert.pem" \
	    -k "$_dir/client-key.pem" "$@"
}

# certinfo ARGS...: mtls-certinfo.
certinfo() {
	"$BIN/mtls-certinfo" "$@"
}

# jq_py JSONFILE EXPR: evaluate a Python expression over the parsed JSON
# document d (no jq needed), print the result.
jq_py() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (list, dict, bool)) or v is None else v)' "$1" "$2"
}

# mkchain DIR: root -> intermediate -> leaf (localhost, serverAuth), as
# DIR/root-*.pem, DIR/int-*.pem, DIR/leaf-*.pem.
mkchain() {
	mkca "$1" root
	mkcert "$1" int "$1" root 'cn = "mtls test intermediate"
ca
cert_signing_key
crl_signing_key
expiration_days = 20'
	mkcert "$1" leaf "$1" int 'cn = "localhost"
dns_name = "localhost"
tls_www_server
signing_key
expiration_days = 10'
}

# mkcrl CADIR CANAME OUT [CERT...]: a CRL from CADIR/CANAME revoking CERTs
# (none: an empty CRL), valid 30 days.
mkcrl() {
	_cad=$1 _can=$2 _out=$3
	shift 3
	printf 'crl_next_update = 30\ncrl_number = %s\n' "$(date +%s)" >"$_out.tmpl"
	if [ $# -gt 0 ]; then
		cat "$@" >"$_out.revoked"
		certtool --generate-crl --load-ca-privkey "$_cad/$_can-key.pem" \
		    --load-ca-certificate "$_cad/$_can-cert.pem" \
		    --load-certificate "$_out.revoked" --template "$_out.tmpl" \
		    --outfile "$_out" 2>/dev/null
	else
		certtool --generate-crl --load-ca-privkey "$_cad/$_can-key.pem" \
		    --load-ca-certificate "$_cad/$_can-cert.pem" \
		    --template "$_out.tmpl" --outfile "$_out" 2>/dev/null
	fi
}

# ocsp_response PKIDIR CERT STATUS OUT: a DER OCSP response from the PKI's
# CA for CERT, with STATUS good or revoked (openssl ocsp, index file).
ocsp_response() {
	_p=$1 _c=$2 _st=$3 _out=$4
	_ser=$(openssl x509 -in "$_c" -noout -serial | cut -d= -f2)
	_exp=$(date -u -d '+1 year' +%y%m%d%H%M%SZ)
	_rev=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
	if [ "$_st" = revoked ]; then
		printf 'R\t%s\t%s\t%s\tunknown\t/CN=x\n' "$_exp" "$_rev" "$_ser"
	else
		printf 'V\t%s\t\t%s\tunknown\t/CN=x\n' "$_exp" "$_ser"
	fi >"$_out.index"
	openssl ocsp -issuer "$_p/ca-cert.pem" -cert "$_c" -no_nonce \
	    -reqout "$_out.req" >/dev/null 2>&1
	openssl ocsp -index "$_out.index" -rsigner "$_p/ca-cert.pem" \
	    -rkey "$_p/ca-key.pem" -CA "$_p/ca-cert.pem" -reqin "$_out.req" \
	    -respout "$_out" -ndays 1 >/dev/null 2>&1
}
