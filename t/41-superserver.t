#!/bin/bash
# mtls-serve under a super-server: --inetd under socat (which accepts and
# forks), and socket activation with LISTEN_FDS (a socket this test makes).
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
SRV="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"
SEND="$BIN/mtls-send -C $P/ca-cert.pem -c $P/client-cert.pem -k $P/client-key.pem"

# socat accepts; each connection runs mtls-serve --inetd on it.  (socat's
# EXEC splits on blanks and knows no quotes: the program is a script.)
printf 'echo "from $TCPREMOTEIP"\ncat\n' >"$T/prog.sh"
# socat binds port 0; its port is read from the kernel.
socat -d -d "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork" \
    EXEC:"$BIN/mtls-serve --inetd $SRV -- sh $T/prog.sh" \
    2>"$T/socat.log" &
sp=$!
track $sp
ok "socat is listening" waitfor 10 has_log "$T/socat.log" 'listening on'
port=$(listen_port $sp)
# shellcheck disable=SC2086
printf 'one\ntwo\n' | $SEND "localhost:$port" >"$T/out"
is "$?" 0 "mtls-serve --inetd under socat: exit 0"
is "$(cat "$T/out")" "from 127.0.0.1
one
two" "the program ran, with TCPREMOTEIP from the super-server"
# shellcheck disable=SC2086
printf 'again\n' | $SEND "localhost:$port" >"$T/out2"
is "$(tail -n 1 "$T/out2")" again "a second connection gets its own process"
ok "each connection logs in inetd mode" \
    waitfor 5 has_log "$T/socat.log" 'mtls-serve: .*event=closed end=close_notify' 2
kill $sp
await $sp

# --inetd echo, no program.
socat -d -d "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork" \
    EXEC:"$BIN/mtls-serve -i $SRV" 2>"$T/socat2.log" &
sp=$!
track $sp
waitfor 10 has_log "$T/socat2.log" 'listening on'
port=$(listen_port $sp)
# shellcheck disable=SC2086
echo plain | $SEND "localhost:$port" >"$T/out"
like "$(cat "$T/out")" ' plain$' "--inetd without a program echoes"
kill $sp
await $sp

# Socket activation: the socket is made here and passed as fd 3.
python3 "$TOP/t/activate.py" "$BIN/mtls-serve" $SRV >"$T/act.port" \
    2>"$T/act.log" &
ap=$!
track $ap
ok "the activated server starts on the passed socket" \
    waitfor 10 has_log "$T/act.log" 'event=listening'
port=$(cat "$T/act.port")
ok "it listens where the socket was bound, not on :9443" \
    has_log "$T/act.log" "event=listening addr=127.0.0.1:$port "
# shellcheck disable=SC2086
echo activated | $SEND "localhost:$port" >"$T/out"
like "$(cat "$T/out")" ' activated$' "LISTEN_FDS: a client is served"
kill -TERM $ap
await $ap
is "$?" 0 "SIGTERM: exit 0"

# LISTEN_PID for another process: ignored, the server binds as usual.
LISTEN_FDS=1 LISTEN_PID=1 "$BIN/mtls-serve" -l 127.0.0.1:0 $SRV \
    2>"$T/other.log" &
op=$!
track $op
ok "LISTEN_PID of another process is ignored" \
    waitfor 10 has_log "$T/other.log" 'event=listening addr=127.0.0.1:'
kill -TERM $op
await $op

done_testing
