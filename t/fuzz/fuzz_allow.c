/*
 * Fuzz target: mtls-serve's --allow rule parser, and matching the parsed
 * rule against a certificate made from the same input when it is one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "tlsx509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct allow_rule r;
	struct x509_facts f;
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
	    tlsx509_parse(nul + 1, size - n - 1, &f, err, sizeof(err)) == 0) {
		allow_match(&r, 1, &f);
		allow_why_not(&r, 1, &f, err, sizeof(err));
		tlsx509_free(&f);
	}
	free(s);
	return 0;
}
