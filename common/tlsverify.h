/*
 * tlsverify: GnuTLS's certificate verification status in plain words, and
 * the alert it calls for.  For common/tls*.c and mtls-certinfo's chain
 * checks, which work on GnuTLS's status themselves.
 */
#ifndef MTLS_TLSVERIFY_H
#define MTLS_TLSVERIFY_H

#include <stddef.h>

#include <gnutls/gnutls.h>

/*
 * The reasons in a gnutls_certificate_status_t, in plain words joined by
 * ", " ("unknown issuer, expired").  Returns buf.
 */
char	*verify_status_text(unsigned int status, char *buf, size_t n);

/*
 * The alert the TLS specification prescribes for a verification failure:
 * unknown_ca, certificate_expired, certificate_revoked,
 * unsupported_certificate or bad_certificate.
 */
gnutls_alert_description_t verify_status_alert(unsigned int status);

#endif
