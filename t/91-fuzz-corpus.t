#!/bin/bash
# Every fuzz target runs over its seed corpus (t/fuzz/corpus/NAME) through
# the replay driver; under `make check SANITIZE=1` with the sanitizers.
# `make fuzz` is what explores beyond the corpus, with libFuzzer.
. "$(dirname "$0")/lib.sh"

for t in certinfo addr allow proxyhdr keymsg; do
	ok "fuzz-$t is built" test -x "$BIN/fuzz-$t"
	n=$(find "$TOP/t/fuzz/corpus/$t" -type f | wc -l)
	"$BIN/fuzz-$t" "$TOP/t/fuzz/corpus/$t"/* >"$T/out" 2>"$T/err"
	st=$?
	is "$st" 0 "fuzz-$t replays its corpus without a crash"
	[ "$st" = 0 ] || diag "$(head -n 20 "$T/err")"
	is "$(cat "$T/out")" "replayed $n inputs" "fuzz-$t: all $n inputs replayed"
done

done_testing
