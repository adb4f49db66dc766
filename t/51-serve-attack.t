#!/bin/bash
# mtls-serve as an attacker meets it (issue 13): stalled handshakes
# (--max-startups, --handshake-timeout, -t 0, keepalive, the alert for -m,
# --max-per-ip by /64), resumption re-checking the client, SHA-1 and
# malformed handshake messages, hostile certificate fields in the exec
# environment, two CNs, socket activation and accept errors, inetd with
# the log on the connection, the server's secrets, intermediate CRLs.
# Every load is bounded in count and time, on loopback.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
S="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"
good() {
	echo "good $1" | send "$P" -t 10 "localhost:$PORT" >"$T/good.out" \
	    2>"$T/good.err" && grep -q " good $1\$" "$T/good.out"
}
# hold NAME: an authenticated client that stays connected until unhold.
hold() {
	rm -f "$T/$1.fifo"
	mkfifo "$T/$1.fifo"
	send "$P" -t 60 "localhost:$PORT" <"$T/$1.fifo" >"$T/$1.out" 2>&1 &
	HPID=$!
	track "$HPID"
	exec 6>"$T/$1.fifo"
}
unhold() {
	exec 6>&-
	await "$HPID" 30
}
# client NAME SUBJECT [EXT]: a client certificate made by openssl (any
# subject, any serial via SERIAL), signed by the test CA.
client() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$T/$1-key.pem" 2>/dev/null
	chmod 600 "$T/$1-key.pem"
	openssl req -new -key "$T/$1-key.pem" -subj "$2" -out "$T/$1.csr" \
	    2>/dev/null
	printf 'extendedKeyUsage=clientAuth\n%s\n' "${3:-}" >"$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$P/ca-cert.pem" \
	    -CAkey "$P/ca-key.pem" -set_serial "${SERIAL:-0x1234}" -days 2 \
	    -extfile "$T/$1.ext" -out "$T/$1-cert.pem" 2>/dev/null ||
	    { echo "Bail out! client $1 failed"; exit 1; }
}
# as NAME ARGS...: mtls-send with that client's pair, no input.
as() {
	_n=$1
	shift
	"$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$T/$_n-cert.pem" \
	    -k "$T/$_n-key.pem" "$@" </dev/null
}
printf '#!/bin/sh\nenv\n' >"$T/env.sh"
chmod 755 "$T/env.sh"

## 1. Pre-authentication limits.

# 200 stalled handshakes against the defaults.
# shellcheck disable=SC2086
serve_start "$T/stall.log" $S -q
mkfifo "$T/stall.fifo"
python3 "$TOP/t/hostile.py" stall "$PORT" 200 30 >"$T/stall.fifo" &
hp=$!
track $hp
exec 7<"$T/stall.fifo"
read -r -t 30 line <&7
is "$line" ready "200 connections sent part of a ClientHello and stalled"
ok "with the defaults, a good client is served meanwhile" good stall
n=$(children "$SPID")
ok "at most --max-startups (32) stalled handshakes hold a process ($n)" \
    test "$n" -le 32
ok "the oldest handshakes were dropped to make room, and logged" \
    has_log "$T/stall.log" 'event=dropped peer=127\.0\.0\.1:[0-9]+ reason="max-startups \(32\): a handshake of the busiest source dropped for 127\.0\.0\.1:[0-9]+"' 168
kill $hp
exec 7<&-
await $hp 30
serve_stop "$SPID"
is "$?" 0 "SIGTERM: exit 0"

# Stallers that reconnect from one source evict each other, not a slow
# handshake from elsewhere: one partial ClientHello from 127.0.0.2 first
# (the oldest), then 40 from 127.0.0.1 against --max-startups 8.  Dropping
# the oldest of all would drop 127.0.0.2's at once.
# shellcheck disable=SC2086
serve_start "$T/src.log" $S --max-startups 8
python3 - "$PORT" >"$T/src.out" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
hello = bytes.fromhex("16030100c8010000c40303")
slow = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
slow.sendall(hello)
time.sleep(0.2)
stallers = []
for _ in range(40):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(hello)
    stallers.append(s)
    time.sleep(0.02)
time.sleep(0.5)
slow.setblocking(False)
try:
    gone = slow.recv(1) == b""
