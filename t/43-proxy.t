#!/bin/bash
# Behind a load balancer: HAProxy (TCP mode) in front of mtls-serve
# instances with --proxy-protocol, sending PROXY v2 to some and v1 to
# another.  Clients bound to 127.0.0.7 and 127.0.0.8 are seen as such in
# the log and the program's environment; --max-per-ip counts them apart;
# one --ticket-key file lets a session made through one instance resume on
# the others, and SIGHUP rereads it; a connection without the header is
# refused.  Also --proxy-from, HAProxy's LOCAL health checks, malformed
# and unfinished headers, the option errors and --reuseport.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
SRV="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"
# The program prints what it was told about the connection, then echoes.
# shellcheck disable=SC2016
PROG='echo "env $TCPREMOTEIP $TCPREMOTEPORT $TCPLOCALIP $TCPLOCALPORT"; exec cat'

"$BIN/mtls-serve" --generate-ticket-key >"$T/tk" 2>"$T/gen.err"
is "$?" 0 "--generate-ticket-key: exit 0"
like "$(cat "$T/tk")" '^[0-9a-f]{128}$' "it prints 128 hex digits"
"$BIN/mtls-serve" --generate-ticket-key >"$T/tk.other"
is "$(cmp -s "$T/tk" "$T/tk.other" && echo same || echo differ)" differ \
    "two runs make two keys"
# An independent maker of the same format.
openssl rand -hex 64 >"$T/tk.ossl"
chmod 600 "$T/tk" "$T/tk.other" "$T/tk.ossl"

# Instances 1-3 share a ticket key, 4 has another, 5 takes headers only
# from balancers elsewhere.
start() {
	# shellcheck disable=SC2086
	serve_start "$T/s$1.log" $SRV -v --proxy-protocol "${@:2}" \
	    -- /bin/sh -c "$PROG"
	eval "SPID$1=\$SPID SPORT$1=\$PORT"
}
start 1 --ticket-key "$T/tk" --proxy-from 127.0.0.0/8
start 2 --ticket-key "$T/tk" --max-per-ip 1
start 3 --ticket-key "$T/tk"
start 4 --ticket-key "$T/tk.ossl"
start 5 --proxy-from 192.0.2.0/24 --proxy-from 2001:db8::/32

# One frontend per instance, so that each test knows who serves it.
cat >"$T/haproxy.in" <<EOF
global
	maxconn 200
defaults
	mode tcp
	timeout connect 10s
	timeout client 60s
	timeout server 60s
EOF
for i in 1 2 3 4 5; do
	sport=SPORT$i sport=${!sport}
	case $i in
	1) opts="send-proxy-v2 check inter 300ms" ;;
	3) opts="send-proxy" ;;
	*) opts="send-proxy-v2" ;;
	esac
	printf 'frontend f%s\n\tbind @FE%s@\n\tdefault_backend b%s\n' \
	    "$i" "$i" "$i" >>"$T/haproxy.in"
	printf 'backend b%s\n\tserver s%s 127.0.0.1:%s %s\n' \
	    "$i" "$i" "$sport" "$opts" >>"$T/haproxy.in"
done
python3 "$TOP/t/haproxy.py" "$T/haproxy.in" "$T/haproxy.cfg" "$T/hp.ports" 5 \
    >"$T/haproxy.log" 2>&1 &
HPID=$!
track "$HPID"
waitfor 30 test -s "$T/hp.ports" ||
    _fatal "haproxy: no ports: $(cat "$T/haproxy.log")"
mapfile -t FE <"$T/hp.ports"
F1=${FE[0]} F2=${FE[1]} F3=${FE[2]} F4=${FE[3]} F5=${FE[4]}

# The health check: a v2 LOCAL header, then the checker closes.
ok "HAProxy's health check (a LOCAL header) is logged as one" \
    waitfor 30 has_log "$T/s1.log" 'event=health-check peer=127\.0\.0\.1:'
is "$(count_log "$T/s1.log" 'event=refused')" 0 \
    "health checks are no refusals"

# client NAME SOURCE PORT: Python's ssl from SOURCE through PORT, one line
# in, expecting the program's line and the echo.
client() {
	echo "hello from $2" | timeout 60 python3 "$TOP/t/tlsclient.py" \
	    127.0.0.1 "$3" --source "$2" --ca "$P/ca-cert.pem" \
	    --cert "$P/client-cert.pem" --key "$P/client-key.pem" \
	    --expect-lines 2 >"$T/$1.out" 2>"$T/$1.err"
}

