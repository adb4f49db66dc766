#!/bin/bash
# make install honours DESTDIR and PREFIX, installs programs and man
# pages that work from there, and make uninstall removes them.
. "$(dirname "$0")/lib.sh"

D=$T/root
make -s -C "$TOP" B="$(basename "$BIN")" install DESTDIR="$D" PREFIX=/usr \
    >"$T/install.out" 2>&1
is "$?" 0 "make install DESTDIR=... PREFIX=/usr: exit 0"
for p in mtls-serve mtls-send mtls-certinfo; do
	ok "$p is installed executable" test -x "$D/usr/bin/$p"
	like "$("$D/usr/bin/$p" -V)" "^$p [0-9]" "the installed $p runs"
	ok "$p.1 is installed" test -f "$D/usr/share/man/man1/$p.1"
	like "$(mandoc -Tascii "$D/usr/share/man/man1/$p.1" | head -n 1)" \
	    "$(echo "$p" | tr a-z A-Z)\\(1\\)" "and renders"
done
make -s -C "$TOP" B="$(basename "$BIN")" uninstall DESTDIR="$D" PREFIX=/usr \
    >/dev/null 2>&1
is "$?" 0 "make uninstall: exit 0"
is "$(find "$D" -type f | wc -l)" 0 "nothing is left"

done_testing
