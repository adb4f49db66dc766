#!/bin/bash
# mtls-serve's stderr is key=value throughout (start-up warnings, reload
# failures, fatal errors), -l may be given twice, and shutdown has two
# gears: the first SIGTERM/SIGINT drains, a second ends connections at once
# with close_notify.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem

# kv_only FILE: every line is "mtls-serve:" and key=value pairs, values
# bare or double-quoted with backslash escapes.  Prints the first line
# that is not.
kv_only() {
	grep -Ev '^mtls-serve:( [a-z][a-z0-9_]*=([^ "=]+|"([^"\\]|\\.)*"))+$' "$1" |
	    head -n 1
}

# An expired server certificate and a key anyone may read.
mkcert "$T/old" server "$P" ca 'cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
signing_key
activation_date = "2020-01-01 00:00:00"
expiration_date = "2021-01-01 00:00:00"'
chmod 644 "$T/old/server-key.pem"
OLD="-c $T/old/server-cert.pem -k $T/old/server-key.pem -C $P/ca-cert.pem"
log=$T/old.log
# shellcheck disable=SC2086
serve_start "$log" $OLD
echo hi | send "$P" "127.0.0.1:$PORT" >/dev/null 2>&1
ok "a client refuses the expired certificate and the server logs it" \
    waitfor 5 has_log "$log" 'event=(refused|closed)'
# A reload that fails: the certificate file is gone.
mv "$T/old/server-cert.pem" "$T/old/moved.pem"
kill -HUP "$SPID"
ok "the failed reload is logged" \
    waitfor 5 has_log "$log" 'event=reload-failed'
serve_stop "$SPID"
is "$?" 0 "the server stops with status 0"
ok "the expired certificate is a warning line" \
    has_log "$log" "^mtls-serve: time=[^ ]+ event=certificate-invalid level=warning file=[^ ]+ expired=2021-01-01"
ok "the readable key is a warning line" \
    has_log "$log" "^mtls-serve: time=[^ ]+ event=warning level=warning reason=\"$T/old/server-key.pem: private key is readable by others"
ok "the reload failure names the file" \
    has_log "$log" "event=reload-failed level=error reason=\"$T/old/server-cert.pem: No such file"
is "$(kv_only "$log")" "" "every line of that log is key=value"
ok "and the log has them all ($(wc -l <"$log") lines)" \
    test "$(wc -l <"$log")" -ge 7

# A fatal error is a log line too, with the exit status.
"$BIN/mtls-serve" -l 127.0.0.1:0 -c "$T/none.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem" 2>"$T/fatal.log"
is "$?" 2 "a missing certificate: exit 2"
like "$(cat "$T/fatal.log")" \
    "^mtls-serve: time=[^ ]+ event=fatal level=error reason=\"$T/none.pem: No such file or directory\" exit=2\$" \
    "the fatal error is one key=value line"
is "$(kv_only "$T/fatal.log")" "" "and it parses"

# -l twice: both addresses are served.
S="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"
# shellcheck disable=SC2086
serve_start "$T/two.log" $S -l 127.0.0.2:0
is "$(count_log "$T/two.log" 'event=listening')" 2 "-l A -l B: two listening lines"
port2=$(sed -n 's/.*event=listening addr=127\.0\.0\.2:\([0-9]*\).*/\1/p' \
    "$T/two.log")
like "$(echo one | send "$P" -n localhost "127.0.0.1:$PORT")" ' one$' \
    "the first address answers"
like "$(echo two | send "$P" -n localhost "127.0.0.2:$port2")" ' two$' \
    "the second address answers"
serve_stop "$SPID"

# Drain: one idle client, one SIGTERM.  The server stops accepting, logs
# draining with the count, and waits; a second SIGTERM ends the client's
# connection at once with close_notify.
# shellcheck disable=SC2086
serve_start "$T/drain.log" $S
mkfifo "$T/in"
send "$P" "127.0.0.1:$PORT" <"$T/in" >"$T/c.out" 2>"$T/c.err" &
cp=$!
track $cp
exec 7>"$T/in"
echo first >&7
ok "the client is served" waitfor 5 has_log "$T/c.out" ' first$'
kill -TERM "$SPID"
ok "first SIGTERM: event=draining connections=1" \
    waitfor 5 has_log "$T/drain.log" 'event=draining signal=SIGTERM connections=1$'
ok "the server goes on waiting for the connection" kill -0 "$SPID"
like "$(echo late | send "$P" "127.0.0.1:$PORT" 2>&1)" 'refused|connect' \
    "and accepts no new client"
echo second >&7
ok "the open connection is still served" \
    waitfor 5 has_log "$T/c.out" ' second$'
kill -INT "$SPID"
ok "second signal: the server ends within 3 s" \
    waitfor 3 has_log "$T/drain.log" 'event=stopped'
await "$SPID" 30
is "$?" 0 "and exits 0"
ok "it logged terminating with the count" \
    has_log "$T/drain.log" 'event=terminating signal=SIGINT connections=1$'
ok "the connection ended with end=shutdown" \
    has_log "$T/drain.log" 'event=closed end=shutdown '
await "$cp" 30
is "$?" 0 "the client got close_notify: mtls-send exits 0"
unlike "$(cat "$T/c.err")" 'close_notify|truncated' "and does not call it cut off"
exec 7>&-
is "$(kv_only "$T/drain.log")" "" "every line of the drain log is key=value"

# The same in exec mode, but the program is cut off: the client must not
# see a clean end, so there is no close_notify.
# shellcheck disable=SC2086
serve_start "$T/ex.log" $S -- cat
rm -f "$T/in"
mkfifo "$T/in"
send "$P" "127.0.0.1:$PORT" <"$T/in" >"$T/e.out" 2>"$T/e.err" &
cp=$!
track $cp
exec 7>"$T/in"
echo exec-one >&7
ok "exec mode: the program answers" waitfor 5 has_log "$T/e.out" '^exec-one$'
kill -TERM "$SPID"
waitfor 5 has_log "$T/ex.log" 'event=draining'
kill -TERM "$SPID"
ok "exec mode, second signal: the server ends within 3 s" \
    waitfor 3 has_log "$T/ex.log" 'event=stopped'
await "$SPID" 30
is "$?" 0 "and exits 0"
ok "the connection ended with end=shutdown, no blame on the peer" \
    has_log "$T/ex.log" 'event=closed end=shutdown bytes_in'
await "$cp" 30
is "$?" 1 "the program was cut off: no close_notify, mtls-send exits 1"
like "$(cat "$T/e.err")" 'without close_notify' \
    "and says the replies may be cut short"
exec 7>&-

# --drain-timeout: the server does not wait longer than that.
# shellcheck disable=SC2086
serve_start "$T/dt.log" $S --drain-timeout 1
rm -f "$T/in"
mkfifo "$T/in"
send "$P" "127.0.0.1:$PORT" <"$T/in" >"$T/d.out" 2>"$T/d.err" &
cp=$!
track $cp
exec 7>"$T/in"
echo hello >&7
waitfor 5 has_log "$T/d.out" ' hello$'
kill -TERM "$SPID"
ok "--drain-timeout 1: the server ends on its own within 4 s" \
    waitfor 4 has_log "$T/dt.log" 'event=stopped'
await "$SPID" 30
is "$?" 0 "and exits 0"
ok "after logging drain-timeout" \
    has_log "$T/dt.log" 'event=drain-timeout signal=SIGTERM connections=1$'
exec 7>&-
await "$cp" 30
is "$?" 0 "the client got close_notify there too"

done_testing
