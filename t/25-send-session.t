#!/bin/bash
# TLS 1.3 session resumption: mtls-serve's ticket key is made once in the
# parent, so any child resumes any ticket, and a resumed session still
# carries the client's identity; mtls-send --session saves and reuses it.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
SEND="$BIN/mtls-send -v -C $P/ca-cert.pem -c $P/client-cert.pem -k $P/client-key.pem"
serve_start "$T/serve.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"

# gnutls-cli -r resumes against mtls-serve (two connections, two children).
echo hi | gcli "$P" "$PORT" -r >"$T/g.out" 2>&1
like "$(cat "$T/g.out")" 'This is a resumed session' \
    "gnutls-cli --resume: the second connection resumes"
ok "mtls-serve logs the resumption, with the client's identity" \
    waitfor 5 has_log "$T/serve.log" 'event=handshake .*resumed=yes client_subject="CN=mtls-client,O=mtls demo"'

# shellcheck disable=SC2086
{
echo one | $SEND --session "$T/sess" "localhost:$PORT" >/dev/null 2>"$T/1.err"
is "$?" 0 "first run with --session: exit 0"
like "$(cat "$T/1.err")" 'session new' "a new session"
is "$(stat -c %a "$T/sess")" 600 "the session file is mode 0600"
echo two | $SEND --session "$T/sess" "localhost:$PORT" >"$T/2.out" 2>"$T/2.err"
is "$?" 0 "second run: exit 0"
like "$(cat "$T/2.err")" 'session resumed' "it resumed"
like "$(cat "$T/2.out")" ' two$' "and the data flows"
printf 'mtls-session 1 localhost\ngarbage\n' >"$T/bad"
echo three | $SEND --session "$T/bad" "localhost:$PORT" >"$T/3.out" 2>"$T/3.err"
is "$?" 0 "a garbled session file: still exit 0"
like "$(cat "$T/3.err")" 'bad: .*ignored' "it is ignored, with a note under -v"
cp "$T/sess" "$T/other"
echo four | $SEND --session "$T/other" -n 127.0.0.1 "127.0.0.1:$PORT" >/dev/null 2>"$T/4.err"
is "$?" 0 "a session saved for another name: exit 0"
like "$(cat "$T/4.err")" 'not a session for 127.0.0.1 under these trust settings; ignored' \
    "it is not offered to another server name"
like "$(cat "$T/4.err")" 'session new' "and a full handshake happens"
}
serve_stop "$SPID"

done_testing
