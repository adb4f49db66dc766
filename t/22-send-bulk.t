#!/bin/bash
# mtls-send is full duplex: 1 000 000 lines and 50 MiB of random bytes
# through mtls-serve --raw come back whole, and replies to input that
# arrives slowly appear before the input ends.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
log=$T/raw.log
serve_start "$log" --raw -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"

seq 1000000 >"$T/lines"
send "$P" "localhost:$PORT" <"$T/lines" >"$T/lines.out"
is "$?" 0 "1 000 000 lines: exit 0"
is "$(sha256sum <"$T/lines.out")" "$(sha256sum <"$T/lines")" \
    "1 000 000 lines: checksum equal"
waitfor 5 has_log "$log" 'event=closed'
recs=$(sed -n 's/.*event=closed.* records_in=\([0-9]*\).*/\1/p' "$log")
diag "records mtls-send used for 1 000 000 lines: $recs"
ok "mtls-send batches lines into few records ($recs < 1000)" \
    test "${recs:-999999}" -lt 1000

head -c $((50 * 1024 * 1024)) /dev/urandom >"$T/rand"
send "$P" "localhost:$PORT" <"$T/rand" >"$T/rand.out"
is "$?" 0 "50 MiB: exit 0"
is "$(sha256sum <"$T/rand.out")" "$(sha256sum <"$T/rand")" \
    "50 MiB of random bytes come back byte-identical"
ok "the server saw both connections end with close_notify" \
    waitfor 5 has_log "$log" 'event=closed end=close_notify' 2

# Slow input: each line is written only after the reply to the one before
# has come back, so nothing can pass unless replies flow before the end of
# input.
mkfifo "$T/slow.in"
send "$P" "localhost:$PORT" <"$T/slow.in" >"$T/slow.out" &
sp=$!
track $sp
exec 7>"$T/slow.in"
for i in 1 2 3 4 5; do
	echo "slow $i" >&7
	waitfor 5 _has_lines "$T/slow.out" "$i"
	is "$(wc -l <"$T/slow.out" | tr -d ' ')" "$i" \
	    "slow input: reply $i arrives before more input is sent"
done
exec 7>&-
await $sp
is "$?" 0 "slow input: exit 0 after end of input"
is "$(cat "$T/slow.out")" "$(printf 'slow %s\n' 1 2 3 4 5)" \
    "slow input: every line came back once"
serve_stop "$SPID"

# Decorated echo: the same 1 000 000 lines come back decorated, in order.
serve_start "$T/deco.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"
send "$P" "localhost:$PORT" <"$T/lines" >"$T/deco.out"
is "$?" 0 "decorated 1 000 000 lines: exit 0"
is "$(cut -d' ' -f3- "$T/deco.out" | sha256sum)" "$(sha256sum <"$T/lines")" \
    "decorated 1 000 000 lines: every line back, in order"
serve_stop "$SPID"

done_testing