except BlockingIOError:
    gone = False
except OSError:
    gone = True
print("slow=" + ("dropped" if gone else "open"), flush=True)
for s in stallers + [slow]:
    s.close()
PY
sp=$!
track $sp
await $sp 60
is "$(cat "$T/src.out")" "slow=open" \
    "40 stallers from one source: the older handshake from another is kept"
ok "the stallers evicted each other (32 dropped, all from 127.0.0.1)" \
    has_log "$T/src.log" 'event=dropped peer=127\.0\.0\.1:' 32
is "$(count_log "$T/src.log" 'event=dropped peer=127\.0\.0\.2:')" 0 \
    "none from 127.0.0.2 was dropped"
serve_stop "$SPID"

# -t 3600 -m 2: two idle TCP connections no longer lock everyone out.
# shellcheck disable=SC2086
serve_start "$T/idle.log" $S -t 3600 -m 2
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
waitfor 5 has_log "$T/idle.log" 'event=accepted' 2
ok "-m 2 with two idle connections: a good client is served" good idle
ok "the oldest idle one was dropped for it" \
    has_log "$T/idle.log" 'event=dropped .*reason="max-startups \(2\)'
exec 4<&- 5<&-
serve_stop "$SPID"

# A handshake deadline of its own; -t 0 means no idle limit; keepalive.
# shellcheck disable=SC2086
serve_start "$T/hs.log" $S -t 0 --handshake-timeout 1
ok "-t 0 is accepted" has_log "$T/hs.log" 'event=listening'
hold idle
ok "an authenticated client is connected" \
    waitfor 10 has_log "$T/hs.log" 'event=handshake'
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
ok "--handshake-timeout 1: a silent connection is refused as timed out" \
    waitfor 10 has_log "$T/hs.log" 'event=refused .*reason="timed out"'
ok "while the authenticated one, idle as long, is still open (-t 0)" \
    test "$(count_log "$T/hs.log" 'event=closed')" = 0
like "$(ss -tnoH state established "( sport = :$PORT )")" \
    'timer:\(keepalive,' "the server's connection has TCP keepalive on"
exec 4<&-

# -m refusals get a TLS alert, not a bare reset.
kill -TERM "$SPID"
await "$SPID" 30
unhold
# shellcheck disable=SC2086
serve_start "$T/full.log" $S -m 1
hold full
waitfor 10 has_log "$T/full.log" 'event=handshake'
gcli "$P" "$PORT" </dev/null >"$T/full.gcli" 2>&1
like "$(cat "$T/full.gcli")" 'Received alert \[80\]' \
    "-m 1 full: gnutls-cli gets an internal_error alert"
ok "and the log says why" \
    has_log "$T/full.log" 'event=refused .*reason="too many connections \(1\)"'
unhold
serve_stop "$SPID"

# shellcheck disable=SC2086
fails_with 2 '--max-startups 20 exceeds --max-conns 10' \
    "--max-startups above -m: exit 2" "$BIN/mtls-serve" $S -m 10 \
    --max-startups 20
# shellcheck disable=SC2086
fails_with 2 '--handshake-timeout: "0" is not a number from 1' \
    "--handshake-timeout 0: exit 2" "$BIN/mtls-serve" $S \
    --handshake-timeout 0

# --max-per-ip counts IPv6 clients by /64: in a network namespace of our
# own, with several addresses on lo.
unshare -n sleep 120 &
nsp=$!
track $nsp
waitfor 5 test "$(readlink "/proc/$nsp/ns/net")" != "$(readlink /proc/self/ns/net)"
ns() {
	nsenter -t "$nsp" -n "$@"
}
ns ip link set lo up
for a in fd00:13::1 fd00:13::2 fd00:13::3 fd00:13:0:1::9; do
	ns ip -6 addr add "$a/128" dev lo nodad
done
# shellcheck disable=SC2086
nsenter -t "$nsp" -n "$BIN/mtls-serve" -l '[fd00:13::1]:0' $S \
    --max-per-ip 1 -t 10 2>"$T/v6.log" &
