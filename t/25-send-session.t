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

# Another client certificate (or another -p): the session made under the
# first identity is not offered, and the server sees the new one.
mkcert "$T" alice "$P" ca 'cn = "alice"
tls_www_client
signing_key
expiration_days = 5'
chmod 600 "$T/alice-key.pem"
cp "$T/sess" "$T/mine"
echo five | "$BIN/mtls-send" -v -C "$P/ca-cert.pem" -c "$T/alice-cert.pem" \
    -k "$T/alice-key.pem" --session "$T/mine" "localhost:$PORT" \
    >/dev/null 2>"$T/5.err"
is "$?" 0 "a session made with another client certificate: exit 0"
like "$(cat "$T/5.err")" 'not a session for localhost under these trust settings; ignored' \
    "it is not offered under this one"
ok "the server sees alice, in a full handshake" \
    waitfor 5 has_log "$T/serve.log" 'event=handshake .*client_subject="CN=alice"'
unlike "$(grep 'CN=alice' "$T/serve.log")" 'resumed=yes' "not a resumption"
cp "$T/sess" "$T/mine2"
echo six | $SEND -p 'NORMAL:-VERS-ALL:+VERS-TLS1.3' --session "$T/mine2" \
    "localhost:$PORT" >/dev/null 2>"$T/6p.err"
like "$(cat "$T/6p.err")" 'not a session for localhost under these trust settings; ignored' \
    "nor one made under another -p"

# --- A session is never weaker than a full handshake. ---
# Another CA trusted now: the session made under the old one is not offered.
O=$T/pki2
mkpki "$O"
echo x | $SEND --session "$T/sess" "localhost:$PORT" >/dev/null 2>/dev/null
echo five | $SEND -C "$O/ca-cert.pem" --session "$T/sess" "localhost:$PORT" \
    >"$T/5.out" 2>"$T/5.err"
is "$?" 4 "--ca changed to another CA: the saved session does not resume (exit 4)"
like "$(cat "$T/5.err")" 'under these trust settings; ignored' \
    "the session is set aside, with a note"
is "$(cat "$T/5.out")" "" "and nothing was sent"
# A CRL that revokes the server: the resumed session's chain is verified again.
mkcrl "$P" ca "$T/srv.crl" "$P/server-cert.pem"
mkcrl "$P" ca "$T/empty.crl"
echo six | $SEND --crl "$T/empty.crl" --session "$T/sess" "localhost:$PORT" \
    >"$T/6.out" 2>"$T/6.err"
is "$?" 0 "with a CRL that revokes nothing: exit 0"
like "$(cat "$T/6.err")" 'session resumed' "the session resumes"
echo seven | $SEND --crl "$T/srv.crl" --session "$T/sess" "localhost:$PORT" \
    >"$T/7.out" 2>"$T/7.err"
is "$?" 4 "with a CRL that revokes the server: the resumption is refused (exit 4)"
like "$(cat "$T/7.err")" 'session resumed' "(it did resume at the TLS level)"
like "$(cat "$T/7.err")" 'server certificate is revoked.*\(resumed session\)' \
    "the chain is verified again after resumption"
is "$(cat "$T/7.out")" "" "and nothing was sent"
}
# A file we do not own, or that others may write, or a link: ignored.
cp "$T/sess" "$T/theirs"
chown nobody "$T/theirs" 2>/dev/null || true
if [ "$(stat -c %U "$T/theirs")" = nobody ]; then
	# shellcheck disable=SC2086
	echo eight | $SEND --session "$T/theirs" "localhost:$PORT" >/dev/null 2>"$T/8.err"
	is "$?" 0 "a session file owned by another user: still exit 0"
	like "$(cat "$T/8.err")" 'theirs: owned by another user; session not used or saved' \
	    "it is ignored, with a warning"
	like "$(cat "$T/8.err")" 'session new' "a full handshake happens"
else
	diag "not root: cannot make a file owned by another user"
fi
cp "$T/sess" "$T/shared"
chmod 622 "$T/shared"
# shellcheck disable=SC2086
echo nine | $SEND --session "$T/shared" "localhost:$PORT" >/dev/null 2>"$T/9.err"
like "$(cat "$T/9.err")" 'shared: writable by group or others; session not used or saved' \
    "a session file others can write is ignored, with a warning"
like "$(cat "$T/9.err")" 'session new' "and not resumed"
ln -s "$T/sess" "$T/link"
# shellcheck disable=SC2086
echo ten | $SEND --session "$T/link" "localhost:$PORT" >/dev/null 2>"$T/10.err"
like "$(cat "$T/10.err")" 'link: a symbolic link; session not used or saved' \
    "a symbolic link is not followed"
ok "and not replaced" test -L "$T/link"
# A file that is not a session file is never overwritten.
cp "$P/ca-cert.pem" "$T/ca-copy.pem"
# shellcheck disable=SC2086
fails_with 2 "^mtls-send: $T/ca-copy.pem: not an mtls-send session file; it would be overwritten\$" \
    "--session pointed at a CA file: exit 2" \
    $SEND --session "$T/ca-copy.pem" "localhost:$PORT"
ok "the file is unchanged" cmp -s "$T/ca-copy.pem" "$P/ca-cert.pem"
serve_stop "$SPID"

done_testing
