#!/bin/bash
# mtls-certinfo on malformed and hostile input: exit 2 and one clear line
# naming the file and what is wrong, never a crash (the sanitizer build
# runs this too); a large bundle is fine.
. "$(dirname "$0")/lib.sh"

P=$T/pki
mkpki "$P"
cert=$P/server-cert.pem
openssl x509 -in "$cert" -outform DER -out "$T/c.der"
size=$(wc -c <"$T/c.der")

: >"$T/empty"
# A character that is not base64 on line 5 of the PEM.
sed '5s/^./!/' "$cert" >"$T/badb64.pem"
head -n 4 "$cert" >"$T/noend.pem"
head -c $((size - 20)) "$T/c.der" >"$T/truncated.der"
# The outer SEQUENCE claims 0x7fff bytes: past the end of the data.
python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[2] = 0x7f; d[3] = 0xff; open(sys.argv[2], "wb").write(d)' \
    "$T/c.der" "$T/longlen.der"
head -c 4096 /dev/urandom | tr '\060' '\061' >"$T/random"
printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' \
    >"$T/notder.pem"
printf 'just some text\nwith no certificate\n' >"$T/text"
# Deep nesting: 200 SEQUENCEs inside each other.
python3 -c '
import sys
d = b""
for i in range(200):
    d = b"\x30" + (bytes([len(d)]) if len(d) < 128 else b"\x82" + len(d).to_bytes(2, "big")) + d
sys.stdout.buffer.write(d)' >"$T/deep.der"

F="$BIN/mtls-certinfo"
fails_with 2 "$T/empty: empty input: no certificate found" \
    "empty file" $F "$T/empty"
fails_with 2 "$T/badb64.pem: bad base64 at line 5\$" \
    "PEM with bad base64: the line is named" $F "$T/badb64.pem"
fails_with 2 "$T/noend.pem: truncated PEM: no END line for the BEGIN at line 1" \
    "PEM without its END line" $F "$T/noend.pem"
fails_with 2 "$T/truncated.der: truncated DER: the length at offset 0 points past the end" \
    "truncated DER" $F "$T/truncated.der"
fails_with 2 "$T/longlen.der: truncated DER: the length at offset 0 points past the end" \
    "a DER length pointing past the end" $F "$T/longlen.der"
fails_with 2 "$T/random: no certificate found \(neither PEM nor DER\)\$" \
    "random bytes" $F "$T/random"
fails_with 2 "$T/notder.pem: bad DER in the block at line 1\$" \
    "a PEM block that is not a certificate" $F "$T/notder.pem"
fails_with 2 "$T/text: no certificate found" "plain text" $F "$T/text"
notcert="no certificate found \(not PEM, a DER certificate, PKCS#7 or PKCS#12\)\$"
fails_with 2 "$T/deep.der: $notcert" "200 nested SEQUENCEs" $F "$T/deep.der"
fails_with 2 "$T/deep.der: $notcert" "200 nested SEQUENCEs, --asn1" \
    $F --asn1 "$T/deep.der"
fails_with 2 "$T/missing: No such file or directory" "a missing file" \
    $F "$T/missing"
fails_with 2 '\(stdin\): empty input' "empty standard input" $F -
$F --bogus >/dev/null 2>"$T/bogus.err"
is "$?" 2 "an unknown option: exit 2"
is "$(head -n 1 "$T/bogus.err")" "mtls-certinfo: unknown option --bogus" \
    "an unknown option: named, then the usage"
fails_with 2 '--expires-within: "soon" is not a number' "a bad number" \
    $F --expires-within soon "$cert"
fails_with 2 '--purpose: "both" is neither server nor client' "a bad purpose" \
    $F -C "$P/ca-cert.pem" --purpose both "$cert"
fails_with 2 '-c is for --connect' "-c without --connect" \
    $F -c "$cert" "$cert"

# JSON stays valid when a field holds hostile bytes: a subject with a
# quote, a backslash, a newline, a control character and invalid UTF-8.
python3 - "$T/evil.tmpl" <<'PY'
import sys
open(sys.argv[1], "wb").write(b'cn = "evil\\" \\\\ name"\norganization = "o\\x01\\xff\\xfe"\nexpiration_days = 3\n')
PY
certtool --generate-privkey --key-type=ecdsa --no-text --outfile "$T/evil-key.pem" 2>/dev/null
certtool --generate-self-signed --template "$T/evil.tmpl" \
    --load-privkey "$T/evil-key.pem" --outfile "$T/evil.pem" 2>/dev/null
if [ -s "$T/evil.pem" ]; then
	$F --json "$T/evil.pem" >"$T/evil.json"
	ok "--json is valid for a hostile subject" \
	    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/evil.json"
else
	ok "certtool made the hostile certificate" false
fi

# Control characters in a subject never reach the terminal raw.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/esc-key.pem" -out "$T/esc.pem" -days 2 \
    -subj "/CN=$(printf 'esc\033[2Jcleared\nnext')" 2>/dev/null
$F "$T/esc.pem" >"$T/esc.out"
is "$?" 0 "a subject with control characters: exit 0"
ok "no raw control character in the text output" \
    test "$(tr -dc '\001-\010\013-\037\177' <"$T/esc.out" | wc -c)" = 0
like "$(grep 'Subject:' "$T/esc.out")" 'CN=esc\\x1b\[2Jcleared\\x0anext' \
    "they are shown as \\xHH"

# 100 certificates in one file: all shown, PEM and DER alike.
for _ in $(seq 100); do cat "$cert"; done >"$T/100.pem"
for _ in $(seq 100); do cat "$T/c.der"; done >"$T/100.der"
$F "$T/100.pem" >"$T/100.out"
is "$?" 0 "100 concatenated PEM certificates: exit 0"
is "$(grep -c '^Certificate #' "$T/100.out")" 100 "and all 100 are shown"
$F --json "$T/100.der" >"$T/100.json"
is "$?" 0 "100 concatenated DER certificates: exit 0"
is "$(jq_py "$T/100.json" 'len(d["certificates"])')" 100 "and all 100 are read"

done_testing
