#!/bin/bash
# Exec mode at the ends of its streams: a program that closes its stdout
# early (half-close, TLS 1.3 and 1.2), one that stops reading, one that
# leaves a background child, one killed by a signal.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
SRV="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"
TLS12="NORMAL:-VERS-ALL:+VERS-TLS1.2"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$T/big"

# --- 4. Half-close: the program closes its stdout at once, reads all. ---
for v in 1.3 1.2; do
	rm -f "$T/upload"
	# shellcheck disable=SC2086
	serve_start "$T/up$v.log" $SRV -- sh -c "exec cat >'$T/upload'"
	if [ "$v" = 1.2 ]; then
		send "$P" -p "$TLS12" "localhost:$PORT" <"$T/big" >"$T/up.out" 2>"$T/up.err"
	else
		send "$P" "localhost:$PORT" <"$T/big" >"$T/up.out" 2>"$T/up.err"
	fi
	is "$?" 0 "TLS $v, a program that closes its stdout first: client exit 0"
	ok "TLS $v: the server logs a clean end" \
	    waitfor 10 has_log "$T/up$v.log" 'event=closed end=close_notify'
	ok "TLS $v: the whole upload arrived ($(stat -c %s "$T/upload" 2>/dev/null) bytes)" \
	    cmp -s "$T/upload" "$T/big"
	serve_stop "$SPID"
done

# --- 5. A program that stops reading still gets its output through. ---
head -c 100000 /dev/urandom >"$T/100k"
for v in 1.3 1.2; do
	# shellcheck disable=SC2086
	serve_start "$T/head$v.log" $SRV -- head -c 100000 "$T/100k"
	for i in 1 2 3; do
		if [ "$v" = 1.2 ]; then
			send "$P" -p "$TLS12" "localhost:$PORT" <"$T/big" >"$T/head.out" 2>"$T/head.err"
		else
			send "$P" "localhost:$PORT" <"$T/big" >"$T/head.out" 2>"$T/head.err"
		fi
		st=$?
		ok "TLS $v run $i: all 100000 bytes the program wrote arrive" \
		    cmp -s "$T/head.out" "$T/100k"
		is "$st" 1 "TLS $v run $i: the client exits 1 (its input was not all read)"
		like "$(cat "$T/head.err")" 'server stopped reading: some input not delivered|server closed the connection before all input was sent: not delivered' \
		    "TLS $v run $i: and says the server stopped reading"
		is "$(wc -l <"$T/head.err")" 1 "TLS $v run $i: in one line"
	done
	ok "TLS $v: the server logs what the program did not read" \
	    waitfor 5 has_log "$T/head$v.log" 'event=closed end=close_notify .*unread=[1-9]'
	serve_stop "$SPID"
done

# A program that reads all, and answers after: a clean end, no reset.
# shellcheck disable=SC2086
serve_start "$T/wc.log" $SRV -- wc -c
send "$P" "localhost:$PORT" <"$T/big" >"$T/wc.out" 2>"$T/wc.err"
is "$?" 0 "a program that reads everything: exit 0"
is "$(tr -d ' ' <"$T/wc.out")" "$((8 * 1024 * 1024))" "it saw every byte"
is "$(cat "$T/wc.err")" "" "nothing on stderr"
serve_stop "$SPID"
# One that reads nothing and says hello: the client sent nothing, so
# nothing was lost.
# shellcheck disable=SC2086
serve_start "$T/hello.log" $SRV -- echo hello
send "$P" "localhost:$PORT" </dev/null >"$T/hello.out" 2>"$T/hello.err"
is "$?" 0 "a program that reads nothing, a client that sends nothing: exit 0"
is "$(cat "$T/hello.out")" hello "its output arrives"
serve_stop "$SPID"

# --- 6. The program's life is the connection's life. ---
# shellcheck disable=SC2086
serve_start "$T/bg.log" $SRV -t 20 -- sh -c "echo hi; sleep 30 & echo \$! >'$T/bg.pid'"
send "$P" "localhost:$PORT" </dev/null >"$T/bg.out" 2>"$T/bg.err"
is "$?" 0 "a program that leaves a background child: exit 0"
is "$(cat "$T/bg.out")" hi "its output arrives"
ok "the connection ends when the program does, not at the idle timeout" \
    waitfor 5 has_log "$T/bg.log" 'event=closed end=close_notify .*program="exit 0"'