v6=$!
track $v6
waitfor 10 has_log "$T/v6.log" 'event=listening'
v6port=$(sed -n 's/.*event=listening addr=\[fd00:13::1\]:\([0-9]*\).*/\1/p' "$T/v6.log")
nsenter -t "$nsp" -n python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET6)
s.bind((sys.argv[1], 0))
s.connect((sys.argv[2], int(sys.argv[3])))
time.sleep(20)' fd00:13::2 fd00:13::1 "$v6port" &
holder=$!
track $holder
waitfor 10 has_log "$T/v6.log" 'event=accepted peer=\[fd00:13::2\]'
v6client() {
	echo "from $1" | ns python3 "$TOP/t/tlsclient.py" fd00:13::1 "$v6port" \
	    --source "$1" --ca "$P/ca-cert.pem" --cert "$P/client-cert.pem" \
	    --key "$P/client-key.pem" --expect-lines 1 --timeout 10
}
v6client fd00:13::3 >"$T/v6same.out" 2>&1
like "$(cat "$T/v6same.out")" 'tlsclient.py: ' \
    "--max-per-ip 1: fd00:13::3 is refused while fd00:13::2 (same /64) is connected"
ok "the log names the /64" has_log "$T/v6.log" \
    'reason="too many connections from fd00:13::/64 \(1\)"'
v6client fd00:13:0:1::9 >"$T/v6other.out" 2>&1
like "$(cat "$T/v6other.out")" '^.*\[fd00:13:0:1::9\]:[0-9]+ from fd00:13:0:1::9$' \
    "a client from another /64 is served"
kill $holder
kill -TERM $v6
await $v6 30
is "$?" 0 "the namespaced server stops with exit 0"
kill $nsp

## 2. Resumption re-checks the client.

# A client certificate that expires in a few seconds: resumed after that,
# in TLS 1.3 and 1.2, it is refused as expired.
# The server starts first, and the margin is 8 s, so that a busy machine
# still makes the first handshake in time.
# shellcheck disable=SC2086
serve_start "$T/res.log" $S
certtool --generate-privkey --key-type=ecdsa --outfile "$T/short-key.pem" \
    2>/dev/null
end=$(($(date +%s) + 8))
printf 'cn = "short"\ntls_www_client\nsigning_key\nexpiration_date = "%s UTC"\n' \
    "$(date -u -d "@$end" '+%Y-%m-%d %H:%M:%S')" >"$T/short.tmpl"
certtool --generate-certificate --template "$T/short.tmpl" \
    --load-privkey "$T/short-key.pem" --load-ca-certificate "$P/ca-cert.pem" \
    --load-ca-privkey "$P/ca-key.pem" --outfile "$T/short-cert.pem" 2>/dev/null
rps=""
for v in 1.3 1.2; do
	python3 "$TOP/t/resume.py" "$PORT" "$P/ca-cert.pem" \
	    "$T/short-cert.pem" "$T/short-key.pem" "$v" --at $((end + 1)) \
	    >"$T/res$v.out" 2>&1 &
	track $!
	rps="$rps $!"
done
for r in $rps; do
	await "$r" 60
done
for v in 1.3 1.2; do
	like "$(head -n 1 "$T/res$v.out")" '^0 resumed=no reply=yes' \
	    "TLS $v: served while the certificate is valid"
	like "$(sed -n 2p "$T/res$v.out")" '^1 error=SSLV3_ALERT_CERTIFICATE_EXPIRED' \
	    "TLS $v: resumed after it expired, refused with certificate_expired"
done
ok "the log says why, twice" has_log "$T/res.log" \
    'event=refused .*reason="resumed session: certificate verification failed: expired"' 2

# Resumption with a valid certificate works; a ticket issued on a resumed
# TLS 1.3 session lives only as long as the first one has left, so a chain
# of resumptions ends with the first ticket's lifetime.  The resumption
# is 8 s after the start, so that even a slow first handshake leaves
# whole seconds between the two tickets.
python3 "$TOP/t/resume.py" "$PORT" "$P/ca-cert.pem" "$P/client-cert.pem" \
    "$P/client-key.pem" 1.3 --at $(($(date +%s) + 8)) >"$T/chain.out" 2>&1
h0=$(sed -n 's/^0 .* hint=//p' "$T/chain.out")
h1=$(sed -n 's/^1 resumed=yes reply=yes hint=//p' "$T/chain.out")
like "$h0" '^[0-9]+$' "TLS 1.3: a ticket after the full handshake ($h0 s)"
ok "resumed seconds later: the new ticket has less time ($h1 s)" \
    test "${h1:-999999}" -lt "$h0"
