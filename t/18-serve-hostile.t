#!/bin/bash
# mtls-serve against hostile and faulty peers, each load bounded in count
# and time, on loopback: 200 stalled half-open handshakes, a burst of 500
# connections against --max-conns 16, peers vanishing mid-handshake and
# mid-stream, a 1 GiB line without a newline, SIGHUP again and again under
# load.  Good clients are served throughout; nothing is left behind.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
S="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"
hostile() {
	python3 "$TOP/t/hostile.py" "$@"
}
good() {
	echo "good $1" | "$BIN/mtls-send" -C "$P/ca-cert.pem" \
	    -c "$P/client-cert.pem" -k "$P/client-key.pem" -t 10 \
	    "localhost:$PORT" >"$T/good.out" 2>"$T/good.err" &&
	    grep -q " good $1\$" "$T/good.out"
}
fds() {
	ls "/proc/$1/fd" | wc -l
}

# 200 stalled half-open handshakes, all let in (--max-startups 300: the
# default drops the oldest for newcomers, t/51-serve-attack.t).
# shellcheck disable=SC2086
serve_start "$T/stall.log" $S --handshake-timeout 5 -m 300 \
    --max-startups 300 -q
mkfifo "$T/stall.fifo"
hostile stall "$PORT" 200 60 >"$T/stall.fifo" &
hp=$!
track $hp
exec 7<"$T/stall.fifo"
read -r -t 90 line <&7
is "$line" ready "200 connections sent a partial ClientHello and stalled"
ok "meanwhile a good client is served normally" good stall
read -r -t 90 line <&7
exec 7<&-
await $hp
like "$line" '^closed=200 of 200 in [0-9.]+ s$' \
    "the handshake timeout closed all 200 ($line)"
ok "and each is logged as refused: timed out" \
    waitfor 10 has_log "$T/stall.log" 'event=refused .*reason="timed out"' 200
ok "no children left" waitfor 10 children_are "$SPID" = 0
serve_stop "$SPID"

# A burst of 500 against --max-conns 16 (all of them may be handshakes).
# shellcheck disable=SC2086
serve_start "$T/burst.log" $S -t 30 -m 16 --max-startups 16 -q
fd0=$(fds "$SPID")
# The burst holds its 500 connections open until told to close them
# (a line on its standard input), so the count below sees them all.
mkfifo "$T/burst.ctl"
hostile burst "$PORT" 500 <"$T/burst.ctl" >"$T/burst.out" &
bp=$!
track $bp
exec 7>"$T/burst.ctl"
max=0
samples=0
# peak: one sample of the child count; true once the burst is all open.
peak() {
	_n=$(children "$SPID") || return 1
	[ "$_n" -gt "$max" ] && max=$_n
	samples=$((samples + 1))
	has_log "$T/burst.out" '^opened='
}
ok "the burst opened its connections" waitfor 60 peak
like "$(cat "$T/burst.out")" '^opened=(1[7-9]|[2-9][0-9]|[1-9][0-9][0-9])$' \
    "more than 16 connections were open at once ($(cat "$T/burst.out"))"
# With all of them open, the server has its 16 children and no more.
ok "with the burst open the server holds 16 children" \
    waitfor 20 children_are "$SPID" = 16
peak
diag "most children seen in $samples samples: $max"
ok "the server never had more than 16 children ($max)" test "$max" -le 16
echo close >&7
exec 7>&-
await $bp
is "$?" 0 "the burst closed its connections"
ok "the excess was logged: the oldest handshakes dropped for newcomers" \
    has_log "$T/burst.log" 'event=dropped .*reason="max-startups \(16\)'
ok "all children end when the burst's clients leave" \
    waitfor 10 children_are "$SPID" = 0
# fds_back: the count is read anew at each call (a sanitizer build may
# hold a file of its own open for a moment).
fds_back() {
	[ "$(fds "$SPID")" = "$fd0" ]
}
ok "the server's open file count is back to $fd0" waitfor 10 fds_back
diag "open files now: $(fds "$SPID") ($(ls -l "/proc/$SPID/fd" | sed -n 's/.*-> //p' | sort | uniq -c | tr -s ' \n' ' '))"
ok "a good client is served after the burst" good burst
serve_stop "$SPID"

# Peers that vanish mid-handshake and mid-stream.
# shellcheck disable=SC2086
serve_start "$T/vanish.log" $S -t 5
hostile vanish-handshake "$PORT"
ok "mid-handshake: refused and logged" \
    waitfor 5 has_log "$T/vanish.log" 'event=refused'
hostile vanish-stream "$PORT" "$P/ca-cert.pem" "$P/client-cert.pem" \
    "$P/client-key.pem"
