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

#include <gnutls/gnutls.h>

#include "asn1dump.h"
#include "facts.h"
#include "load.h"
#include "show.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certlist l;
	struct report r;
	gnutls_datum_t der;
	char	 err[512];
	unsigned int i;
	FILE	*null;

	if ((null = fopen("/dev/null", "w")) == NULL)
		return 0;
	asn1dump(null, data, size, err, sizeof(err));
	memset(&l, 0, sizeof(l));
	if (load_data(&l, data, size, "fuzz", "", err, sizeof(err)) == 0) {
		memset(&r, 0, sizeof(r));
		r.certs = &l;
		r.expires_within = -1;
		r.now = 1700000000;
		r.facts = calloc(l.n ? l.n : 1, sizeof(*r.facts));
		for (i = 0; r.facts != NULL && i < l.n; i++)
			facts_get(l.crt[i], r.now, &r.facts[i]);
		if (r.facts != NULL) {
			show_json(null, &r);
			show_text(null, &r);
		}
		for (i = 0; r.facts != NULL && i < l.n; i++)
			facts_free(&r.facts[i]);
		free(r.facts);
		for (i = 0; i < l.n; i++)
			if (gnutls_x509_crt_export2(l.crt[i],
			    GNUTLS_X509_FMT_DER, &der) == 0) {
				asn1dump(null, der.data, der.size, err,
				    sizeof(err));
				gnutls_free(der.data);
			}
	}
	load_free(&l);
	fclose(null);
	return 0;
}
