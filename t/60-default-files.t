#!/bin/bash
# Installed tools find their credentials: the default files are looked for
# in $MTLS_DIR, ./certs, ${XDG_CONFIG_HOME:-$HOME/.config}/mtls and
# /etc/mtls, in that order; a flag always wins; when nothing is found the
# one-line error names the file and every place looked in.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
chmod 600 "$P"/*-key.pem
mkdir -p "$T/empty" "$T/home"
export HOME=$T/home
unset MTLS_DIR XDG_CONFIG_HOME
cd "$T/empty" || exit 1

# /etc/mtls is the last place; on a machine that has one, the "nothing
# found" messages below would name its files instead.
[ -e /etc/mtls ] && diag "note: /etc/mtls exists here"

fails_with 2 '^mtls-send: client-cert\.pem: not found in MTLS_DIR \(unset\), \./certs, ~/\.config/mtls, /etc/mtls \(name it with -c FILE\)$' \
    "mtls-send, nothing anywhere: one line naming every place" \
    "$BIN/mtls-send" 127.0.0.1:1
fails_with 2 '^mtls-serve: time=[^ ]+ event=fatal level=error reason="server-cert\.pem: not found in MTLS_DIR \(unset\), \./certs, ~/\.config/mtls, /etc/mtls \(name it with -c FILE\)" exit=2$' \
    "mtls-serve, nothing anywhere: one log line naming every place" \
    "$BIN/mtls-serve" -l 127.0.0.1:0
fails_with 2 "^mtls-send: ca-cert\\.pem: not found in MTLS_DIR=$T/nowhere, \\./certs, " \
    "with MTLS_DIR set, the message shows its value" \
    env MTLS_DIR="$T/nowhere" "$BIN/mtls-send" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" 127.0.0.1:1
fails_with 2 '^mtls-send: client-key\.pem: not found .*\(name it with -k FILE\)$' \
    "the message names the flag for the file missing" \
    "$BIN/mtls-send" -c "$P/client-cert.pem" -C "$P/ca-cert.pem" 127.0.0.1:1

# $MTLS_DIR: a server and a client with no file flags at all.
export MTLS_DIR=$P
serve_start "$T/s1.log"
ok "MTLS_DIR: mtls-serve loads its files from there" \
    has_log "$T/s1.log" "event=certificate file=$P/server-cert.pem "
like "$(echo a | "$BIN/mtls-send" "localhost:$PORT")" ' a$' \
    "MTLS_DIR: mtls-send finds its files there"
unset MTLS_DIR

# ~/.config/mtls (XDG_CONFIG_HOME unset).
mkdir -p "$HOME/.config/mtls"
cp -p "$P"/ca-cert.pem "$P"/client-*.pem "$HOME/.config/mtls/"
like "$(echo b | "$BIN/mtls-send" "localhost:$PORT")" ' b$' \
    "the per-user directory is used when MTLS_DIR and ./certs have nothing"

# XDG_CONFIG_HOME wins over ~/.config: a broken CA file in ~/.config.
echo garbage >"$HOME/.config/mtls/ca-cert.pem"
mkdir -p "$T/xdg/mtls"
cp -p "$P"/ca-cert.pem "$P"/client-*.pem "$T/xdg/mtls/"
like "$(echo c | XDG_CONFIG_HOME=$T/xdg "$BIN/mtls-send" "localhost:$PORT")" \
    ' c$' 'XDG_CONFIG_HOME/mtls replaces ~/.config/mtls'
fails_with 2 "^mtls-send: $HOME/\\.config/mtls/ca-cert\\.pem: no certificate found" \
    "a file found is used, and a bad one is named with its full path" \
    "$BIN/mtls-send" "localhost:$PORT"

# ./certs comes before ~/.config/mtls.
mkdir -p "$T/empty/certs"
cp -p "$P"/ca-cert.pem "$T/empty/certs/"
like "$(echo d | "$BIN/mtls-send" "localhost:$PORT")" ' d$' \
    "./certs comes before ~/.config/mtls, each file on its own"

# MTLS_DIR comes before ./certs, and a flag before everything.
echo garbage >"$T/empty/certs/ca-cert.pem"
like "$(echo e | MTLS_DIR=$P "$BIN/mtls-send" "localhost:$PORT")" ' e$' \
    "MTLS_DIR comes before ./certs"
fails_with 2 "^mtls-send: certs/ca-cert\\.pem: no certificate found" \
    "without MTLS_DIR, ./certs is used" "$BIN/mtls-send" "localhost:$PORT"
fails_with 2 "^mtls-send: $T/garbage\\.pem: " "a flag always wins" \
    env MTLS_DIR="$P" "$BIN/mtls-send" -C "$T/garbage.pem" "localhost:$PORT"
serve_stop "$SPID"

# The man pages say so.
for m in mtls-serve mtls-send; do
	mandoc -Tascii "$TOP/man/$m.1" | col -b >"$T/$m.txt"
	ok "$m(1) documents MTLS_DIR under ENVIRONMENT" \
	    grep -Eq '^ +MTLS_DIR' "$T/$m.txt"
	ok "$m(1) names the places under FILES" \
	    grep -Eq '^ +/etc/mtls/' "$T/$m.txt"
done

done_testing
