#!/bin/bash
# shellcheck disable=SC2016 # the programs' bodies are shell text, not to expand here
# The sandbox of a connection's process: /proc/PID/status of one holding a
# live client connection shows a seccomp filter (Seccomp: 2) and no new
# privileges, in echo mode, in exec mode and before the handshake; the
# program of exec mode is not under it (Seccomp: 0); a call the filter
# does not allow kills the process (the tests' own build, mtls-serve-hooks,
# makes one on demand), the server logs it as the sandbox's doing and
# goes on; echo and exec mode still serve openssl s_client and gnutls-cli.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
SRV="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"
# What the kernel had already put us under (a container's filter, say).
base=$(sed -n 's/^Seccomp_filters:[[:space:]]*//p' /proc/self/status)
base=${base:-0}

# field PID NAME: a field of /proc/PID/status.
field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null
}
# sandboxed PID: "Seccomp: 2, filters N, no_new_privs 1" as read.
sandboxed() {
	echo "Seccomp: $(field "$1" Seccomp), filters $(( $(field "$1" Seccomp_filters) - base )), no_new_privs $(field "$1" NoNewPrivs)"
}
want="Seccomp: 2, filters 1, no_new_privs 1"
# conn_pid: the connection process of server $SPID (the only one).
conn_pid() {
	conn_pids "$SPID" | head -n 1
}

# Echo mode: a client that has its first echo and holds on.
# shellcheck disable=SC2086
serve_start "$T/echo.log" $SRV
mkfifo "$T/e.in"
send "$P" "localhost:$PORT" <"$T/e.in" >"$T/e.out" 2>"$T/e.err" &
cp=$!
track $cp
exec 7>"$T/e.in"
echo first >&7
ok "echo: the first line comes back" waitfor 10 _has_lines "$T/e.out" 1
cpid=$(conn_pid)
ok "echo: a connection's process holds it ($cpid)" test -n "$cpid"
is "$(sandboxed "$cpid")" "$want" \
    "echo: its /proc/PID/status shows the seccomp filter"
is "$(field "$SPID" Seccomp)" 0 "the server's own process is not under it"
echo second >&7
exec 7>&-
await $cp
is "$? $(tail -n 1 "$T/e.out" | cut -d' ' -f3-)" "0 second" \
    "echo: the connection goes on in the sandbox, exit 0"

# Before the handshake: a client that says nothing is already facing a
# sandboxed process (its accepted line is logged from inside).
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
ok "a silent client is accepted" \
    waitfor 10 has_log "$T/echo.log" 'event=accepted' 2
cpid=$(conn_pid)
is "$(sandboxed "$cpid")" "$want" \
    "before the handshake its process is under the filter already"
exec 5<&-

# Independent peers against the sandboxed echo.
echo "via s_client" >"$T/o.in"
ossl_talk "$T/o.in" 1 "$T/o.out" -connect "127.0.0.1:$PORT" \
    -CAfile "$P/ca-cert.pem" -verify_return_error \
    -cert "$P/client-cert.pem" -key "$P/client-key.pem"
like "$(cat "$T/o.out")" ' via s_client$' "echo: openssl s_client is served"
for v in 1.3 1.2; do
	echo "gnutls $v" | gcli "$P" "$PORT" --logfile="$T/g.err" \
	    --priority "NORMAL:-VERS-ALL:+VERS-TLS$v" >"$T/g.out"
	like "$(cat "$T/g.out")" " gnutls $v\$" \
	    "echo: gnutls-cli TLS$v is served"
done
serve_stop "$SPID"
is "$?" 0 "SIGTERM: exit 0"
is "$(count_log "$T/echo.log" 'event=child-died')" 0 \
    "no connection process was killed"

# Exec mode: the program reports its own status, then echoes; meanwhile
# its parent, the connection's process, is looked at.
# shellcheck disable=SC2086
serve_start "$T/exec.log" $SRV -- sh -c \
    'echo program-ran >&2; echo "prog $(grep -E "^(Seccomp|NoNewPrivs):" /proc/$$/status | tr -s "\t\n" "  ")"; exec cat'
mkfifo "$T/x.in"
send "$P" "localhost:$PORT" <"$T/x.in" >"$T/x.out" 2>"$T/x.err" &
cp=$!
track $cp
exec 7>"$T/x.in"
ok "exec: the program's first line comes back" \
    waitfor 10 _has_lines "$T/x.out" 1
is "$(head -n 1 "$T/x.out")" "prog NoNewPrivs: 0 Seccomp: 0 " \
    "exec: the program is not under the filter (Seccomp: 0), nor no_new_privs"
cpid=$(conn_pid)
ok "exec: a connection's process holds it ($cpid)" test -n "$cpid"
is "$(sandboxed "$cpid")" "$want" \
    "exec: the connection's process is under the filter"