serve_stop "$SPID"

# SIGHUP makes a new ticket key: a CRL loaded then cannot be sidestepped
# by resuming an older session.
mkcrl "$P" ca "$T/hup.crl"
# shellcheck disable=SC2086
serve_start "$T/rescrl.log" $S --crl "$T/hup.crl"
python3 "$TOP/t/resume.py" "$PORT" "$P/ca-cert.pem" "$P/client-cert.pem" \
    "$P/client-key.pem" 1.3 --wait-for "$T/hup.done" >"$T/rescrl.out" 2>&1 &
rp=$!
track $rp
waitfor 10 has_log "$T/rescrl.log" 'event=closed'
mkcrl "$P" ca "$T/hup.crl" "$P/client-cert.pem"
kill -HUP "$SPID"
waitfor 10 has_log "$T/rescrl.log" 'event=reloaded'
touch "$T/hup.done"
await $rp 60
ok "a CRL loaded after the first handshake refuses the second" \
    waitfor 10 has_log "$T/rescrl.log" 'conn=2 event=refused .*reason="certificate verification failed: revoked"'
unlike "$(sed -n 2p "$T/rescrl.out")" 'resumed=yes' "it was not resumed"
serve_stop "$SPID"

## 3. What the server offers and answers.
# shellcheck disable=SC2086
serve_start "$T/sha1.log" $S
for v in 1_2 1_3; do
	openssl s_client -connect "127.0.0.1:$PORT" "-tls$v" \
	    -CAfile "$P/ca-cert.pem" </dev/null >"$T/req$v.out" 2>&1
	like "$(grep '^Requested Signature Algorithms' "$T/req$v.out")" \
	    'ECDSA\+SHA256' "TLS ${v/_/.} CertificateRequest: SHA-256 offered"
	unlike "$(grep '^Requested Signature Algorithms' "$T/req$v.out")" \
	    'SHA1' "TLS ${v/_/.} CertificateRequest: no SHA-1"
done
for opt in -sigalgs -client_sigalgs; do
	echo hi | openssl s_client -quiet -connect "127.0.0.1:$PORT" -tls1_2 \
	    "$opt" ECDSA+SHA1 -cipher 'DEFAULT:@SECLEVEL=0' \
	    -CAfile "$P/ca-cert.pem" -cert "$P/client-cert.pem" \
	    -key "$P/client-key.pem" >"$T/sha1.out" 2>&1
	unlike "$(cat "$T/sha1.out")" ' hi$' \
	    "openssl s_client -tls1_2 $opt ECDSA+SHA1: not served"
done
ok "nobody was admitted" \
    test "$(count_log "$T/sha1.log" 'event=handshake')" = 0
for m in cert-empty cert-truncated verify-empty verify-truncated; do
	is "$(python3 "$TOP/t/rawtls12.py" "$PORT" "$m" "$P/client-cert.pem")" \
	    alert=50 "a malformed client message ($m): decode_error"
done
is "$(python3 "$TOP/t/rawtls12.py" "$PORT" cert-none)" alert=40 \
    "a well-formed Certificate with no certificate: handshake_failure (TLS 1.2)"
serve_stop "$SPID"

## 7. Hostile certificate fields stay inert; 6. one identity.

# A 64-byte serial number (RFC 5280 allows 20).
big=7f$(printf '%0126d' 0 | tr 0 a)
SERIAL=0x$big client bigserial "/CN=bigserial"
want=$(openssl x509 -in "$T/bigserial-cert.pem" -noout -serial |
    tr -d '\\\n' | cut -d= -f2)
is "${#want}" 128 "the test certificate has a 64-byte serial"
# A CN that, read line by line, forges a variable.
client forge "/CN=alice
SSL_CLIENT_VERIFY=FORGED"
# 120 DNS names.
sans=$(seq 1 120 | sed 's/.*/DNS:n&.example/' | paste -sd, -)
client many "/CN=many" "subjectAltName=$sans"
# Two CNs.
client twocn "/CN=admin/CN=guest" "subjectAltName=DNS:two.example"

