#!/bin/bash
# Messages that point at the real cause: which alert refused us, a peer
# that does not speak TLS, a truncated PEM file, a URL or port 0 given as
# an address, a client certificate's issuer matched by name but not by
# key, a key that does not match, and reading a terminal.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
O=$T/other
mkpki "$O"		# a CA with the same name as P's, another key
chmod 600 "$P"/*-key.pem "$O"/*-key.pem
S="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"

# The alert decides the message; only unknown_ca lists the issuers.
# shellcheck disable=SC2086
serve_start "$T/allow.log" $S --allow 'cn:nobody'
fails_with 3 "server's rules do not admit this certificate \(alert access_denied\)" \
    "access_denied: the server's rules do not admit the certificate" \
    send "$P" "localhost:$PORT"
unlike "$(cat "$T/fw.err")" 'issued by' "and no list of issuers"
fails_with 3 'did not accept our certificate \(alert unknown_ca\); it accepts certificates issued by "CN=mtls demo CA,O=mtls demo"' \
    "unknown_ca: the issuers the server accepts" send "$O" -C "$P/ca-cert.pem" \
    "localhost:$PORT"
serve_stop "$SPID"
mkcrl "$P" ca "$T/revoked.crl" "$P/client-cert.pem"
# shellcheck disable=SC2086
serve_start "$T/crl.log" $S --crl "$T/revoked.crl"
fails_with 3 'server says our certificate is revoked \(alert certificate_revoked\)$' \
    "certificate_revoked: says revoked" send "$P" "localhost:$PORT"
serve_stop "$SPID"

# Peers that do not speak TLS at all.
cat >"$T/plain.py" <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.recv(4096)
c.sendall(sys.argv[1].encode().replace(b"|", b"\r\n"))
c.close()
PY
for kind in "HTTP/1.0 400 Bad Request||" "SSH-2.0-OpenSSH_9.2|"; do
	python3 "$T/plain.py" "$kind" >"$T/plain.port" &
	pp=$!
	track $pp
	waitfor 5 test -s "$T/plain.port"
	case $kind in
	HTTP*) re='not a TLS server\? it sent HTTP: "HTTP/1\.0 400 Bad Request"$' ;;
	*) re='not a TLS server\? it sent plain text: "SSH-2\.0-OpenSSH_9\.2"$' ;;
	esac
	fails_with 3 "^mtls-send: 127\\.0\\.0\\.1:[0-9]+: $re" \
	    "a ${kind%% *} peer: mtls-send says it is not TLS" \
	    send "$P" "127.0.0.1:$(cat "$T/plain.port")"
	await $pp 30
	rm -f "$T/plain.port"
done

python3 "$T/plain.py" "HTTP/1.0 400 Bad Request||" >"$T/plain.port" &
pp=$!
track $pp
waitfor 5 test -s "$T/plain.port"
fails_with 3 'no certificate received: not a TLS server\? it sent HTTP: "HTTP/1\.0 400 Bad Request"$' \
    "mtls-certinfo --connect to an HTTP peer says so too" \
    certinfo --connect "127.0.0.1:$(cat "$T/plain.port")"
await $pp 30

# A truncated PEM file: the message mtls-certinfo gives, in every tool.
head -n 4 "$P/client-cert.pem" >"$T/cut-cert.pem"
head -n 2 "$P/client-key.pem" >"$T/cut-key.pem"
trunc='truncated PEM: no END line for the BEGIN at line 1'
fails_with 2 "^mtls-send: $T/cut-cert\\.pem: $trunc\$" \
    "mtls-send, truncated certificate" "$BIN/mtls-send" -C "$P/ca-cert.pem" \
    -c "$T/cut-cert.pem" -k "$P/client-key.pem" localhost:1
fails_with 2 "^mtls-send: $T/cut-key\\.pem: $trunc\$" \
    "mtls-send, truncated key" "$BIN/mtls-send" -C "$P/ca-cert.pem" \
    -c "$P/client-cert.pem" -k "$T/cut-key.pem" localhost:1
fails_with 2 "reason=\"$T/cut-cert\\.pem: $trunc\" exit=2\$" \
    "mtls-serve, truncated CA file" "$BIN/mtls-serve" -l 127.0.0.1:0 \
    -c "$P/server-cert.pem" -k "$P/server-key.pem" -C "$T/cut-cert.pem"
fails_with 2 "^mtls-certinfo: $T/cut-cert\\.pem: $trunc\$" \
    "mtls-certinfo says the same" "$BIN/mtls-certinfo" "$T/cut-cert.pem"

# Addresses: a URL is not one, and port 0 is not a port to connect to.
fails_with 2 '^mtls-send: https://db1\.example:443/x: URLs are not addresses \(give HOST:PORT, such as db1\.example:443\)$' \
    "mtls-send https://...: URLs are not addresses" \
    send "$P" https://db1.example:443/x
fails_with 2 '^mtls-send: localhost:0: port 0 is not a port to connect to$' \
    "mtls-send host:0: a usage error" send "$P" localhost:0
fails_with 2 '^mtls-certinfo: localhost:0: port 0 ' \
    "mtls-certinfo --connect host:0 too" certinfo --connect localhost:0

# --connect: our issuer's name is on the server's list, but is the key?
# shellcheck disable=SC2086
serve_start "$T/ci.log" $S
certinfo --connect "localhost:$PORT" -c "$O/client-cert.pem" \
    -k "$O/client-key.pem" >"$T/o.txt"
like "$(cat "$T/o.txt")" 'Our issuer: +same name, different key' \
    "same CA name, another key: 'same name, different key'"
like "$(cat "$T/o.txt")" "Server's verdict: +refused our certificate, alert unknown_ca" \
    "with the server's verdict"
certinfo --json --connect "localhost:$PORT" -c "$O/client-cert.pem" \
    -k "$O/client-key.pem" >"$T/o.json"
is "$(jq_py "$T/o.json" 'd["connection"]["certificate_request"]["client_issuer_accepted"]')" \
    false "JSON: client_issuer_accepted is false"
is "$(jq_py "$T/o.json" 'd["connection"]["certificate_request"]["client_issuer_same_name_other_key"]')" \
    true "JSON: client_issuer_same_name_other_key is true"
certinfo --connect "localhost:$PORT" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" >"$T/p.txt"
like "$(cat "$T/p.txt")" 'Our issuer: +accepted' "our own CA: accepted"
serve_stop "$SPID"
# A server that sends its CA along: the key is checked by signature.
cat "$P/server-cert.pem" "$P/ca-cert.pem" >"$T/chain.pem"
osrv_start "$T/os.log" -Verify 1 -verify_return_error -cert "$T/chain.pem" \
    -key "$P/server-key.pem" -CAfile "$P/ca-cert.pem"
certinfo --connect "localhost:$PORT" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" >"$T/k1.txt"
like "$(cat "$T/k1.txt")" 'Our issuer: +accepted \(name and key\)' \
    "openssl s_server with its CA in the chain: accepted by name and key"
certinfo --connect "localhost:$PORT" -c "$O/client-cert.pem" \
    -k "$O/client-key.pem" >"$T/k2.txt"
like "$(cat "$T/k2.txt")" 'Our issuer: +same name, different key' \
    "and the other CA's certificate: same name, different key"
kill "$SPID"
await "$SPID" 30

# -k with a key that does not match: exit 1.
certinfo -k "$O/client-key.pem" "$P/client-cert.pem" >"$T/km.txt" 2>&1
is "$?" 1 "mtls-certinfo -k with another key: exit 1"
like "$(cat "$T/km.txt")" 'does not match' "and says the key does not match"
certinfo -k "$P/client-key.pem" "$P/client-cert.pem" >/dev/null 2>&1
is "$?" 0 "with the matching key: exit 0"

# No file, and standard input is a terminal: say what it is waiting for.
script -qec "$BIN/mtls-certinfo" /dev/null </dev/null >"$T/tty.out" 2>&1
like "$(cat "$T/tty.out")" '^mtls-certinfo: reading a certificate from standard input' \
    "mtls-certinfo on a terminal says it reads standard input"
certinfo <"$P/ca-cert.pem" >"$T/pipe.out" 2>"$T/pipe.err"
is "$(cat "$T/pipe.err")" "" "from a pipe it says nothing"

done_testing