# v2, from 127.0.0.7.
client a 127.0.0.7 "$F1"
is "$?" 0 "a client from 127.0.0.7 through HAProxy (v2): served"
read -r _ rip rport lip lport <"$T/a.out"
is "$rip" 127.0.0.7 "the program's TCPREMOTEIP is the client's address"
is "$lip:$lport" "127.0.0.1:$F1" \
    "TCPLOCALIP:TCPLOCALPORT: where the client connected (the frontend)"
like "$rport" '^[0-9]+$' "TCPREMOTEPORT is a port"
ok "the log's peer= is the client, via= the balancer" \
    has_log "$T/s1.log" "event=accepted peer=127\.0\.0\.7:$rport proxy=v2 via=127\.0\.0\.1:[0-9]+\$"
like "$(sed -n 2p "$T/a.out")" '^hello from 127\.0\.0\.7$' "the echo came back"

# v1, from 127.0.0.8.
client b 127.0.0.8 "$F3"
is "$?" 0 "a client from 127.0.0.8 through HAProxy (v1): served"
read -r _ rip rport lip lport <"$T/b.out"
is "$rip $lip:$lport" "127.0.0.8 127.0.0.1:$F3" \
    "v1: the environment names the client and the frontend"
ok "v1: the log's peer= is the client" \
    has_log "$T/s3.log" "event=accepted peer=127\.0\.0\.8:$rport proxy=v1 via=127\.0\.0\.1:"

# --max-per-ip 1 behind the balancer: counted per client, not per balancer.
# Its input is a fifo, ended by closing our end.
mkfifo "$T/hold.in"
timeout 60 python3 "$TOP/t/tlsclient.py" 127.0.0.1 "$F2" --source 127.0.0.7 \
    --ca "$P/ca-cert.pem" --cert "$P/client-cert.pem" \
    --key "$P/client-key.pem" --expect-lines 2 <"$T/hold.in" \
    >"$T/hold.out" 2>"$T/hold.err" &
HOLD=$!
track "$HOLD"
exec 7>"$T/hold.in"
ok "a client from 127.0.0.7 holds a connection to instance 2" \
    waitfor 30 _has_lines "$T/hold.out" 1
client c 127.0.0.7 "$F2"
st=$?
is "$([ "$st" != 0 ] && echo failed)" failed \
    "a second client from 127.0.0.7 is refused (--max-per-ip 1)"
ok "the log says why, naming the client's address" \
    waitfor 10 has_log "$T/s2.log" 'event=refused peer=127\.0\.0\.7:[0-9]+ via=127\.0\.0\.1:[0-9]+ reason="too many connections from 127\.0\.0\.7 \(1\)"'
client d 127.0.0.8 "$F2"
is "$?" 0 "meanwhile a client from 127.0.0.8 is served by the same instance"
echo "bye" >&7
exec 7>&-
await "$HOLD"
is "$?" 0 "the held client ends well"
ok "127.0.0.7's connection is reaped" \
    waitfor 30 has_log "$T/s2.log" 'event=child-exit' 3
ok "once it is gone, 127.0.0.7 is served again" client e 127.0.0.7 "$F2"

# One ticket key: a session made through instance 1 resumes on 2 and 3.
# A resumed TLS 1.3 session brings no new ticket (see tlssess.h), and
# mtls-send then saves one that cannot resume: each try starts from a
# copy of the session a full handshake saved ($T/sess.full).
sess() {
	[ -n "${3:-}" ] && cp "$T/sess.full" "$T/sess"
	echo "$1" | send "$P" -v --session "$T/sess" "localhost:$2" \
	    >"$T/$1.out" 2>"$T/$1.err"
	_r=$?
	[ -z "${3:-}" ] && cp "$T/sess" "$T/sess.full"
	return "$_r"
}
rm -f "$T/sess"
sess first "$F1"
is "$?" 0 "mtls-send through instance 1: a full handshake, session saved"
sess second "$F2" again
is "$?" 0 "the same session through instance 2"
like "$(cat "$T/second.err")" 'session resumed' \
    "mtls-send says it resumed on instance 2"
ok "instance 2 logs the resumption, with the client's identity" \
    has_log "$T/s2.log" 'event=handshake .*resumed=yes client_subject="CN=mtls-client'
