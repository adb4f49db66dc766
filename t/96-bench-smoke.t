#!/bin/bash
# bench/run works: a few seconds of every measure (--smoke), no timing
# assertions; only that it runs, starts and stops every server it needs,
# checks the peers do real mTLS, and writes every table.
. "$(dirname "$0")/lib.sh"

MTLS_BIN=$BIN "$TOP/bench/run" --smoke --out "$T/RESULTS.md" >"$T/out" 2>&1
st=$?
is "$st" 0 "bench/run --smoke exits 0"
[ "$st" = 0 ] || diag "$(tail -n 20 "$T/out")"
for h in "The limit" "1. Full mTLS handshakes" "2. Resumed handshakes" \
    "3. Bulk echo" "4. One-shot latency" "5. Memory" "Targets"; do
	ok "RESULTS has the table: $h" grep -q "^## .*$h" "$T/RESULTS.md"
done
ok "mtls and every peer ran the handshake load" \
    test "$(grep -cE '^\| (mtls|gnutls-serv|s_server|socat) \| 1 \| [0-9.]+ \|' "$T/RESULTS.md")" = 4
ok "the bulk echo came back intact every time" \
    test "$(grep -c '| ok |$' "$T/RESULTS.md")" = 4
wd=$(sed -n 's/^bench: working in //p' "$T/out")
like "$wd" '^/.*/mtls-bench\.' "bench/run says where it works"
# Its servers' command lines name files in its directory.
ok "no server of bench/run is left running" \
    test "$(pgrep -f -- "${wd:-/nonexistent}/" | wc -l)" = 0
ok "no process it started is left behind" test -z "$(strays)"
ok "bench/run's own temporary directory is gone" test -n "$wd" -a ! -e "$wd"

done_testing
