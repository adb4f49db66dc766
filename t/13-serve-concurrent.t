#!/bin/bash
# mtls-serve: 20 clients at once each get back exactly their own data; no
# child is left behind.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
log=$T/serve.log
serve_start "$log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"

pids=""
for i in $(seq 1 20); do
	seq -f "client $i line %g" 2000 >"$T/in.$i"
	pyclient 127.0.0.1 "$PORT" --ca "$P/ca-cert.pem" \
	    --cert "$P/client-cert.pem" --key "$P/client-key.pem" \
	    --expect-lines 2000 <"$T/in.$i" >"$T/out.$i" 2>"$T/err.$i" &
	pids="$pids $!"
	track $!
done
i=0
for p in $pids; do
	i=$((i + 1))
	await "$p"
	is "$?" 0 "client $i finished"
done
for i in $(seq 1 20); do
	is "$(cut -d' ' -f3- "$T/out.$i" | sha256sum)" \
	    "$(sha256sum <"$T/in.$i")" "client $i got exactly its own lines"
done
ok "20 connections accepted" has_log "$log" 'event=accepted' 20
ok "20 connections closed cleanly" \
    waitfor 10 has_log "$log" 'event=closed end=close_notify' 20
ok "all children reaped" waitfor 10 children_are "$SPID" = 0
serve_stop "$SPID"
is "$?" 0 "SIGTERM ends the server with status 0"

done_testing
