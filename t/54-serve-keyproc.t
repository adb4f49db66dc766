#!/bin/bash
# The private key lives in the key process only (privilege separation):
# the memory of a connection's process, holding a live authenticated
# client, has none of the key's secrets (its private integers in either
# byte order, any line of its PEM text, its DER), nor has the parent's;
# the key process's has (so the scan can find them); the PEM text is not
# left even there.  Signatures through the key process, checked by
# openssl and gnutls-cli: ECDSA, RSA PKCS#1 v1.5 and RSA-PSS, Ed25519, in
# TLS 1.2 and 1.3.  SIGHUP: a new key and certificate are used together;
# a key that does not match keeps both old.  The key process ignores
# SIGTERM, holds no socket of the network, and when it is killed the
# server stops with exit 1 and says why.  Misbehaving channels (t/keyprobe.c)
# are refused or cut without stalling others.  A program run as an unprivileged
# user cannot read its parent's environment or memory.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
C="-C $P/ca-cert.pem"

# scan PID: memscan.py's findings for the server key in PID's memory.
scan() {
	python3 "$TOP/t/memscan.py" "$1" "$P/server-key.pem" 2>&1
}

# shellcheck disable=SC2086
serve_start "$T/s.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" $C -t 120
KPID=$(key_pid "$T/s.log")
ok "the certificate line names the key process ($KPID)" test -n "$KPID"
is "$(ps -o ppid= -p "$KPID" | tr -d ' ')" "$SPID" \
    "the key process is the server's child"
is "$(cat "/proc/$KPID/comm")" "mtls-serve-key" "ps shows it as mtls-serve-key"
is "$(awk '/^CapEff/ { print $2 }' "/proc/$KPID/status")" \
    "$(awk '/^CapEff/ { print $2 }' "/proc/$SPID/status")" \
    "it has no more capabilities than the parent"

live_start "$P" "$PORT"
ok "a client is connected and authenticated" has_log "$T/live.out" ' live$'
CPID=$(conn_pids "$SPID" | head -n 1)
ok "its connection process exists ($CPID)" test -n "$CPID"
scan "$CPID" >"$T/conn.scan"
like "$(tail -n 1 "$T/conn.scan")" '^scanned [1-9][0-9]{6,} bytes$' \
    "the connection process's memory was read (megabytes)"
is "$(grep -c '^found' "$T/conn.scan")" 0 \
    "no key material in the connection process's memory"
grep '^found' "$T/conn.scan" | while read -r l; do diag "$l"; done
scan "$SPID" >"$T/parent.scan"
like "$(tail -n 1 "$T/parent.scan")" '^scanned [1-9][0-9]{6,} bytes$' \
    "the parent's memory was read"
is "$(grep -c '^found' "$T/parent.scan")" 0 \
    "no key material in the parent's memory"
scan "$KPID" >"$T/key.scan"
like "$(cat "$T/key.scan")" 'found priv-(be|le) at' \
    "the key process's memory has the private scalar (the scan finds it)"
is "$(grep -c '^found \(pem\|der\)' "$T/key.scan")" 0 \
    "nor has the key process the PEM text or the file's DER"
ok "the key process has no TCP socket" \
    test -z "$(listen_port "$KPID")"
is "$(find "/proc/$KPID/fd" -mindepth 1 | wc -l)" 4 \
    "the key process holds 4 descriptors (stdin, stdout, stderr, control): the live connection's channel closed after its one signature"
is "$(grep -c softhsm "/proc/$CPID/maps")" 0 \
    "the connection process loaded no PKCS#11 module"
live_stop

# SIGTERM is the parent's to act on; the key process stays.
kill -TERM "$KPID"
echo after-term | send "$P" "localhost:$PORT" >"$T/out" 2>&1
like "$(cat "$T/out")" ' after-term$' "SIGTERM to the key process: still serving"
serve_stop "$SPID"
is "$?" 0 "the server stops with exit 0"
ok "and the key process has ended with it" _gone "$KPID"

