#!/bin/bash
# make install honours DESTDIR and PREFIX, installs programs, man pages,
# systemd units and mkpki that work from there; install-strip strips; make
# uninstall removes it all.  The units pass systemd-analyze verify.
. "$(dirname "$0")/lib.sh"

mk() {
	make -s -C "$TOP" B="$(basename "$BIN")" "$@"
}

D=$T/root
mk install DESTDIR="$D" PREFIX=/usr >"$T/install.out" 2>&1
is "$?" 0 "make install DESTDIR=... PREFIX=/usr: exit 0"
for p in mtls-serve mtls-send mtls-certinfo; do
	ok "$p is installed executable" test -x "$D/usr/bin/$p"
	like "$("$D/usr/bin/$p" -V)" "^$p [0-9]" "the installed $p runs"
	ok "$p.1 is installed" test -f "$D/usr/share/man/man1/$p.1"
	like "$(mandoc -Tascii "$D/usr/share/man/man1/$p.1" | head -n 1)" \
	    "$(echo "$p" | tr '[:lower:]' '[:upper:]')\\(1\\)" "and renders"
done
U=$D/usr/lib/systemd/system
for u in mtls-serve.service mtls-serve-inetd.socket mtls-serve-inetd@.service; do
	ok "$u is installed" test -f "$U/$u"
done
like "$(grep '^ExecStart=' "$U/mtls-serve.service")" '^ExecStart=/usr/bin/mtls-serve ' \
    "the unit runs the program where PREFIX put it"
ok "the inetd unit logs to the journal, never the socket" \
    grep -qx 'StandardError=journal' "$U/mtls-serve-inetd@.service"
ok "the socket unit accepts (Accept=yes)" \
    grep -qx 'Accept=yes' "$U/mtls-serve-inetd.socket"
for k in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
    DynamicUser=yes CapabilityBoundingSet=; do
	ok "both services are hardened: $k" \
	    test "$(grep -lx "$k" "$U/mtls-serve.service" "$U/mtls-serve-inetd@.service" | wc -l)" = 2
done
ok "mkpki is installed executable" test -x "$D/usr/share/mtls/mkpki"
"$D/usr/share/mtls/mkpki" -s "db1.example" -c alice "$T/inst-pki" 2>/dev/null
is "$?" 0 "the installed mkpki makes a PKI with its installed templates"

mk uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
is "$?" 0 "make uninstall: exit 0"
is "$(find "$D" -type f | wc -l)" 0 "nothing is left"

# install-strip: the same programs, without their symbol tables.
mk install-strip DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
is "$?" 0 "make install-strip: exit 0"
like "$(file -b "$D/usr/bin/mtls-serve")" ', stripped' "the programs are stripped"
like "$("$D/usr/bin/mtls-send" -V)" '^mtls-send [0-9]' "and still run"
unlike "$(file -b "$BIN/mtls-serve")" ', stripped' "the build tree's are not"
mk uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1

# The units as systemd reads them, with the programs really there.
I=$T/inst
mk install PREFIX="$I" >/dev/null 2>&1
(cd "$I/lib/systemd/system" && systemd-analyze verify --man=no \
    mtls-serve.service mtls-serve-inetd.socket mtls-serve-inetd@.service) \
    >"$T/verify.out" 2>&1
is "$?" 0 "systemd-analyze verify: exit 0"
is "$(cat "$T/verify.out")" "" "and no complaint"

# The installed programs, run from / with the user's own directory.
export HOME=$T/home
unset MTLS_DIR XDG_CONFIG_HOME
"$I/share/mtls/mkpki" "$HOME/.config/mtls" 2>/dev/null
chmod 600 "$HOME/.config/mtls"/*-key.pem
cd / || exit 1
BIN=$I/bin serve_start "$T/inst.log"
like "$(echo installed | "$I/bin/mtls-send" "localhost:$PORT")" ' installed$' \
    "installed mtls-serve and mtls-send work from / with ~/.config/mtls"
serve_stop "$SPID"

done_testing
