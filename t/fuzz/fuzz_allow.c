/*
 * Fuzz target: mtls-serve's --allow rule parser, and matching the parsed
 * rule against a certificate made from the same input when it is one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "allow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct allow_rule r;
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	const uint8_t *nul;
	char	 err[512], *s;
	size_t	 n;

	/* The rule is the text before the first NUL; a DER cert follows. */
	nul = memchr(data, 0, size);
	n = nul ? (size_t)(nul - data) : size;
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, data, n);
	s[n] = '\0';
	if (allow_parse(s, &r, err, sizeof(err)) == 0 && nul != NULL &&
	    gnutls_x509_crt_init(&crt) == 0) {
		d.data = (unsigned char *)nul + 1;
		d.size = (unsigned int)(size - n - 1);
		if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0)
			allow_match(&r, 1, crt);
		gnutls_x509_crt_deinit(crt);
	}
	free(s);
	return 0;
}