# Each kind of key signs through the key process, checked by independent
# clients, which report the signature scheme they verified.
# keyed NAME CERTTOOL-KEY-OPTS: a server certificate for a new key.
keyed() {
	# shellcheck disable=SC2086
	certtool --generate-privkey $2 --no-text --outfile "$T/$1-key.pem" \
	    2>/dev/null
	chmod 600 "$T/$1-key.pem"
	printf 'cn = localhost\ndns_name = localhost\ntls_www_server\nsigning_key\nexpiration_days = 3\n' \
	    >"$T/$1.tmpl"
	certtool --generate-certificate --template "$T/$1.tmpl" \
	    --load-privkey "$T/$1-key.pem" --load-ca-certificate "$P/ca-cert.pem" \
	    --load-ca-privkey "$P/ca-key.pem" --outfile "$T/$1-cert.pem" \
	    2>/dev/null || _fatal "certtool: no $1 certificate"
}
keyed rsa "--key-type=rsa --bits=2048"
keyed ed "--key-type=ed25519"

# osig VERSION SIGALGS PORT: openssl s_client's "Peer signature type" line
# (ECDSA+SHA256 is added to SIGALGS for the client's own key).
osig() {
	openssl s_client -connect "127.0.0.1:$3" "-$1" \
	    -sigalgs "$2:ECDSA+SHA256" \
	    -cert "$P/client-cert.pem" -key "$P/client-key.pem" \
	    -CAfile "$P/ca-cert.pem" -verify_return_error </dev/null 2>&1 |
	    sed -n 's/^Peer signature type: //p'
}

# shellcheck disable=SC2086
serve_start "$T/rsa.log" -c "$T/rsa-cert.pem" -k "$T/rsa-key.pem" $C
is "$(osig tls1_2 RSA+SHA256 "$PORT")" RSA \
    "RSA key, TLS 1.2, PKCS#1 v1.5: openssl verifies the signature"
is "$(osig tls1_2 rsa_pss_rsae_sha256 "$PORT")" RSA-PSS \
    "RSA key, TLS 1.2, RSA-PSS: openssl verifies it"
is "$(osig tls1_3 rsa_pss_rsae_sha384 "$PORT")" RSA-PSS \
    "RSA key, TLS 1.3, RSA-PSS: openssl verifies it"
echo g13 | gcli "$P" "$PORT" --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3' \
    >"$T/g.out" 2>&1
like "$(cat "$T/g.out")" ' g13$' "RSA key, TLS 1.3: gnutls-cli completes"
like "$(grep 'Description:' "$T/g.out")" '-\(RSA-PSS-RSAE-SHA[0-9]*\)-' \
    "and it says the server signed with RSA-PSS"
serve_stop "$SPID"

# shellcheck disable=SC2086
serve_start "$T/ed.log" -c "$T/ed-cert.pem" -k "$T/ed-key.pem" $C
is "$(osig tls1_3 ed25519 "$PORT")" ed25519 \
    "Ed25519 key, TLS 1.3: openssl verifies the signature"
is "$(osig tls1_2 ed25519 "$PORT")" ed25519 \
    "Ed25519 key, TLS 1.2: openssl verifies it"
serve_stop "$SPID"

# shellcheck disable=SC2086
serve_start "$T/ec.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" $C
is "$(osig tls1_2 ECDSA+SHA384 "$PORT")" ECDSA \
    "ECDSA key, TLS 1.2: openssl verifies the signature"
for v in 1.2 1.3; do
	echo "g$v" | gcli "$P" "$PORT" \
	    --priority "NORMAL:-VERS-ALL:+VERS-TLS$v" >"$T/g.out" 2>&1
	like "$(cat "$T/g.out")" " g$v\$" "ECDSA key, TLS $v: gnutls-cli completes"
done

serve_stop "$SPID"

# SIGHUP with a new key and certificate in place of the old ones: both
# change together (a connection opened before keeps the old pair).
cp "$T/rsa-key.pem" "$T/k.pem"
cp "$T/rsa-cert.pem" "$T/c.pem"
# shellcheck disable=SC2086
serve_start "$T/hup.log" -c "$T/c.pem" -k "$T/k.pem" $C -t 120
KPID=$(key_pid "$T/hup.log")
live_start "$P" "$PORT"
cp "$T/ed-key.pem" "$T/k.pem"
cp "$T/ed-cert.pem" "$T/c.pem"
kill -HUP "$SPID"
ok "SIGHUP with a new key and certificate: reloaded" \
    waitfor 20 has_log "$T/hup.log" 'event=reloaded'
is "$(osig tls1_3 ed25519:rsa_pss_rsae_sha256 "$PORT")" ed25519 \
    "a new client gets the new certificate, signed by the new key"
echo old-pair >&7
ok "a client connected before the reload still talks" \
    waitfor 20 has_log "$T/live.out" ' old-pair$'