bgpid=$(cat "$T/bg.pid")
ok "the background child ($bgpid) is ended with the connection" \
    waitfor 10 sh -c "! kill -0 $bgpid 2>/dev/null"
serve_stop "$SPID"

# A program killed by a signal: no close_notify, the client is told.
# shellcheck disable=SC2086
serve_start "$T/kill.log" $SRV -- sh -c 'echo dying; kill -9 $$'
send "$P" "localhost:$PORT" </dev/null >"$T/kill.out" 2>"$T/kill.err"
is "$?" 1 "a program killed by a signal: the client exits 1"
is "$(cat "$T/kill.out")" dying "what it wrote first still arrives"
like "$(cat "$T/kill.err")" 'without close_notify; replies may be truncated' \
    "the client hears of a possible truncation"
ok "the log has the signal" \
    waitfor 5 has_log "$T/kill.log" 'event=closed end="program killed" .*program="signal 9 \(Killed\)"'
serve_stop "$SPID"
# The same seen by an independent client: Python's ssl (OpenSSL) reports
# an EOF without close_notify.
# shellcheck disable=SC2086
serve_start "$T/kill2.log" $SRV -- sh -c 'echo dying; kill -9 $$'
python3 - "$P" "$PORT" >"$T/py.out" 2>&1 <<'PY'
import socket, ssl, sys
d, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(cafile=d + "/ca-cert.pem")
ctx.load_cert_chain(d + "/client-cert.pem", d + "/client-key.pem")
# Python may be built to take an EOF for a close_notify: not here.
ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                    server_hostname="localhost",
                    suppress_ragged_eofs=False)
got = b""
try:
    while True:
        b = t.recv(4096)
        if not b:
            print("clean close_notify")
            break
        got += b
except ssl.SSLEOFError:
    print("EOF without close_notify")
print("data", got.decode().strip())
PY
is "$(cat "$T/py.out")" "EOF without close_notify
data dying" "Python's ssl: the data, then an EOF without close_notify"
serve_stop "$SPID"

# The idle timeout cuts off a program that has not answered yet: the
# client must not see a clean end (no close_notify), whatever the version.
for v in 1.3 1.2; do
	# shellcheck disable=SC2086
	serve_start "$T/slow$v.log" $SRV -t 2 -- sh -c 'cat >/dev/null; sleep 6; echo result'
	echo req | send "$P" -p "NORMAL:-VERS-ALL:+VERS-TLS$v" "localhost:$PORT" \
	    >"$T/slow.out" 2>"$T/slow.err"
	is "$?" 1 "TLS$v: a program cut off by -t: the client exits 1"
	like "$(cat "$T/slow.err")" 'without close_notify' \
	    "TLS$v: and says the replies may be cut short"
	ok "TLS$v: the server logs the timeout" \
	    waitfor 10 has_log "$T/slow$v.log" 'event=closed end=timeout'
	serve_stop "$SPID"
done

# A program that closed its stdout early and still works after the client
# has gone (sh -c 'sort > out' does this) is not killed: it finishes.
# shellcheck disable=SC2086
serve_start "$T/late.log" $SRV -- sh -c "exec >&-; cat >'$T/late.up'; sleep 3; touch '$T/late.done'"
send "$P" "localhost:$PORT" <"$T/big" >/dev/null 2>"$T/late.err"
is "$?" 0 "a program that closed its stdout early: the upload ends, exit 0"
ok "the program finishes its work after the connection" \
    waitfor 30 test -e "$T/late.done"
ok "and its exit is logged as its own" \
    waitfor 10 has_log "$T/late.log" 'program="exit 0"'
cmp -s "$T/big" "$T/late.up"
is "$?" 0 "the upload arrived whole"
serve_stop "$SPID"

done_testing
