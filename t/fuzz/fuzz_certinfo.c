/*
 * Fuzz target: everything mtls-certinfo does with untrusted input bytes:
 * format detection and loading (PEM, DER, PKCS#7, PKCS#12), the facts,
 * the JSON printer, and the ASN.1 dump of each certificate and of the raw
 * input itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asn1dump.h"
#include "show.h"
#include "tlsfacts.h"
#include "tlsload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certlist l;
	struct report r;
	unsigned char *der;
	size_t	 len;
	char	 err[512];
	unsigned int i;
	FILE	*null;

	if ((null = fopen("/dev/null", "w")) == NULL)
		return 0;
	asn1dump(null, data, size, err, sizeof(err));
	memset(&l, 0, sizeof(l));
	if (tlsload_data(&l, data, size, "fuzz", "", err, sizeof(err)) == 0) {
		memset(&r, 0, sizeof(r));
		r.certs = &l;
		r.expires_within = -1;
		r.now = 1700000000;
		r.facts = calloc(l.n ? l.n : 1, sizeof(*r.facts));
		for (i = 0; r.facts != NULL && i < l.n; i++)
			tlsfacts_get(&l, i, r.now, &r.facts[i]);
		if (r.facts != NULL) {
			show_json(null, &r);
			show_text(null, &r);
		}
		for (i = 0; r.facts != NULL && i < l.n; i++)
			tlsfacts_free(&r.facts[i]);
		free(r.facts);
		for (i = 0; i < l.n; i++)
			if (tlsload_export(&l, i, &der, &len) == 0) {
				asn1dump(null, der, len, err, sizeof(err));
				free(der);
			}
	}
	tlsload_free(&l);
	fclose(null);
	return 0;
}
