#include <stdio.h>
#include <string.h>

#include <libtasn1.h>

#include "asn1dump.h"

/* Deeper nesting than this is hostile input, not a certificate. */
#define MAX_DEPTH	48
/* Long primitive values are cut in the dump. */
#define SHOW_MAX	64

static const struct {
	const char	*oid;
	const char	*name;
} oids[] = {
	/* The names openssl asn1parse prints. */
	{ "2.5.4.3", "commonName" },
	{ "2.5.4.4", "surname" },
	{ "2.5.4.5", "serialNumber" },
	{ "2.5.4.6", "countryName" },
	{ "2.5.4.7", "localityName" },
	{ "2.5.4.8", "stateOrProvinceName" },
	{ "2.5.4.9", "streetAddress" },
	{ "2.5.4.10", "organizationName" },
	{ "2.5.4.11", "organizationalUnitName" },
	{ "2.5.4.12", "title" },
	{ "2.5.4.42", "givenName" },
	{ "2.5.4.97", "organizationIdentifier" },
	{ "0.9.2342.19200300.100.1.25", "domainComponent" },
	{ "0.9.2342.19200300.100.1.1", "userId" },
	{ "1.2.840.113549.1.9.1", "emailAddress" },
	{ "1.2.840.113549.1.1.1", "rsaEncryption" },
	{ "1.2.840.113549.1.1.5", "sha1WithRSAEncryption" },
	{ "1.2.840.113549.1.1.10", "rsassaPss" },
	{ "1.2.840.113549.1.1.11", "sha256WithRSAEncryption" },
	{ "1.2.840.113549.1.1.12", "sha384WithRSAEncryption" },
	{ "1.2.840.113549.1.1.13", "sha512WithRSAEncryption" },
	{ "1.2.840.10045.2.1", "id-ecPublicKey" },
	{ "1.2.840.10045.3.1.7", "prime256v1" },
	{ "1.3.132.0.34", "secp384r1" },
	{ "1.3.132.0.35", "secp521r1" },
	{ "1.2.840.10045.4.3.2", "ecdsa-with-SHA256" },
	{ "1.2.840.10045.4.3.3", "ecdsa-with-SHA384" },
	{ "1.2.840.10045.4.3.4", "ecdsa-with-SHA512" },
	{ "1.3.101.112", "ED25519" },
	{ "1.3.101.113", "ED448" },
	{ "2.16.840.1.101.3.4.2.1", "sha256" },
	{ "2.5.29.14", "X509v3 Subject Key Identifier" },
	{ "2.5.29.15", "X509v3 Key Usage" },
	{ "2.5.29.17", "X509v3 Subject Alternative Name" },
	{ "2.5.29.18", "X509v3 Issuer Alternative Name" },
	{ "2.5.29.19", "X509v3 Basic Constraints" },
	{ "2.5.29.30", "X509v3 Name Constraints" },
	{ "2.5.29.31", "X509v3 CRL Distribution Points" },
	{ "2.5.29.32", "X509v3 Certificate Policies" },
	{ "2.5.29.35", "X509v3 Authority Key Identifier" },
	{ "2.5.29.37", "X509v3 Extended Key Usage" },
	{ "2.5.29.32.0", "X509v3 Any Policy" },
	{ "1.3.6.1.5.5.7.1.1", "Authority Information Access" },
	{ "1.3.6.1.5.5.7.48.1", "OCSP" },
	{ "1.3.6.1.5.5.7.48.2", "CA Issuers" },
	{ "1.3.6.1.5.5.7.3.1", "TLS Web Server Authentication" },
	{ "1.3.6.1.5.5.7.3.2", "TLS Web Client Authentication" },
	{ "1.3.6.1.4.1.11129.2.4.2", "CT Precertificate SCTs" },
	{ "2.23.140.1.2.1", "domain-validated" },
	{ "2.23.140.1.2.2", "organization-validated" },
};

static const char *
universal_name(unsigned long tag)
{
	switch (tag) {
	case 1: return "BOOLEAN";
	case 2: return "INTEGER";
	case 3: return "BIT STRING";
	case 4: return "OCTET STRING";
	case 5: return "NULL";
	case 6: return "OBJECT";
	case 10: return "ENUMERATED";
	case 12: return "UTF8STRING";
	case 16: return "SEQUENCE";
	case 17: return "SET";
	case 18: return "NUMERICSTRING";
	case 19: return "PRINTABLESTRING";
	case 20: return "T61STRING";
	case 22: return "IA5STRING";
	case 23: return "UTCTIME";
	case 24: return "GENERALIZEDTIME";
	case 26: return "VISIBLESTRING";
	case 28: return "UNIVERSALSTRING";
	case 30: return "BMPSTRING";
	}
	return NULL;
}

static void
hex(FILE *out, const unsigned char *p, size_t n, int upper)
{
	size_t	 i;

	for (i = 0; i < n && i < SHOW_MAX; i++)
		fprintf(out, upper ? "%02X" : "%02x", p[i]);
	if (n > SHOW_MAX)
		fputs("...", out);
}

