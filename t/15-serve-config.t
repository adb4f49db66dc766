#!/bin/bash
# mtls-serve: every bad file or option is one line on stderr naming it,
# with exit status 2; a port it cannot bind is exit status 1.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
O=$T/other
mkpki "$O"
S="$BIN/mtls-serve -l 127.0.0.1:0"
good="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"
printf 'not a certificate\n' >"$T/garbage.pem"
: >"$T/empty.pem"
head -c 300 "$P/server-cert.pem" >"$T/truncated.pem"
mkdir "$T/dir.pem"

# shellcheck disable=SC2086
{
fails_with 2 "$T/missing.pem: No such file or directory" \
    "missing certificate file" $S $good -c "$T/missing.pem"
fails_with 2 "$T/missing.pem: No such file or directory" \
    "missing key file" $S $good -k "$T/missing.pem"
fails_with 2 "$T/missing.pem: No such file or directory" \
    "missing CA file" $S $good -C "$T/missing.pem"
fails_with 2 "$T/dir.pem: Is a directory" \
    "a directory as certificate" $S $good -c "$T/dir.pem"
fails_with 2 "$T/garbage.pem: no certificate found" \
    "garbage certificate file" $S $good -c "$T/garbage.pem"
fails_with 2 "$T/empty.pem: empty file" \
    "empty certificate file" $S $good -c "$T/empty.pem"
fails_with 2 "$T/truncated.pem: Base64 unexpected header" \
    "truncated certificate file" $S $good -c "$T/truncated.pem"
fails_with 2 "$T/garbage.pem: no private key found" \
    "garbage key file" $S $good -k "$T/garbage.pem"
fails_with 2 "$P/server-cert.pem: no private key found" \
    "a certificate given as the key" $S $good -k "$P/server-cert.pem"
fails_with 2 "$O/server-key.pem: key does not match certificate $P/server-cert.pem" \
    "key of another pair" $S $good -k "$O/server-key.pem"
fails_with 2 "$T/garbage.pem: no certificate found" \
    "garbage CA file" $S $good -C "$T/garbage.pem"
fails_with 2 "$T/empty.pem: empty file" \
    "empty CA file" $S $good -C "$T/empty.pem"
fails_with 2 'priority "NORMAL:\+BOGUS".*BOGUS' \
    "bad priority string" $S $good -p 'NORMAL:+BOGUS'
fails_with 2 '^mtls-serve: --listen .*bad port "99999"' \
    "bad port" $S $good -l 127.0.0.1:99999
fails_with 2 '^mtls-serve: --listen .*missing' \
    "bad IPv6 literal" $S $good -l '[::1:9443'
fails_with 2 '^mtls-serve: --timeout: "soon" is not a number' \
    "bad --timeout" $S $good -t soon
fails_with 2 '^mtls-serve: --max-conns: "0" is not a number' \
    "bad --max-conns" $S $good -m 0
fails_with 2 '^mtls-serve: unexpected argument "extra"' \
    "a stray argument" $S $good extra
}
"$BIN/mtls-serve" --bogus >"$T/o" 2>"$T/e"
is "$?" 2 "an unknown option is exit status 2"
like "$(cat "$T/e")" '^usage: mtls-serve ' "and prints the usage"

# A port already in use is a run-time failure, not a usage error.
log=$T/serve.log
serve_start "$log" $good
# shellcheck disable=SC2086
fails_with 1 "^mtls-serve: cannot listen on 127.0.0.1:$PORT: .*Address already in use" \
    "a port in use is exit status 1" "$BIN/mtls-serve" $good \
    -l "127.0.0.1:$PORT"
serve_stop "$SPID"

# -h and -V.
"$BIN/mtls-serve" --help >"$T/help" 2>&1
is "$?" 0 "--help exits 0"
like "$(head -n 1 "$T/help")" '^usage: mtls-serve' "--help starts with usage"
like "$("$BIN/mtls-serve" -V)" '^mtls-serve [0-9]+\.[0-9]+' "-V shows a version"

done_testing