sess third "$F3" again
like "$(cat "$T/third.err")" 'session resumed' "and on instance 3 (PROXY v1)"
sess fourth "$F4" again
is "$?" 0 "instance 4, with another key, serves the client"
unlike "$(cat "$T/fourth.err")" 'session resumed' "but with a full handshake"
# Python's ssl (OpenSSL), TLS 1.2 and 1.3 tickets, across instances.
python3 "$TOP/t/resume.py" "$F3" "$P/ca-cert.pem" "$P/client-cert.pem" \
    "$P/client-key.pem" 1.2 --next-port "$F1" >"$T/py12.out" 2>&1
like "$(sed -n 2p "$T/py12.out")" '^1 resumed=yes reply=yes' \
    "OpenSSL, TLS 1.2: a ticket from instance 3 resumes on instance 1"
python3 "$TOP/t/resume.py" "$F2" "$P/ca-cert.pem" "$P/client-cert.pem" \
    "$P/client-key.pem" 1.3 --next-port "$F3" >"$T/py13.out" 2>&1
like "$(sed -n 2p "$T/py13.out")" '^1 resumed=yes reply=yes' \
    "OpenSSL, TLS 1.3: a ticket from instance 2 resumes on instance 3"
python3 "$TOP/t/resume.py" "$F2" "$P/ca-cert.pem" "$P/client-cert.pem" \
    "$P/client-key.pem" 1.3 --next-port "$F4" >"$T/py4.out" 2>&1
like "$(sed -n 2p "$T/py4.out")" '^1 resumed=no reply=yes' \
    "but not on instance 4, whose key differs"

# hup N: SIGHUP instance N, wait for its reload's log line.
hup() {
	_hp=SPID$1 _hp=${!_hp}
	_n=$(count_log "$T/s$1.log" "event=$2")
	kill -HUP "$_hp"
	waitfor 30 has_log "$T/s$1.log" "event=$2" $((_n + 1))
}
# SIGHUP rereads the key.  A new key on instance 2 only: the old session
# no longer resumes there (a full handshake, not a failure).
rm -f "$T/sess"
sess k1 "$F1"
"$BIN/mtls-serve" --generate-ticket-key >"$T/tk.new"
chmod 600 "$T/tk.new"
mv "$T/tk.new" "$T/tk"
ok "instance 2 reloads on SIGHUP" hup 2 reloaded
sess k2 "$F2" again
is "$?" 0 "a session from the old key on instance 2, after the reload: served"
unlike "$(cat "$T/k2.err")" 'session resumed' "with a full handshake"
sess k3 "$F3" again
like "$(cat "$T/k3.err")" 'session resumed' \
    "instance 3, not yet reloaded, still resumes it"
ok "instance 1 reloads" hup 1 reloaded
ok "instance 3 reloads" hup 3 reloaded
rm -f "$T/sess"
sess k4 "$F1"
sess k5 "$F2" again
like "$(cat "$T/k5.err")" 'session resumed' \
    "once all have the new key, sessions resume across them again"
# A reload that cannot read the key keeps the old set.
echo garbage >"$T/tk"
ok "a bad key file on SIGHUP: reload-failed" hup 3 reload-failed
ok "the log names the file and the reason" has_log "$T/s3.log" \
    "event=reload-failed .*reason=\"$T/tk: not a ticket key \\(want 128 hex digits"
sess k6 "$F3" again
like "$(cat "$T/k6.err")" 'session resumed' \
    "and the instance goes on with the key it had"

# Straight to an instance, without the header: refused.
echo x | send "$P" "localhost:$SPORT1" >/dev/null 2>"$T/direct.err"
st=$?
is "$([ "$st" != 0 ] && [ "$st" -lt 128 ] && echo failed)" failed \
    "a TLS client straight to an instance fails"
ok "the instance logs a refusal: no header" \
    waitfor 10 has_log "$T/s1.log" 'event=refused peer=127\.0\.0\.1:[0-9]+ reason="no PROXY protocol header \(first byte 0x16: a TLS handshake\)"'
# A malformed v1 header; a v2 header of version 3.
printf 'PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n' >"$T/bad1"
printf '\r\n\r\n\0\r\nQUIT\n\x31\x11\0\x0c123456789012' >"$T/bad2"
for f in bad1 bad2; do
	timeout 30 python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read())
s.recv(100)' "$SPORT3" "$T/$f"
done
ok "a v1 header with too few fields is refused, saying so" \
    waitfor 10 has_log "$T/s3.log" 'event=refused peer=127\.0\.0\.1:[0-9]+ reason="PROXY v1 header: too few fields \(want 6\)"'
