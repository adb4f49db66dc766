#!/bin/bash
# mtls-serve against faulty and hostile peers: garbage instead of a
# ClientHello, a client that says nothing, an idle client, more clients than
# --max-conns; the next good client is always served, no child is left
# behind, and SIGTERM still ends the server cleanly.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
log=$T/serve.log
serve_start "$log" -t 3 --handshake-timeout 3 -m 2 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem"

good() {
	echo "still here" | gcli "$P" "$PORT" --logfile="$T/gcli.err" \
	    >"$T/good.out" && grep -q ' still here$' "$T/good.out"
}

# Garbage: an HTTP request where a ClientHello belongs.
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET / HTTP/1.0\r\n\r\n' >&5
reply=$(timeout 5 cat <&5 2>/dev/null | od -An -tx1 | head -n 1)
exec 5<&-
ok "garbage: refused and logged" waitfor 5 has_log "$log" 'event=refused'
like "$reply" '^ *15 03 0[0-4]' "garbage: the server answers with a TLS alert"
ok "garbage: a good client is served next" good

# Silent: a client that connects and says nothing is dropped by the timeout.
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
ok "silent client: dropped after the handshake timeout" \
    waitfor 30 has_log "$log" 'event=refused .*reason="timed out"'
exec 5<&-
ok "silent client: a good client is served next" good

# Idle: a client that finishes the handshake and then says nothing gets a
# close_notify when the idle timeout passes.
mkfifo "$T/idle.in"
gcli "$P" "$PORT" --logfile="$T/idle.err" <"$T/idle.in" >"$T/idle.out" &
gp=$!
track $gp
exec 6>"$T/idle.in"
ok "idle client: closed by the idle timeout" \
    waitfor 30 has_log "$log" 'event=closed end=timeout'
await $gp
is "$?" 0 "idle client: gnutls-cli saw a clean close_notify"
exec 6>&-

ok "no connection process died of a signal" \
    test "$(count_log "$log" 'event=child-died')" = 0
serve_stop "$SPID"
is "$?" 0 "SIGTERM ends the server with status 0"

# More than --max-conns authenticated clients: the excess is refused at
# once and logged.  (Connections still in their handshake are dropped for
# newcomers instead: t/51-serve-attack.t.)  A server of its own, whose
# timeout is long enough that the two held clients cannot time out before
# the third client comes, however busy the machine.
log=$T/maxconns.log
serve_start "$log" -t 60 -m 2 -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem"
mkfifo "$T/h1.in" "$T/h2.in"
gcli "$P" "$PORT" --logfile="$T/h1.err" <"$T/h1.in" >/dev/null 2>&1 &
h1=$!
gcli "$P" "$PORT" --logfile="$T/h2.err" <"$T/h2.in" >/dev/null 2>&1 &
h2=$!
track $h1
track $h2
exec 5>"$T/h1.in" 6>"$T/h2.in"
waitfor 10 has_log "$log" 'event=handshake' 2
echo "one too many" | gcli "$P" "$PORT" --logfile="$T/gcli.err" \
    >"$T/excess.out" 2>&1
isnt=$?
ok "max-conns: the third client is not served" test "$isnt" != 0
ok "max-conns: the refusal is logged" \
    has_log "$log" 'reason="too many connections \(2\)"'
ok "max-conns: 2 children, no more" children_are "$SPID" = 2
exec 5>&- 6>&-
wait $h1 $h2
ok "max-conns: children end when their clients leave" \
    waitfor 5 children_are "$SPID" = 0
ok "max-conns: a good client is served again" good

# TLS 1.2 renegotiation asked by the client ("R" to s_client) is refused.
mkfifo "$T/reneg.in"
openssl s_client -tls1_2 -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$P/ca-cert.pem" -cert "$P/client-cert.pem" \
    -key "$P/client-key.pem" <"$T/reneg.in" >"$T/reneg.out" 2>&1 &
rp=$!
track $rp
exec 6>"$T/reneg.in"
echo before >&6
waitfor 5 has_log "$T/reneg.out" ' before$'
echo R >&6
ok "renegotiation: the client is told no_renegotiation" \
    waitfor 5 has_log "$T/reneg.out" 'no renegotiation'
exec 6>&-
await $rp
ok "renegotiation: the log says it was refused" \
    waitfor 5 has_log "$log" 'event=closed .*renegotiation=refused'
ok "renegotiation: a good client is served next" good

ok "no zombie children" waitfor 5 no_zombies "$SPID"
ok "no connection process died of a signal" \
    test "$(count_log "$log" 'event=child-died')" = 0
serve_stop "$SPID"
is "$?" 0 "SIGTERM ends the server with status 0"
like "$(tail -n 1 "$log")" 'event=stopped' "the last log line says stopped"

# SIGTERM while a client is connected: the server waits (bounded) for it.
serve_start "$T/drain.log" -t 2 --handshake-timeout 2 \
    -c "$P/server-cert.pem" \
    -k "$P/server-key.pem" -C "$P/ca-cert.pem"
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
waitfor 5 has_log "$T/drain.log" 'event=accepted'
kill -TERM "$SPID"
await "$SPID"
is "$?" 0 "SIGTERM with a client connected: exit 0"
ok "the shutdown counted one child" \
    has_log "$T/drain.log" 'event=draining signal=SIGTERM connections=1'
ok "the child finished before the server stopped" \
    has_log "$T/drain.log" 'event=refused .*timed out'
exec 5<&-

done_testing