echo through >&7
ok "exec: a line through the program" waitfor 10 _has_lines "$T/x.out" 2
exec 7>&-
await $cp
is "$? $(tail -n 1 "$T/x.out")" "0 through" "exec: exit 0, the line back"
ok "exec: the program's exit is logged" \
    waitfor 10 has_log "$T/exec.log" 'event=closed .*program="exit 0"'
openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile "$P/ca-cert.pem" \
    -cert "$P/client-cert.pem" -key "$P/client-key.pem" </dev/null \
    >"$T/o.out" 2>"$T/o.err"
like "$(head -n 1 "$T/o.out")" '^prog NoNewPrivs: 0 Seccomp: 0 ' \
    "exec: openssl s_client is served"
gcli "$P" "$PORT" --logfile="$T/g.err" </dev/null >"$T/g.out"
like "$(head -n 1 "$T/g.out")" '^prog NoNewPrivs: 0 Seccomp: 0 ' \
    "exec: gnutls-cli is served"
# A refused client: the program's process, forked before the handshake,
# ends without running the program.
mkca "$T/r" rogue
mkcert "$T/r" client "$T/r" rogue 'cn = "rogue"
tls_www_client
signing_key
expiration_days = 3'
"$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$T/r/client-cert.pem" \
    -k "$T/r/client-key.pem" "localhost:$PORT" </dev/null >"$T/r.out" 2>&1
is "$?" 3 "exec: a client of another CA is refused, exit 3"
ok "exec: and its connection's process is gone, with nothing left" \
    waitfor 10 children_are "$SPID" = 0
is "$(count_log "$T/exec.log" '^program-ran$')" 3 \
    "the program ran for the three clients admitted, not for it"
serve_stop "$SPID"
is "$?" 0 "SIGTERM: exit 0"
is "$(count_log "$T/exec.log" 'event=child-died')" 0 \
    "no connection process was killed"

# A forbidden call kills.  mtls-serve-hooks makes, right after entering
# the sandbox, the call MTLS_TEST_SANDBOX_CALL names.  The server's log
# then has an event=child-died line, which would fail this file at its
# end (done_testing): once checked, exactly those lines are taken out.
H=$BIN/mtls-serve-hooks
[ -x "$H" ] || _fatal "$H is missing (make check builds it)"
# killed CALL [-- PROGRAM]: the server lives on, the connection does not.
killed() {
	_call=$1
	shift
	# shellcheck disable=SC2086
	BIN=$T/hooks MTLS_TEST_SANDBOX_CALL=$_call \
	    serve_start "$T/k-$_call.log" $SRV "$@"
	send "$P" "localhost:$PORT" </dev/null >"$T/k.out" 2>"$T/k.err"
	_st=$?
	ok "$_call: the server logs the kill as the sandbox's" \
	    waitfor 10 has_log "$T/k-$_call.log" \
	    'event=child-died level=error pid=[0-9]+ signal=31 signame=SYS reason="sandbox: a system call it does not allow"'
	is "$_st $(count_log "$T/k-$_call.log" 'event=(handshake|closed)')" "3 0" \
	    "$_call: the client gets no handshake (mtls-send exit 3), nothing else is logged"
	like "$(cat "$T/k.err")" 'server closed the connection during the handshake' \
	    "$_call: mtls-send says so"
	ok "$_call: the server is still there" kill -0 "$SPID"
	serve_stop "$SPID"
	is "$?" 0 "$_call: and stops at SIGTERM, exit 0"
	sed -i '/event=child-died level=error pid=[0-9]* signal=31 signame=SYS reason="sandbox: /d' \
	    "$T/k-$_call.log"
}
mkdir "$T/hooks"
ln -s "$H" "$T/hooks/mtls-serve"
# The sanitizers' build lets their runtime open files, clone and ptrace
# (LeakSanitizer at exit): there, only the others are tried.
calls="socket execve x32"
if ldd "$H" | grep -q libasan; then
	diag "a sanitizer build: open, fork and ptrace are its runtime's"
else
	calls="open fork ptrace $calls"
fi
for call in $calls; do
	killed "$call"
done
killed kill-parent -- cat
# An allowed call does not kill: the hook itself is harmless.
# shellcheck disable=SC2086
BIN=$T/hooks MTLS_TEST_SANDBOX_CALL=getpid serve_start "$T/k-ok.log" $SRV
echo alive | send "$P" "localhost:$PORT" >"$T/k.out"
like "$? $(cat "$T/k.out")" '^0 .* alive$' \
    "an allowed call (getpid) in the same place: served"
serve_stop "$SPID"

# -i: the same kill, as the super-server sees it: 128 + SIGSYS.
python3 "$TOP/t/inetd.py" "$T/i.log" env MTLS_TEST_SANDBOX_CALL=socket \
    "$H" -i -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem" >"$T/i.out" &
ip=$!
track $ip
waitfor 10 test -s "$T/i.out"
send "$P" "localhost:$(head -n 1 "$T/i.out")" </dev/null >/dev/null 2>&1
await $ip
is "$(sed -n 2p "$T/i.out")" -31 "-i: the process is killed by SIGSYS"

done_testing