ok "a v2 header of version 3 is refused, saying so" \
    waitfor 10 has_log "$T/s3.log" 'event=refused .*reason="PROXY v2 header: version 3"'
# A header that never ends: the handshake deadline covers it.
# shellcheck disable=SC2086
serve_start "$T/s6.log" $SRV --proxy-protocol --handshake-timeout 1
timeout 30 python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"PROXY TCP4 ")
s.recv(100)' "$PORT"
ok "a header unfinished at the handshake deadline: refused, saying so" \
    waitfor 10 has_log "$T/s6.log" 'event=refused .*reason="no PROXY protocol header in time \(11 bytes of it\)"'
serve_stop "$SPID"
is "$?" 0 "that instance stops cleanly"

# --proxy-from: HAProxy on 127.0.0.1 is not one of instance 5's balancers.
client f 127.0.0.7 "$F5"
st=$?
is "$([ "$st" != 0 ] && echo failed)" failed \
    "a balancer not in --proxy-from: the client fails"
ok "the instance logs it" \
    waitfor 10 has_log "$T/s5.log" 'event=refused peer=127\.0\.0\.1:[0-9]+ reason="not a --proxy-from address"'

# Option errors: one line each, exit 2.
# shellcheck disable=SC2086
fails_with 2 '^mtls-serve: --proxy-from needs --proxy-protocol$' \
    "--proxy-from without --proxy-protocol" \
    "$BIN/mtls-serve" $SRV --proxy-from 127.0.0.1
# shellcheck disable=SC2086
fails_with 2 '^mtls-serve: --proxy-from "10\.0\.0\.0/33": not an address or address/prefix$' \
    "--proxy-from with a bad prefix" \
    "$BIN/mtls-serve" $SRV --proxy-protocol --proxy-from 10.0.0.0/33
# shellcheck disable=SC2086
fails_with 2 "reason=\"$T/tk: not a ticket key \\(want 128 hex digits" \
    "--ticket-key with a file that is not one" \
    "$BIN/mtls-serve" $SRV -l 127.0.0.1:0 --ticket-key "$T/tk"
# shellcheck disable=SC2086
fails_with 2 "reason=\"$T/nonexistent: No such file or directory\"" \
    "--ticket-key with a missing file" \
    "$BIN/mtls-serve" $SRV -l 127.0.0.1:0 --ticket-key "$T/nonexistent"
cp "$T/tk.other" "$T/tk.open"
chmod 644 "$T/tk.open"
# shellcheck disable=SC2086
fails_with 2 "reason=\"$T/tk\\.open: ticket key is readable by others \\(mode 0644\\)\"" \
    "--strict: a ticket key others can read is fatal" \
    "$BIN/mtls-serve" $SRV --strict -l 127.0.0.1:0 --ticket-key "$T/tk.open"
# shellcheck disable=SC2086
serve_start "$T/s7.log" $SRV --ticket-key "$T/tk.open"
ok "without --strict, a warning naming the file and the fix" \
    has_log "$T/s7.log" "$T/tk\\.open: ticket key is readable by others \\(mode 0644\\); chmod 600 it"
serve_stop "$SPID"

# --reuseport: two instances on one port.
# shellcheck disable=SC2086
serve_start "$T/r1.log" $SRV --reuseport
R1=$SPID RPORT=$PORT
# shellcheck disable=SC2086
"$BIN/mtls-serve" $SRV -l "127.0.0.1:$RPORT" --reuseport 2>"$T/r2.log" &
R2=$!
track "$R2"
ok "a second instance with --reuseport binds the same port" \
    waitfor 30 has_log "$T/r2.log" "event=listening addr=127\.0\.0\.1:$RPORT pid=$R2"
# shellcheck disable=SC2086
fails_with 1 "reason=\"cannot listen on 127\.0\.0\.1:$RPORT: Address already in use\"" \
    "without --reuseport the port is taken" \
    "$BIN/mtls-serve" $SRV -l "127.0.0.1:$RPORT"
serve_stop "$R2"
is "$?" 0 "the second --reuseport instance stops cleanly"
serve_stop "$R1"
is "$?" 0 "the first too"

kill "$HPID"
await "$HPID"
for i in 1 2 3 4 5; do
	pid=SPID$i pid=${!pid}
	serve_stop "$pid"
	is "$?" 0 "instance $i stops cleanly (exit 0 after SIGTERM)"
done

done_testing
