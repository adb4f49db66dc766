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
_test=${0##*/}
_tap_n=0
_tap_fail=0
_pids=""
# What the test is waiting for right now, for the time-out message.
_waiting=""

# Sanitizer reports (a build with SANITIZE=1) must fail the test file,
# even from a server's connection process, whose stderr is only its log.
# AddressSanitizer writes them to files under $T/san, one per process;
# UBSan (GCC's ignores log_path) writes them to stderr, which the tests
# keep in files under $T.  Both abort, so a parent sees a signal: the
# server logs event=child-died, a command run by a test exits 134.  At the
# end, done_testing looks for all three.
ulimit -c 0
mkdir "$T/san"
# A connection process run as another user (-u nobody) must be able to
# write its report too.
chmod 711 "$T"
chmod 1777 "$T/san"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/san/asan:abort_on_error=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:abort_on_error=1"

# _san_reports: the files under $T that hold a sanitizer report or the
# log of a connection process that died.
_san_reports() {
	{
		find "$T/san" -type f
		grep -rlIE -- 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer|event=child-died' "$T"
	} 2>/dev/null | sort -u
}

_san_diag() {
	for _f in $(_san_reports); do
		echo "# sanitizer report or child-died in ${_f#"$T"/}:"
		grep -E -m 40 -A 30 -- 'runtime error:|Sanitizer|child-died' "$_f" |
		    head -n 40 | sed 's/^/#   /'
	done
}

# _gone PID: PID has ended (no such process, or a zombie not yet reaped).
_gone() {
	[ ! -e "/proc/$1/stat" ] ||
	    [ "$(sed 's/.*) \([A-Z]\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# _descendants PID [EXCLUDE...]: every descendant of PID, from one ps
# snapshot, leaving out the EXCLUDE processes and their descendants.
_descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" -v excl=" ${*:2} " '
	    { parent[$1] = $2 }
	    END {
		for (p in parent) {
			q = p
			while (q != root && q in parent &&
			    !index(excl, " " q " "))
				q = parent[q]
			if (q == root && p != root)
				print p
		}
	    }'
}

# strays: the processes this test started that are still running, but
# for the watchdog (and whoever asks: it runs in a subshell of its own).
strays() {
	_descendants "$_main" "$_watchdog" "$BASHPID"
}

# The time limit of a test file (MTLS_TEST_TIMEOUT seconds, 300 by
# default).  A watchdog process signals the test when it runs out; the
# test then reports, as a failing test, what it was running and waiting
# for, and its EXIT trap ends what it started.  The watchdog also ends
# the test's other descendants, so that a hung foreground command returns.
_tlimit=${MTLS_TEST_TIMEOUT:-300}
_main=$$
_on_timeout() {
	trap - TERM
	_tap 1 "$_test: time limit of $_tlimit s reached, running \`$1'${_waiting:+, waiting for $_waiting}"
	echo "1..$_tap_n"
	exit 1
}
trap '_on_timeout "$BASH_COMMAND"' TERM
(
	trap - EXIT TERM
	sleep "$_tlimit" &
	_sl=$!
	trap 'kill "$_sl" 2>/dev/null; exit 0' TERM
	wait "$_sl" || exit 0
	trap - TERM
	# Our own pid, taken here: inside $(...) BASHPID is the subshell's.
	_me=$BASHPID
	kill -TERM "$_main" 2>/dev/null
	for _p in $(_descendants "$_main" "$_me"); do
		kill -TERM "$_p" 2>/dev/null
	done
	sleep 5
	for _p in $(_descendants "$_main" "$_me"); do
		kill -KILL "$_p" 2>/dev/null
	done
) </dev/null >/dev/null 2>&1 &
_watchdog=$!

# _reap PID SECONDS: wait for PID at most SECONDS, then kill it.  Returns
# its exit status, or 124 if it had to be killed.
_reap() {
	if waitfor "$2" _gone "$1"; then
		wait "$1" 2>/dev/null
		return
	fi
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 124
}

_cleanup() {
	_st=$?
	trap - TERM
	for p in $_pids; do
		kill "$p" 2>/dev/null
	done
	for p in $_pids; do
		_reap "$p" 10
	done
	kill "$_watchdog" 2>/dev/null
	wait "$_watchdog" 2>/dev/null
	# A report written after done_testing (a leak found when a server
	# exits) still fails the file.
	if [ -n "$(_san_reports)" ] && [ "${_san_seen:-0}" = 0 ]; then
		echo "# $_test: sanitizer reports after the last test:"
		_san_diag
		_st=1
	fi
	rm -rf "$T"
	exit "$_st"
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

# _fatal MSG: the test cannot go on: one failing test saying why, the
# plan, and exit (the EXIT trap ends what the test started).  Unlike a
# "Bail out!" it leaves the other test files to run.
_fatal() {
	_tap 1 "$1"
	echo "1..$_tap_n"
	exit 1
}

# done_testing: the last check of every file (no sanitizer report from
# any process it started), then the plan.
done_testing() {
	if [ -z "$(_san_reports)" ]; then
		_tap 0 "no sanitizer report and no connection process died"
	else
		_tap 1 "no sanitizer report and no connection process died"
		_san_diag
		_san_seen=1
	fi
	echo "1..$_tap_n"
	[ "$_tap_fail" = 0 ]
}

# waitfor SECONDS CMD...: run CMD until it succeeds, at most SECONDS.
# For conditions with no readiness signal of their own (a log line that
# a child writes after the client has gone, a reaped child).
# SECONDS is raised to MTLS_WAIT_MIN (30) if lower: it bounds a wait for
# something that must happen, and a busy machine or a sanitizer build
# takes longer than an idle one; a passing test never waits it out.
waitfor() {
	_limit=$1
	[ "$_limit" -lt "${MTLS_WAIT_MIN:-30}" ] && _limit=${MTLS_WAIT_MIN:-30}
	_limit=$((_limit * 50))
	shift
	_i=0
	_waiting="$*"
	while ! "$@"; do
		_i=$((_i + 1))
		if [ "$_i" -ge "$_limit" ]; then
			_waiting=""
			return 1
		fi
		sleep 0.02
	done
	_waiting=""
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
	    { _fatal "mkpki $1 failed"; }
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
	    2>/dev/null || _fatal "mkca $2 failed"
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
	    _fatal "mkcert $2 failed"
}

# serve_start LOG ARGS...: start mtls-serve on 127.0.0.1, port 0, with
# ARGS; stderr goes to LOG, emptied before the server starts so that no
# line of an earlier server can be taken for this one's.  Waits (bounded)
# for this server's "listening" line (it names its pid), then sets SPID and
# PORT from it.
serve_start() {
	_log=$1
	shift
	: >"$_log"
	"$BIN/mtls-serve" -l 127.0.0.1:0 "$@" 2>"$_log" &
	SPID=$!
	track "$SPID"
	waitfor 30 _listening "$_log" "$SPID" ||
	    _fatal "mtls-serve did not start: $(cat "$_log")"
	PORT=$(sed -n "s/.*event=listening addr=127\.0\.0\.1:\([0-9]*\) pid=$SPID\( .*\)\{0,1\}\$/\1/p" \
	    "$_log" | head -n 1)
	[ -n "$PORT" ] || _fatal "mtls-serve: no port in: $(cat "$_log")"
}

# _listening LOG PID: LOG has PID's listening line, or PID has ended
# (then waiting longer is pointless: the caller sees no port).
_listening() {
	has_log "$1" "event=listening .*pid=$2( |\$)" || _gone "$2"
}

# serve_stop PID: SIGTERM, then PID's exit status (0 expected).  Waits at
# most 30 s; a server still running then is killed, status 124.
serve_stop() {
	kill -TERM "$1" 2>/dev/null
	_waiting="PID $1 to exit after SIGTERM"
	_reap "$1" 30
	_rc=$?
	_waiting=""
	[ "$_rc" = 124 ] && diag "PID $1 still ran 30 s after SIGTERM: killed"
	return "$_rc"
}

# await PID [SECONDS]: wait for a background command at most SECONDS (120);
# its exit status, or 124 (and a diagnostic) if it had to be killed.
await() {
	_waiting="PID $1 to end"
	_reap "$1" "${2:-120}"
	_rc=$?
	_waiting=""
	[ "$_rc" = 124 ] && diag "PID $1 still ran after ${2:-120} s: killed"
	return "$_rc"
}

# _ps_children PID: PID's children, one "pid stat" line each, from
# ps -e (which succeeds whenever ps works, unlike ps --ppid with no match).
# A failing ps prints "ps-failed", which no numeric test accepts.
# The key process (comm mtls-serve-key) is not a connection's: not counted.
_ps_children() {
	_out=$(ps -e -o ppid=,pid=,stat=,comm=) || { echo ps-failed; return 1; }
	printf '%s\n' "$_out" |
	    awk -v p="$1" '$1 == p && $4 != "mtls-serve-key" { print $2, $3 }'
}

# conn_pids PID: the pids of mtls-serve PID's connection processes (its
# children but the key process), one per line.
conn_pids() {
	_ps_children "$1" | awk '{ print $1 }'
}

# live_start DIR PORT [LINE]: a client that has finished its handshake and
# stays connected: mtls-send with DIR's client pair to localhost:PORT,
# reading a fifo this shell holds open on fd 7.  Sends LINE ("live") and
# waits (bounded) for its echo in $T/live.out; returns as waitfor does.
# Sets LPID.  live_stop ends its input and waits for it.
live_start() {
	rm -f "$T/live.in"
	mkfifo "$T/live.in"
	send "$1" "localhost:$2" <"$T/live.in" >"$T/live.out" \
	    2>"$T/live.err" &
	LPID=$!
	track "$LPID"
	exec 7>"$T/live.in"
	echo "${3:-live}" >&7
	waitfor 20 has_log "$T/live.out" " ${3:-live}\$"
}
live_stop() {
	exec 7>&-
	await "$LPID"
}

# key_pid LOG: the key process's pid, from the server's certificate line.
key_pid() {
	sed -n 's/.* event=certificate .* key_pid=\([0-9]*\).*/\1/p' "$1" |
	    tail -n 1
}

# zombies PID: how many children of PID are zombies.
zombies() {
	_c=$(_ps_children "$1") || { echo "$_c"; return 1; }
	printf '%s\n' "$_c" | awk '$2 ~ /^Z/ { n++ } END { print n + 0 }'
}

no_zombies() {
	[ "$(zombies "$1")" = 0 ]
}

# children PID: how many children PID has.
children() {
	_c=$(_ps_children "$1") || { echo "$_c"; return 1; }
	printf '%s\n' "$_c" | awk 'NF { n++ } END { print n + 0 }'
}

# children_are PID OP N: test(1) of PID's child count, counted anew at
# each call (so that waitfor can poll it): children_are "$SPID" = 0.
children_are() {
	test "$(children "$1")" "$2" "$3"
}

# listen_port PID: the TCP port PID listens on at 127.0.0.1 or 0.0.0.0,
# read from the kernel (/proc/net/tcp), for peers that bind port 0
# without saying which port they got.
listen_port() {
	_ino=$(for _f in /proc/"$1"/fd/*; do readlink "$_f"; done 2>/dev/null |
	    sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
	_hex=$(awk -v ino=" $_ino " '$4 == "0A" && index(ino, " " $10 " ") &&
	    ($2 ~ /^0100007F:/ || $2 ~ /^00000000:/) {
		split($2, a, ":"); print a[2]; exit }' /proc/net/tcp)
	[ -n "$_hex" ] && echo $((16#$_hex))
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
	await "$_op"
}

_has_lines() {
	[ "$(wc -l <"$1")" -ge "$2" ]
}

# pyclient ARGS...: the asyncio client (Python's ssl, i.e. OpenSSL).
pyclient() {
	python3 "$TOP/t/tlsclient.py" "$@"
}

# closed_port: a port on 127.0.0.1 where a connection is refused, held so
# (bound, never listening) by a process the test tracks, so nothing else
# can take it meanwhile.  Sets CLOSED_PORT.
# shellcheck disable=SC2034
closed_port() {
	rm -f "$T/closed.port"
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
sys.stdout.close()
time.sleep(3600)' >"$T/closed.port" &
	track $!
	waitfor 10 test -s "$T/closed.port" || _fatal "closed_port: no port"
	CLOSED_PORT=$(cat "$T/closed.port")
}

# gserv_start LOG ARGS...: gnutls-serv on port 0 with ARGS (which must
# include --x509cafile).  It binds every address, so it always requires
# and verifies a client certificate here.  Waits for its IPv4 "listening"
# line, reads its port from the kernel, sets SPID and PORT.
gserv_start() {
	_log=$1
	shift
	: >"$_log"
	gnutls-serv -p 0 --require-client-cert --verify-client-cert "$@" \
	    >"$_log" 2>&1 &
	SPID=$!
	track "$SPID"
	waitfor 30 has_log "$_log" 'listening on IPv4.*done' ||
	    _fatal "gnutls-serv did not start: $(cat "$_log")"
	PORT=$(listen_port "$SPID")
	[ -n "$PORT" ] || _fatal "gnutls-serv: no listening port found"
}

# osrv_start LOG ARGS...: openssl s_server on 127.0.0.1 port 0 with ARGS;
# waits for its ACCEPT line, sets SPID and PORT.
osrv_start() {
	_log=$1
	shift
	# s_server reads its stdin and quits at its end: give it one that
	# never ends.
	[ -p "$T/osrv.in" ] || mkfifo "$T/osrv.in"
	exec 8<>"$T/osrv.in"
	: >"$_log"
	openssl s_server -accept 127.0.0.1:0 "$@" <&8 >"$_log" 2>&1 &
	SPID=$!
	track "$SPID"
	waitfor 30 has_log "$_log" '^ACCEPT' ||
	    _fatal "s_server did not start: $(cat "$_log")"
	PORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$_log" | head -n 1)
	[ -n "$PORT" ] || _fatal "s_server: no port in: $(cat "$_log")"
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
