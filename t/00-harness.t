#!/bin/bash
# shellcheck disable=SC2016 # children's bodies are shell text, not to expand here
# The harness itself (t/lib.sh): a test file that hangs is failed by its
# time limit with what it was running; a sanitizer report, a UBSan line
# in any file the test keeps, or a connection process that died fails the
# file; a server started again with the same log file is not taken as
# ready from the old server's lines.
. "$(dirname "$0")/lib.sh"

# child NAME BODY: a test file made of lib.sh and BODY, run as prove would
# (with a time limit of $LIMIT s); its output in $T/NAME.out, its exit
# status in $?.
# The children's files hold sanitizer words on purpose: they live outside
# $T, whose files this test's own last check reads.
K=$(mktemp -d "${TMPDIR:-/tmp}/mtls-harness.XXXXXX")
child() {
	{
		printf '#!/bin/bash\n. "%s/t/lib.sh"\n' "$TOP"
		printf '%s\n' "$2"
	} >"$K/$1.t"
	chmod +x "$K/$1.t"
	MTLS_TEST_TIMEOUT=$LIMIT "$K/$1.t" >"$K/$1.out" 2>"$K/$1.err" </dev/null
}

LIMIT=2
child hang 'ok "first" true
mkfifo "$T/f"
cat "$T/f"
ok "never reached" true
done_testing'
is "$?" 1 "a file that hangs fails"
like "$(cat "$K/hang.out")" '^not ok 2 - hang\.t: time limit of 2 s reached, running `cat "\$T/f"' \
    "and says what it was running"
like "$(tail -n 1 "$K/hang.out")" '^1\.\.2$' "with a plan that counts the failure"

child waiting 'sleep 60 &
track $!
waitfor 60 false'
is "$?" 1 "a file stuck in waitfor fails"
like "$(cat "$K/waiting.out")" 'time limit of 2 s reached.*waiting for false' \
    "and says what it was waiting for"
is "$(strays)" "" "nothing the hung files started is left running"

LIMIT=60
child ubsan 'echo "x.c:1:2: runtime error: signed integer overflow" >"$T/some.err"
ok "a passing test" true
done_testing'
is "$?" 1 "a UBSan report in a file the test kept fails it"
like "$(cat "$K/ubsan.out")" '^not ok 2 - no sanitizer report' \
    "as its last test"

child asan 'echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow" >"$T/san/asan.123"
done_testing'
is "$?" 1 "an ASan report file fails the test"

child died 'echo "mtls-serve: conn=1 event=child-died pid=9 signal=6" >"$T/s.log"
done_testing'
is "$?" 1 "a server log with event=child-died fails the test"

child late 'ok "a passing test" true
done_testing
echo "==1==ERROR: LeakSanitizer: detected memory leaks" >"$T/san/asan.9"'
is "$?" 1 "a report written after done_testing still fails the file"

child clean 'ok "a passing test" true
done_testing'
is "$?" 0 "a clean file passes"

# The same log file for two servers in turn: each start waits for its
# own server's line.
P=$T/pki
mkpki "$P"
S="-c $P/server-cert.pem -k $P/server-key.pem -C $P/ca-cert.pem"
# shellcheck disable=SC2086
serve_start "$T/same.log" $S
first=$SPID
serve_stop "$SPID"
# shellcheck disable=SC2086
serve_start "$T/same.log" $S
ok "the second start is another server" test "$SPID" != "$first"
ok "its port is its own, from its own line" \
    has_log "$T/same.log" "event=listening addr=127\\.0\\.0\\.1:$PORT pid=$SPID\$"
is "$(count_log "$T/same.log" 'event=listening')" 1 \
    "the log holds this server's lines only"
rm -rf "$K"
echo same | send "$P" "localhost:$PORT" >"$T/same.out"
like "$(cat "$T/same.out")" ' same$' "and it serves"
serve_stop "$SPID"
is "$?" 0 "SIGTERM: exit 0"

done_testing