/* Text that may hold anything: printable ASCII shown, the rest escaped. */
static void
text(FILE *out, const unsigned char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n && i < 4 * SHOW_MAX; i++)
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			fputc(p[i], out);
		else
			fprintf(out, "\\x%02x", p[i]);
	if (n > 4 * SHOW_MAX)
		fputs("...", out);
}

/* The content of a primitive universal value; hdr points at its tag. */
static void
value(FILE *out, unsigned long tag, const unsigned char *hdr, int taglen,
    const unsigned char *c, size_t n, size_t avail)
{
	char	 oid[128];
	int	 rl;
	size_t	 i;

	switch (tag) {
	case 1:
		fputs(n == 1 && c[0] == 0 ? ":FALSE" : ":TRUE", out);
		break;
	case 2:
	case 10:
		fputc(':', out);
		if (n > 0 && (c[0] & 0x80)) {
			fputs("NEG:", out);
		}
		hex(out, c, n, 1);
		break;
	case 3:
		/* The first content byte counts the unused bits. */
		fprintf(out, ":%d unused bits:", n > 0 ? c[0] : 0);
		if (n > 1)
			hex(out, c + 1, n - 1, 0);
		break;
	case 4:
		fputs("[HEX DUMP]:", out);
		hex(out, c, n, 1);
		break;
	case 6:
		if (asn1_get_object_id_der(hdr + taglen, (int)(avail - taglen),
		    &rl, oid, sizeof(oid)) != ASN1_SUCCESS) {
			fputs(":BAD OBJECT", out);
			break;
		}
		for (i = 0; i < sizeof(oids) / sizeof(oids[0]); i++)
			if (strcmp(oid, oids[i].oid) == 0) {
				fprintf(out, ":%s", oids[i].name);
				return;
			}
		fprintf(out, ":%s", oid);
		break;
	case 5:
		break;
	default:
		fputc(':', out);
		text(out, c, n);
	}
}

static int
walk(FILE *out, const unsigned char *der, size_t len, size_t base, int depth,
    char *err, size_t errlen)
{
	size_t	 off = 0, n;
	unsigned char cls;
	unsigned long tag;
	int	 taglen, lenlen, cons;
	long	 clen;
	const char *name;
	char	 nbuf[32];

	while (off < len) {
		if (depth > MAX_DEPTH) {
			snprintf(err, errlen, "nesting deeper than %d at offset "
			    "%zu", MAX_DEPTH, base + off);
			return -1;
		}
		if (asn1_get_tag_der(der + off, (int)(len - off), &cls, &taglen,
		    &tag) != ASN1_SUCCESS) {
			snprintf(err, errlen, "bad tag at offset %zu",
			    base + off);
			return -1;
		}
		clen = asn1_get_length_der(der + off + taglen,
		    (int)(len - off - taglen), &lenlen);
		if (clen == -1) {
			snprintf(err, errlen, "indefinite length at offset %zu "
			    "(BER, not DER)", base + off);
			return -1;
		}
		if (clen < 0) {
			snprintf(err, errlen, "truncated DER: the length at "
			    "offset %zu points past the end", base + off);
			return -1;
		}
		n = (size_t)clen;
		cons = (cls & ASN1_CLASS_STRUCTURED) != 0;
		cls &= ~ASN1_CLASS_STRUCTURED;
		if (cls == ASN1_CLASS_UNIVERSAL &&
		    (name = universal_name(tag)) != NULL)
			;
		else {
			snprintf(nbuf, sizeof(nbuf), "%s [ %lu ]",
			    cls == ASN1_CLASS_CONTEXT_SPECIFIC ? "cont" :
			    cls == ASN1_CLASS_APPLICATION ? "appl" :
			    cls == ASN1_CLASS_PRIVATE ? "priv" : "univ", tag);
			name = nbuf;
		}
		fprintf(out, "%5zu:d=%-2d hl=%d l=%4zu %s: %*s%-18s",
		    base + off, depth, taglen + lenlen, n,
		    cons ? "cons" : "prim", depth, "", name);
		if (!cons && cls == ASN1_CLASS_UNIVERSAL)
			value(out, tag, der + off, taglen,
			    der + off + taglen + lenlen, n, len - off);
		else if (!cons && n > 0) {
			fputs(":", out);
			hex(out, der + off + taglen + lenlen, n, 1);
		}
		fputc('\n', out);
		if (cons && walk(out, der + off + taglen + lenlen, n,
		    base + off + taglen + lenlen, depth + 1, err, errlen) < 0)
			return -1;
		off += (size_t)taglen + (size_t)lenlen + n;
	}
	return 0;
}

int
asn1dump(FILE *out, const unsigned char *der, size_t len, char *err,
    size_t errlen)
{
	return walk(out, der, len, 0, 0, err, errlen);
}
