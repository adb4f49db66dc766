#!/bin/bash
# mtls-serve with bulk data: --raw is byte-exact for 100 000 lines and
# 20 MiB of random bytes; decorated replies to a burst of lines go out in
# few, large records.  The client is Python's ssl (OpenSSL), full duplex.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
C="--ca $P/ca-cert.pem --cert $P/client-cert.pem --key $P/client-key.pem"

log=$T/raw.log
serve_start "$log" --raw -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"

seq -f 'line %06g of the test' 100000 >"$T/lines"
# shellcheck disable=SC2086
pyclient 127.0.0.1 "$PORT" $C --expect-bytes "$(wc -c <"$T/lines")" \
    <"$T/lines" >"$T/lines.out"
is "$?" 0 "raw: 100 000 lines sent and received"
is "$(sha256sum <"$T/lines.out")" "$(sha256sum <"$T/lines")" \
    "raw: 100 000 lines come back byte-identical"

head -c $((20 * 1024 * 1024)) /dev/urandom >"$T/rand"
# shellcheck disable=SC2086
pyclient 127.0.0.1 "$PORT" $C --expect-bytes $((20 * 1024 * 1024)) \
    <"$T/rand" >"$T/rand.out"
is "$?" 0 "raw: 20 MiB sent and received"
is "$(sha256sum <"$T/rand.out")" "$(sha256sum <"$T/rand")" \
    "raw: 20 MiB of random bytes come back byte-identical"
ok "raw: both connections closed cleanly" \
    waitfor 5 has_log "$log" 'event=closed end=close_notify' 2
like "$(grep 'event=closed' "$log" | tail -n 1)" \
    "bytes_in=$((20 * 1024 * 1024)) bytes_out=$((20 * 1024 * 1024)) " \
    "raw: the log counts every byte each way"
serve_stop "$SPID"

# Decorated: 100 000 lines in one burst; the replies must not cost a
# record each (the server counts the records it sends).
log=$T/deco.log
serve_start "$log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"
# shellcheck disable=SC2086
pyclient 127.0.0.1 "$PORT" $C --expect-lines 100000 \
    <"$T/lines" >"$T/deco.out"
is "$?" 0 "decorated: 100 000 replies received"
is "$(cut -d' ' -f3- "$T/deco.out" | sha256sum)" "$(sha256sum <"$T/lines")" \
    "decorated: every line comes back, in order, unchanged"
is "$(cut -d' ' -f2 "$T/deco.out" | sort -u | wc -l)" 1 \
    "decorated: one client address throughout"
waitfor 5 has_log "$log" 'event=closed'
recs=$(sed -n 's/.*event=closed.* records_out=\([0-9]*\).*/\1/p' "$log")
diag "records sent for 100000 replies: $recs"
ok "decorated: replies batched into few records ($recs < 1000)" \
    test "${recs:-999999}" -lt 1000
like "$(grep 'event=closed' "$log")" 'lines=100000 ' \
    "decorated: the log counts 100 000 lines"
serve_stop "$SPID"

done_testing
