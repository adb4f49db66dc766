/*
 * asn1dump: the DER structure of an object, line by line, in the form of
 * `openssl asn1parse -i`: offset, depth, header length, length, tag, and
 * the decoded content of primitive values.  Walks the encoding with
 * libtasn1's DER primitives; strict DER only.
 */
#ifndef MTLS_ASN1DUMP_H
#define MTLS_ASN1DUMP_H

#include <stddef.h>
#include <stdio.h>

/* Dump der to out.  Returns 0, or -1 with the reason in err. */
int	 asn1dump(FILE *out, const unsigned char *der, size_t len, char *err,
	    size_t errlen);

#endif
