#!/bin/bash
# Issue 14's TLS boundary, read from the source: only common/tls* speak
# GnuTLS.  The programs (and the rest of common/) see plain C through
# tlsconf.h, tlssess.h, tlsx509.h, ...: no GnuTLS header, type, call or
# error code, and the private headers stay private.
. "$(dirname "$0")/lib.sh"

cd "$TOP" || exit 1
# The program code: every C file outside common/tls*.
prog=()
for f in common/*.[ch] mtls-*/*.[ch]; do
	case $f in common/tls*) ;; *) prog+=("$f") ;; esac
done
# The boundary's public headers: all but the three private ones.
pub=()
for f in common/tls*.h; do
	case $f in
	common/tls_int.h | common/tlsfile.h | common/tlsverify.h) ;;
	*) pub+=("$f") ;;
	esac
done

is "$(grep -l '#include <gnutls/' "${prog[@]}")" "" \
    "no program file includes a GnuTLS header"
is "$(grep -l '#include <gnutls/' "${pub[@]}")" "" \
    "nor does a public header of the boundary"
# Code, not comments: a call, a type or a constant by GnuTLS's names.
# shellcheck disable=SC2016
is "$(perl -ne 's{/\*.*?\*/}{}g; print "$ARGV:$.: $_"
    if !m{^\s*(\*|/\*)} && /\bgnutls_\w+\s*[(;*]|\bgnutls_\w+_t\b|\bGNUTLS_\w+/;
    close ARGV if eof' "${prog[@]}")" "" \
    "no GnuTLS call, type or constant outside common/tls*"
is "$(grep -lE '#include "(tls_int|tlsfile|tlsverify)\.h"' "${prog[@]}" \
    "${pub[@]}")" "" \
    "tls_int.h, tlsfile.h and tlsverify.h are for common/tls*.c alone"
is "$(grep -n 'struct tlsconf {\|struct tlssess {' common/*.h | cut -d: -f1 |
    sort -u)" "common/tls_int.h" \
    "struct tlsconf and struct tlssess are defined in tls_int.h only"
is "$(grep -l '#include "tlssess.h"' common/tlsconf.h; \
    grep -l '#include "tlsconf.h"' common/tlssess.h)" "" \
    "tlsconf.h and tlssess.h do not include each other"
done_testing