ok "mid-stream: logged as peer vanished" \
    waitfor 5 has_log "$T/vanish.log" 'event=closed end="peer vanished"'
ok "a good client is served next" good vanish
ok "no zombie children" waitfor 5 no_zombies "$SPID"
serve_stop "$SPID"

# A 1 GiB line without a newline, decorated: it all comes back, and the
# connection's memory stays that of a short one.  (Under AddressSanitizer
# freed memory waits in a quarantine, 256 MiB by default, which would
# count as RSS: a small one keeps the measure about our code.)
# shellcheck disable=SC2086
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4 \
    serve_start "$T/big.log" $S -t 30
ok "a short line first" good big
waitfor 5 has_log "$T/big.log" 'event=closed'
base=$(sed -n 's/.*event=closed .*max_rss_kb=\([0-9]*\).*/\1/p' "$T/big.log" | head -n 1)
head -c 1073741824 /dev/zero | tr '\0' 'x' |
    "$BIN/mtls-send" -C "$P/ca-cert.pem" -c "$P/client-cert.pem" \
    -k "$P/client-key.pem" "localhost:$PORT" | wc -c >"$T/big.count"
prefix=$(head -n 1 "$T/good.out" | cut -d' ' -f1-2 | wc -c)
is "$(cat "$T/big.count")" $((1073741824 + prefix + 1)) \
    "1 GiB line: every byte comes back, after one prefix, with a newline"
ok "its connection closed cleanly" \
    waitfor 10 has_log "$T/big.log" 'event=closed end=close_notify bytes_in=1073741824 ' 
big=$(sed -n 's/.*event=closed .*bytes_in=1073741824 .*max_rss_kb=\([0-9]*\).*/\1/p' "$T/big.log")
diag "peak RSS: short line ${base} KiB, 1 GiB line ${big} KiB"
ok "the 1 GiB line's connection used at most 16 MiB more than a short one" \
    test "${big:-999999999}" -le $((base + 16384))
serve_stop "$SPID"

# Sustained load: children are reaped as fast as they end (a server that
# only reaps when poll() is idle fills --max-conns with zombies within a
# second at a few hundred connections a second), and SIGTERM is heard
# while connections keep arriving.  On a busy machine a child that has
# said goodbye may take a while to be scheduled and exit, so -m leaves
# room for those beside the 8 clients.
# shellcheck disable=SC2086
serve_start "$T/load.log" $S -q -m 64
"$BIN/loadgen" -n 8 -t 3 127.0.0.1 "$PORT" "$P/ca-cert.pem" \
    "$P/client-cert.pem" "$P/client-key.pem" >"$T/lg.out"
like "$(cat "$T/lg.out")" ' failures=0 ' \
    "8 clients looping for 3 s against -m 64: no failures ($(cat "$T/lg.out"))"
ok "and no connection was refused for want of a slot" \
    test "$(count_log "$T/load.log" 'too many connections')" = 0
# The load lasts 60 s (the old server stopped only when it ended); the
# margin for the stop is wide for a busy machine or a sanitizer build.
"$BIN/loadgen" -n 8 -t 60 127.0.0.1 "$PORT" "$P/ca-cert.pem" \
    "$P/client-cert.pem" "$P/client-key.pem" >/dev/null &
lp=$!
track $lp
waitfor 10 children_are "$SPID" -gt 0
kill -TERM "$SPID"
ok "SIGTERM under load: the server stops while the load goes on" \
    waitfor 30 has_log "$T/load.log" 'event=stopped'
await "$SPID"
is "$?" 0 "and exits 0"
kill $lp
await $lp

# SIGHUP again and again while clients come and go.
# shellcheck disable=SC2086
serve_start "$T/hup.log" $S -t 10
(
	for i in $(seq 1 40); do
		echo "load $i" | "$BIN/mtls-send" -C "$P/ca-cert.pem" \
		    -c "$P/client-cert.pem" -k "$P/client-key.pem" -t 10 \
		    "localhost:$PORT" >/dev/null 2>&1 || echo "client $i failed: $?"
	done
) >"$T/load.out" &
lp=$!
track $lp
hups=0
while kill -0 $lp 2>/dev/null && [ $hups -lt 20 ]; do
	kill -HUP "$SPID"
	hups=$((hups + 1))
	waitfor 5 has_log "$T/hup.log" 'event=reloaded' "$hups"
done
await $lp
is "$(cat "$T/load.out")" "" "40 clients during $hups reloads: all served"
ok "every SIGHUP was a reload" test "$(count_log "$T/hup.log" 'event=reloaded')" = "$hups"
ok "no zombie or orphaned child" waitfor 5 children_are "$SPID" = 0
serve_stop "$SPID"
is "$?" 0 "SIGTERM: exit 0"

done_testing
