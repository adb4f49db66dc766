#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "tlsverify.h"

static const struct {
	unsigned int	 flag;
	const char	*text;
} reasons[] = {
	{ GNUTLS_CERT_SIGNER_NOT_FOUND, "unknown issuer (not signed by a "
	    "trusted CA)" },
	{ GNUTLS_CERT_EXPIRED, "expired" },
	{ GNUTLS_CERT_NOT_ACTIVATED, "not yet valid" },
	{ GNUTLS_CERT_REVOKED, "revoked" },
	{ GNUTLS_CERT_SIGNATURE_FAILURE, "bad signature" },
	{ GNUTLS_CERT_SIGNER_NOT_CA, "issuer is not a CA" },
	{ GNUTLS_CERT_INSECURE_ALGORITHM, "insecure signature algorithm" },
	{ GNUTLS_CERT_UNEXPECTED_OWNER, "name mismatch" },
	{ GNUTLS_CERT_PURPOSE_MISMATCH, "not valid for this purpose "
	    "(extended key usage)" },
	{ GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, "issuer constraints "
	    "violated (name constraints or path length)" },
	{ GNUTLS_CERT_MISMATCH, "certificate differs from the expected one" },
	{ GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED, "revocation data too old" },
	{ GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE, "revocation data "
	    "issued in the future" },
	{ GNUTLS_CERT_MISSING_OCSP_STATUS, "no OCSP status stapled" },
	{ GNUTLS_CERT_INVALID_OCSP_STATUS, "invalid OCSP status" },
	{ GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS, "unknown critical extension" },
};

char *
verify_status_text(unsigned int status, char *buf, size_t n)
{
	size_t	 i, used = 0;
	unsigned int seen = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if ((status & reasons[i].flag) == 0 ||
		    (seen & reasons[i].flag) != 0)
			continue;
		seen |= reasons[i].flag;
		used += (size_t)snprintf(buf + used, used < n ? n - used : 0,
		    "%s%s", used ? ", " : "", reasons[i].text);
	}
	if (buf[0] == '\0')
		snprintf(buf, n, (status & GNUTLS_CERT_INVALID) ?
		    "invalid certificate" : "valid");
	return buf;
}

gnutls_alert_description_t
verify_status_alert(unsigned int status)
{
	/* RFC 8446 section 6.2: the most specific alert that applies. */
	if (status & GNUTLS_CERT_REVOKED)
		return GNUTLS_A_CERTIFICATE_REVOKED;
	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		return GNUTLS_A_CERTIFICATE_EXPIRED;
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		return GNUTLS_A_UNKNOWN_CA;
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return GNUTLS_A_UNSUPPORTED_CERTIFICATE;
	return GNUTLS_A_BAD_CERTIFICATE;
}
