#!/bin/bash
# Two commands on a fresh machine: the package list is in one place
# (mk/deps, `make deps`, which .ci/run calls), and the build and the tests
# check first, printing the one apt-get line that fixes what is missing
# instead of a cascade of errors.
. "$(dirname "$0")/lib.sh"

D=$TOP/mk/deps
for p in libgnutls28-dev libtasn1-6-dev libseccomp-dev gnutls-bin openssl socat softhsm2 systemd; do
	ok "mk/deps lists $p" grep -qx -- "$p" <("$D" list)
done
is "$("$D" list | sort | uniq -d)" "" "each package once"
ok ".ci/run installs through make deps" grep -q '^make deps' "$TOP/.ci/run"
unlike "$(grep -v '^#' "$TOP/.ci/run")" 'libgnutls28-dev' \
    ".ci/run has no package list of its own"

# A machine without the GnuTLS headers: make says so in one line, and
# compiles nothing.
make -s -C "$TOP" B=build-deps-test PKG_CONFIG=false all >"$T/b.out" 2>&1
is "$?" 2 "make without the libraries: exit 2"
is "$(wc -l <"$T/b.out")" 1 "one line"
like "$(cat "$T/b.out")" 'mtls needs the GnuTLS headers, the libtasn1 headers, the libseccomp headers; install with: apt-get install libgnutls28-dev libtasn1-6-dev libseccomp-dev\.' \
    "naming the apt-get command that fixes it"
ok "and nothing was compiled" test ! -e "$TOP/build-deps-test"

# A machine with the compiler and libraries but none of the tests' tools:
# make check names them all, in one apt-get line.
F=$T/bin
mkdir -p "$F"
for c in sh make cc gcc pkg-config awk cut tr id cat; do
	ln -s "$(command -v "$c")" "$F/$c"
done
env PATH="$F" make -s -C "$TOP" B="$(basename "$BIN")" -n check \
    >"$T/c.out" 2>&1
is "$?" 2 "make check without the tests' tools: exit 2"
is "$(wc -l <"$T/c.out")" 1 "one line"
like "$(cat "$T/c.out")" 'install with: apt-get install gnutls-bin openssl mandoc perl python3 procps softhsm2 socat haproxy iproute2 util-linux systemd file\.' \
    "naming every package missing, once"
unlike "$(cat "$T/c.out")" 'libgnutls28-dev|build-essential' \
    "and not those that are there"
env PATH="$F" make -s -C "$TOP" B="$(basename "$BIN")" -n all >"$T/a.out" 2>&1
is "$?" 0 "while a plain build needs none of them"
env PATH="$F" make -s -C "$TOP" -n certs CERTS="$T/c" >"$T/d.out" 2>&1
like "$(cat "$T/d.out")" 'install with: apt-get install gnutls-bin\.  Stop\.$' \
    "make certs needs certtool alone"

done_testing