live_stop
is "$(key_pid "$T/hup.log")" "$KPID" "the same key process serves on"
# A key that does not match the certificate: both old ones stay.
cp "$T/rsa-key.pem" "$T/k.pem"
kill -HUP "$SPID"
ok "SIGHUP with a key that does not match: the reload fails" \
    waitfor 20 has_log "$T/hup.log" \
    'event=reload-failed .*reason=".*k\.pem: key does not match certificate'
ok "and says it keeps the previous pair" \
    has_log "$T/hup.log" 'event=reloaded .*key=previous'
is "$(osig tls1_3 ed25519:rsa_pss_rsae_sha256 "$PORT")" ed25519 \
    "clients still get the previous certificate and key"
# The key process killed: the server cannot sign, says so and stops.
kill -KILL "$KPID"
await "$SPID"
is "$?" 1 "the key process killed: the server exits 1"
ok "and logs why" has_log "$T/hup.log" \
    "event=fatal level=error reason=\"key process $KPID ended by signal 9 \\(Killed\\)\" exit=1"

# Exec mode under -u: the program (same uid as its parent) cannot read its
# parent's environment or memory: the connection process is not dumpable.
if [ "$(id -u)" = 0 ]; then
	chmod 644 "$P"/server-key.pem
	# shellcheck disable=SC2086,SC2016
	serve_start "$T/u.log" -c "$P/server-cert.pem" \
	    -k "$P/server-key.pem" $C -u nobody -- sh -c '
		echo "uid $(id -u) parent-uid $(stat -c %u /proc/$PPID)"
		cat /proc/$PPID/environ >/dev/null 2>&1; echo "environ $?"
		head -c 1 /proc/$PPID/mem >/dev/null 2>&1; echo "mem $?"
		cat /proc/$PPID/maps >/dev/null 2>&1; echo "maps $?"'
	send "$P" "localhost:$PORT" </dev/null >"$T/u.out" 2>&1
	is "$(sed -n 's/^environ //p' "$T/u.out")" 1 \
	    "-u nobody: the program cannot read its parent's environ"
	is "$(sed -n 's/^mem //p' "$T/u.out")" 1 \
	    "nor its parent's memory"
	is "$(sed -n 's/^maps //p' "$T/u.out")" 1 "nor its parent's maps"
	like "$(head -n 1 "$T/u.out")" "^uid $(id -u nobody) " \
	    "the program ran as nobody"
	serve_stop "$SPID"
	chmod 600 "$P"/server-key.pem
else
	fails_with 1 'Operation not permitted' "not root: -u is refused" \
	    "$BIN/mtls-serve" -l 127.0.0.1:0 -c "$P/server-cert.pem" \
	    -k "$P/server-key.pem" $C -u nobody
fi

# The key process against misbehaving connections, from outside TLS
# (t/keyprobe.c): refusals, nonsense, a vanished sender, a flood.
"$BIN/keyprobe" "$P/server-key.pem" "$P/server-cert.pem" >"$T/probe.out" 2>&1
is "$?" 0 "keyprobe: exit 0"
for c in signature one-signature-per-channel wrong-algorithm \
    wrong-hash-length wrong-flags too-much-data arbitrary-data \
    control-op-on-channel nonsense-closes-channel \
    flood-does-not-stall-others key-process-alive key-process-reaped; do
	is "$(sed -n "s/^$c: //p" "$T/probe.out")" ok "key process: $c"
done

# A key the key process cannot read: the server does not start.
fails_with 2 "$T/none.pem: No such file or directory" \
    "a missing key: exit 2, the file named" \
    "$BIN/mtls-serve" -l 127.0.0.1:0 -c "$P/server-cert.pem" \
    -k "$T/none.pem" $C
openssl pkey -in "$P/server-key.pem" -aes128 -passout pass:x \
    -out "$T/enc.pem" 2>/dev/null
chmod 600 "$T/enc.pem"
fails_with 2 "$T/enc.pem: encrypted private key" \
    "an encrypted key: exit 2, said so" \
    "$BIN/mtls-serve" -l 127.0.0.1:0 -c "$P/server-cert.pem" \
    -k "$T/enc.pem" $C
fails_with 2 "$T/rsa-key.pem: key does not match certificate" \
    "a key that does not match the certificate: exit 2" \
    "$BIN/mtls-serve" -l 127.0.0.1:0 -c "$P/server-cert.pem" \
    -k "$T/rsa-key.pem" $C

done_testing