# shellcheck disable=SC2086
serve_start "$T/env.log" $S --allow 'cn:bigserial' --allow 'cn:alice*' \
    --allow 'dns:*.example' -- "$T/env.sh"
as bigserial "localhost:$PORT" >"$T/bigserial.env" 2>&1
is "$(sed -n 's/^SSL_CLIENT_M_SERIAL=//p' "$T/bigserial.env")" "$want" \
    "a 64-byte serial reaches the program whole (as openssl prints it)"
as forge "localhost:$PORT" >"$T/forge.env" 2>&1
ok "a CN with a newline forges no variable" \
    test "$(grep -c '^SSL_CLIENT_VERIFY=' "$T/forge.env")" = 1
is "$(sed -n 's/^SSL_CLIENT_VERIFY=//p' "$T/forge.env")" SUCCESS \
    "SSL_CLIENT_VERIFY is ours"
is "$(sed -n 's/^SSL_CLIENT_S_DN_CN=//p' "$T/forge.env")" \
    'alice\0ASSL_CLIENT_VERIFY=FORGED' "the newline is exported as \\0A"
as many "localhost:$PORT" >"$T/many.env" 2>&1
sha=$(openssl x509 -in "$T/many-cert.pem" -noout -fingerprint -sha256 |
    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
is "$(sed -n 's/^SSL_CLIENT_CERT_SHA256=//p' "$T/many.env")" "$sha" \
    "120 DNS names: the certificate digest is still exported"
ok "and the SPKI pin" grep -q '^SSL_CLIENT_SPKI_SHA256=' "$T/many.env"
is "$(sed -n 's/^MTLS_ALLOW_RULE=//p' "$T/many.env")" 'dns:*.example' \
    "and the rule that matched"
is "$(sed -n 's/^SSL_CLIENT_SAN_DNS_COUNT=//p' "$T/many.env")" 120 \
    "SSL_CLIENT_SAN_DNS_COUNT says 120"
is "$(sed -n 's/^SSL_CLIENT_SAN_DNS_15=//p' "$T/many.env")" n16.example \
    "the first 16 names are exported"
ok "not more" test "$(grep -c '^SSL_CLIENT_SAN_DNS_16=' "$T/many.env")" = 0
as twocn "localhost:$PORT" >"$T/twocn.env" 2>&1
is "$(sed -n 's/^MTLS_ALLOW_RULE=//p' "$T/twocn.env")" 'dns:*.example' \
    "two CNs: admitted by the dns: rule, not a cn: one"
ok "and the program is told no CN" \
    test "$(grep -c '^SSL_CLIENT_S_DN_CN=' "$T/twocn.env")" = 0
serve_stop "$SPID"

# A subject too long for its buffer would reach the program cut short,
# and a cut DN can read as another: the program is not started.
ous=""
for i in $(seq 1 30); do
	ous="$ous/OU=unit-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
done
client longdn "/O=TrustedCorpEvil$ous/CN=mallory"
ok "openssl made a subject of more than 1023 bytes" \
    test "$(openssl x509 -in "$T/longdn-cert.pem" -noout -subject -nameopt RFC2253 | wc -c)" -gt 1100
# shellcheck disable=SC2086
serve_start "$T/longdn.log" $S -- "$T/env.sh"
as longdn "localhost:$PORT" >"$T/longdn.env" 2>&1
ok "a DN that does not fit: the program never runs" \
    test "$(grep -c '^SSL_CLIENT_S_DN=' "$T/longdn.env")" = 0
ok "the log says why" waitfor 10 has_log "$T/longdn.log" \
    'event=error .*reason="environment: 1 variables did not fit"'
serve_stop "$SPID"

# shellcheck disable=SC2086
serve_start "$T/cn.log" $S --allow 'cn:admin'
as twocn "localhost:$PORT" >"$T/twocn.out" 2>&1
is "$?" 3 "--allow cn:admin refuses CN=guest+CN=admin (exit 3)"
ok "the log says why" has_log "$T/cn.log" \
    'event=refused .*reason="not allowed \(the subject has 2 CNs; cn: rules need exactly one\)"'
serve_stop "$SPID"

## 9. Socket activation and accept errors.
# shellcheck disable=SC2086
fails_with 2 'LISTEN_FDS: fd 3 is not a listening socket' \
    "a LISTEN_FDS socket that does not listen: exit 2" \
    timeout 10 python3 -c 'import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execv(sys.argv[1], sys.argv[1:])' "$BIN/mtls-serve" $S

# EMFILE: accepting pauses, doubling.  The server is started with its
# descriptor limit at the lowest one it leaves free once listening, so
# accept() has none left.
# shellcheck disable=SC2086
serve_start "$T/fds.log" $S
free=0
while [ -e "/proc/$SPID/fd/$free" ]; do
	free=$((free + 1))
done
serve_stop "$SPID"
# shellcheck disable=SC2086
bash -c 'ulimit -n "$1" && shift && exec "$@"' sh "$free" \
    "$BIN/mtls-serve" -l 127.0.0.1:0 $S 2>"$T/emfile.log" &
SPID=$!
track $SPID
waitfor 10 has_log "$T/emfile.log" 'event=listening'
PORT=$(sed -n 's/.*event=listening addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' \
    "$T/emfile.log")
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
ok "EMFILE: the accept error is logged with a pause" waitfor 10 has_log \
    "$T/emfile.log" 'event=accept-failed .*reason="Too many open files" retry_ms=100'
ok "then a longer one" waitfor 10 has_log "$T/emfile.log" 'retry_ms=200'
n=$(count_log "$T/emfile.log" 'event=accept-failed')
ok "no busy loop: $n lines" test "$n" -le 5
exec 4<&-
serve_stop "$SPID"
is "$?" 0 "SIGTERM meanwhile: exit 0"

## 4. inetd: descriptors 0, 1 and 2 are all the connection.
# shellcheck disable=SC2016
printf 'echo "prog $TCPREMOTEIP"\necho "to stderr" >&2\ncat\n' >"$T/prog.sh"
# shellcheck disable=SC2086
python3 -c 'import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
for fd in (0, 1, 2):
    os.dup2(c.fileno(), fd)
os.execv(sys.argv[1], sys.argv[1:])' "$BIN/mtls-serve" -i $S -- sh "$T/prog.sh" \
    >"$T/inetd.port" &
ip=$!
track $ip
waitfor 10 test -s "$T/inetd.port"
echo line | send "$P" -t 10 "localhost:$(cat "$T/inetd.port")" \
    >"$T/inetd.out" 2>"$T/inetd.err"
is "$?" 0 "-i with stderr on the connection: the handshake succeeds"
is "$(cat "$T/inetd.out")" "prog 127.0.0.1
line" "only the program's output reaches the client (no log, no stderr)"
await $ip 30
is "$?" 0 "mtls-serve -i exits 0"

## 5. The exec program and the server's secrets.
if [ "$(id -u)" = 0 ]; then
	# Files nobody may read: all but the server key in $U; a key of its
	# own for a server started as nobody (systemd's User=).
	U=$T/pub
	mkdir -m 755 "$U"
	chmod 711 "$T"
	cp "$P/ca-cert.pem" "$P/server-cert.pem" "$U/"
	chmod 644 "$U"/*.pem
	cp "$P/server-key.pem" "$U/nobody-key.pem"
	chown nobody "$U/nobody-key.pem"
	mkdir -m 755 "$U/bin"
	printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=65534 --clear-groups %s "$@"\n' \
	    "$BIN/mtls-serve" >"$U/bin/mtls-serve"
	chmod 755 "$U/bin/mtls-serve"
	# shellcheck disable=SC2016
	BIN=$U/bin MTLS_PKCS11_PIN=pin-1234-secret serve_start "$T/dump.log" \
	    -c "$U/server-cert.pem" -k "$U/nobody-key.pem" -C "$U/ca-cert.pem" \
	    -- sh -c 'cat /proc/$PPID/environ /proc/$PPID/mem 2>/dev/null | tr "\0" "\n" | grep -c pin-1234-secret; echo done'
	is "$(ps -o user= -p "$SPID" | tr -d ' ')" nobody "a server started as nobody"
	is "$(stat -c %U "/proc/$SPID/environ")" root \
	    "is not dumpable: its /proc files are root's"
	send "$P" "localhost:$PORT" </dev/null >"$T/dump.out" 2>&1
	is "$(cat "$T/dump.out")" "0
done" "a program running as the same user cannot read the PIN from its parent"
	serve_stop "$SPID"

	# shellcheck disable=SC2086
	serve_start "$T/xu.log" $S --exec-user nobody -- id -un
	send "$P" "localhost:$PORT" </dev/null >"$T/xu.out" 2>&1
	is "$(cat "$T/xu.out")" nobody "--exec-user nobody: the program runs as nobody"
	serve_stop "$SPID"

	# SIGHUP with a root-only key after -u: the CRL is reloaded anyway.
	mkcrl "$P" ca "$U/u.crl"
	chmod 644 "$U/u.crl"
	client victim "/CN=victim"
	serve_start "$T/uhup.log" -c "$U/server-cert.pem" \
	    -k "$P/server-key.pem" -C "$U/ca-cert.pem" -u nobody \
	    --crl "$U/u.crl"
	as victim "localhost:$PORT" >/dev/null 2>&1
	is "$?" 0 "before the reload the client is served"
	mkcrl "$P" ca "$U/u.crl" "$T/victim-cert.pem"
	chmod 644 "$U/u.crl"
	kill -HUP "$SPID"
	ok "the key cannot be read again: logged, naming the part" \
	    waitfor 10 has_log "$T/uhup.log" 'event=reload-failed level=error reason=".*server-key.pem: .*Permission denied" part="certificate and key"'
	ok "the rest is reloaded with the previous key" \
	    waitfor 10 has_log "$T/uhup.log" 'event=reloaded .*crls=1 key=previous'
	as victim "localhost:$PORT" >"$T/victim.out" 2>&1
	is "$?" 3 "after SIGHUP the revoked client is refused"
	like "$(cat "$T/victim.out")" 'certificate_revoked' "with certificate_revoked"
	ok "others are served with the previous key" good uhup
	serve_stop "$SPID"
else
	# shellcheck disable=SC2086
	fails_with 2 '--exec-user nobody: needs root' \
	    "not root: --exec-user, exit 2" "$BIN/mtls-serve" $S \
	    --exec-user nobody -- id
fi
# shellcheck disable=SC2086
fails_with 2 '--exec-user cannot be combined with --user' \
    "--exec-user with --user: exit 2" "$BIN/mtls-serve" $S -u nobody \
    --exec-user nobody -- id

## 8. CRLs from intermediate CAs.
I=$T/ica
mkca "$I" root
mkcert "$I" int "$I" root 'cn = "client issuing CA"
ca
cert_signing_key
crl_signing_key
expiration_days = 20'
for n in okay gone; do
	mkcert "$I" "$n" "$I" int "cn = \"$n\"
tls_www_client
signing_key
expiration_days = 5"
	cat "$I/$n-cert.pem" "$I/int-cert.pem" >"$I/$n-chain.pem"
done
mkcrl "$I" int "$I/int.crl" "$I/gone-cert.pem"
serve_start "$T/icrl.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$I/root-cert.pem" --crl "$I/int.crl"
ok "a CRL from an intermediate not in --ca: the server starts" \
    has_log "$T/icrl.log" 'event=certificate .*crls=1 crls_deferred=1'
echo hi | "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$I/okay-chain.pem" \
    -k "$I/okay-key.pem" "localhost:$PORT" >/dev/null 2>&1
is "$?" 0 "a client it does not list is served"
echo hi | "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$I/gone-chain.pem" \
    -k "$I/gone-key.pem" "localhost:$PORT" >"$T/gone.out" 2>&1
is "$?" 3 "the client it revokes is refused"
like "$(cat "$T/gone.out")" 'certificate_revoked' "with certificate_revoked"
openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile "$P/ca-cert.pem" \
    -cert "$I/gone-cert.pem" -key "$I/gone-key.pem" \
    -cert_chain "$I/int-cert.pem" </dev/null >"$T/gone.ossl" 2>&1
like "$(cat "$T/gone.ossl")" 'alert certificate revoked' \
    "openssl s_client with that chain gets certificate_revoked too"
ok "the log names the CRL's issuer" has_log "$T/icrl.log" \
    'reason="certificate verification failed: revoked \(by the CRL of CN=client issuing CA\)"'
serve_stop "$SPID"

done_testing
