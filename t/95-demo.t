#!/bin/bash
# make demo's script: the whole flow works, and falls back to a free port
# when the one asked for is taken.
. "$(dirname "$0")/lib.sh"

P=$T/pki
export MTLS_BIN="$BIN" DEMO_CERTS="$P"
# The PKI is made by the demo itself when absent.
DEMO_PORT=0 "$TOP/t/demo.sh" >"$T/out" 2>&1
is "$?" 0 "the demo exits 0"
ok "the demo made its PKI" test -s "$P/ca-cert.pem"
for m in "Hello from mTLS client" "Testing mutual TLS authentication"; do
	like "$(cat "$T/out")" "Z 127\.0\.0\.1:[0-9]+ $m\$" "reply: $m"
done
like "$(cat "$T/out")" 'mtls-send: TLS1\.3, TLS_AES' "mtls-send -v details shown"
like "$(cat "$T/out")" 'event=closed end=close_notify .*lines=4 ' \
    "the server's log is shown"

# Port taken: the demo says so and uses another.
serve_start "$T/busy.log" -c "$P/server-cert.pem" -k "$P/server-key.pem" \
    -C "$P/ca-cert.pem"
DEMO_PORT=$PORT "$TOP/t/demo.sh" >"$T/out2" 2>&1
is "$?" 0 "with its port taken, the demo still exits 0"
like "$(cat "$T/out2")" "port $PORT is taken" "and says the port was taken"
serve_stop "$SPID"

done_testing
