#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "tls_int.h"
#include "tlsfacts.h"

static void
strlist_add(struct strlist *l, const char *s)
{
	if (l->n < FACTS_LIST_MAX && (l->v[l->n] = strdup(s)) != NULL)
		l->n++;
}

static void
strlist_free(struct strlist *l)
{
	int	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

/* The SANs by type, as the printers list them. */
static void
get_sans(struct facts *f)
{
	struct strlist *by_type[X509_SAN_TYPES] = {
		[X509_SAN_DNS] = &f->san_dns, [X509_SAN_IP] = &f->san_ip,
		[X509_SAN_EMAIL] = &f->san_email, [X509_SAN_URI] = &f->san_uri
	};
	unsigned int i;

	for (i = 0; i < f->id.nsan; i++)
		strlist_add(by_type[f->id.san[i].type], f->id.san[i].value);
}

static const struct {
	unsigned int	 bit;
	const char	*name;
} usages[] = {
	/* RFC 5280 names, as openssl prints them in camelCase. */
	{ GNUTLS_KEY_DIGITAL_SIGNATURE, "digitalSignature" },
	{ GNUTLS_KEY_NON_REPUDIATION, "nonRepudiation" },
	{ GNUTLS_KEY_KEY_ENCIPHERMENT, "keyEncipherment" },
	{ GNUTLS_KEY_DATA_ENCIPHERMENT, "dataEncipherment" },
	{ GNUTLS_KEY_KEY_AGREEMENT, "keyAgreement" },
	{ GNUTLS_KEY_KEY_CERT_SIGN, "keyCertSign" },
	{ GNUTLS_KEY_CRL_SIGN, "cRLSign" },
	{ GNUTLS_KEY_ENCIPHER_ONLY, "encipherOnly" },
	{ GNUTLS_KEY_DECIPHER_ONLY, "decipherOnly" },
};

static const struct {
	const char	*oid;
	const char	*name;
} purposes[] = {
	{ "1.3.6.1.5.5.7.3.1", "serverAuth" },
	{ "1.3.6.1.5.5.7.3.2", "clientAuth" },
	{ "1.3.6.1.5.5.7.3.3", "codeSigning" },
	{ "1.3.6.1.5.5.7.3.4", "emailProtection" },
	{ "1.3.6.1.5.5.7.3.8", "timeStamping" },
	{ "1.3.6.1.5.5.7.3.9", "OCSPSigning" },
	{ "2.5.29.37.0", "anyExtendedKeyUsage" },
};

static void
get_usages(gnutls_x509_crt_t crt, struct facts *f)
{
	unsigned int ku, crit, i, k;
	char	 oid[128];
	size_t	 len;
	const char *name;

	if (gnutls_x509_crt_get_key_usage(crt, &ku, &crit) >= 0)
		for (i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
			if (ku & usages[i].bit)
				strlist_add(&f->key_usage, usages[i].name);
	for (i = 0; i < 100; i++) {
		len = sizeof(oid);
		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &len,
		    &crit) < 0)
			break;
		name = oid;	/* an unknown purpose is shown by its OID */
		for (k = 0; k < sizeof(purposes) / sizeof(purposes[0]); k++)
			if (strcmp(oid, purposes[k].oid) == 0)
				name = purposes[k].name;
		strlist_add(&f->ext_key_usage, name);
	}
}

static void
get_ids(gnutls_x509_crt_t crt, struct facts *f)
{
	unsigned char id[64];
	size_t	 len;
	unsigned int crit;

	len = sizeof(id);
	if (gnutls_x509_crt_get_subject_key_id(crt, id, &len, &crit) >= 0)
		tlsx509_hex(id, len, f->ski);
	len = sizeof(id);
	if (gnutls_x509_crt_get_authority_key_id(crt, id, &len, &crit) >= 0)
		tlsx509_hex(id, len, f->aki);
}

static void
get_key(gnutls_x509_crt_t crt, struct facts *f)
{
	gnutls_ecc_curve_t curve;
	const char *name;
	int	 pk;

	pk = gnutls_x509_crt_get_pk_algorithm(crt, &f->pk_bits);
	name = pk >= 0 ? gnutls_pk_algorithm_get_name(pk) : NULL;
	snprintf(f->pk_algorithm, sizeof(f->pk_algorithm), "%s",
	    name ? name : "unknown");
	if ((pk == GNUTLS_PK_ECDSA || pk == GNUTLS_PK_EDDSA_ED25519 ||
	    pk == GNUTLS_PK_EDDSA_ED448) &&
	    gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, NULL, NULL) >= 0 &&
	    (name = gnutls_ecc_curve_get_name(curve)) != NULL)
		snprintf(f->pk_curve, sizeof(f->pk_curve), "%s", name);
	pk = gnutls_x509_crt_get_signature_algorithm(crt);
	name = pk >= 0 ? gnutls_sign_get_name(pk) : NULL;
	if (name == NULL) {
		char	 oid[64];
		size_t	 len = sizeof(oid);

		if (gnutls_x509_crt_get_signature_oid(crt, oid, &len) >= 0)
			name = oid;
		snprintf(f->sig_algorithm, sizeof(f->sig_algorithm), "%s",
		    name ? name : "unknown");
	} else
		snprintf(f->sig_algorithm, sizeof(f->sig_algorithm), "%s",
		    name);
}

int
tlsfacts_get(const struct certlist *l, unsigned int i, time_t now,
    struct facts *f)
{
	gnutls_x509_crt_t crt = l->crt[i];
	unsigned char fpr[20];
	size_t	 len = sizeof(fpr);
	unsigned int crit, ca, status;
	char	 err[256];
	int	 ret, pathlen;

	memset(f, 0, sizeof(*f));
	f->path_len = -1;
	if (tlsx509_parse_crt(crt, &f->id, err, sizeof(err)) < 0)
		return -1;
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, fpr,
	    &len) < 0) {
		tlsx509_free(&f->id);
		return -1;
	}
	tlsx509_hex(fpr, len, f->sha1);
	snprintf(f->spki_sha256_b64, sizeof(f->spki_sha256_b64), "%s",
	    f->id.spki_sha256);
	snprintf(f->spki_sha256_hex, sizeof(f->spki_sha256_hex), "%s",
	    f->id.spki_sha256_hex);
	get_key(crt, f);
	get_sans(f);
	get_usages(crt, f);
	get_ids(crt, f);
	ret = gnutls_x509_crt_get_basic_constraints(crt, &crit, &ca, &pathlen);
	if (ret >= 0) {
		f->has_basic_constraints = 1;
		f->is_ca = ca != 0;
		f->path_len = pathlen;
	}
	/* Self-signed: its own issuer, and its own key verifies it. */
	if (gnutls_x509_crt_check_issuer(crt, crt) &&
	    gnutls_x509_crt_verify(crt, &crt, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_CA_SIGN |
	    GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 | GNUTLS_VERIFY_ALLOW_BROKEN,
	    &status) >= 0 &&
	    (status & GNUTLS_CERT_SIGNATURE_FAILURE) == 0)
		f->self_signed = 1;
	f->expired = now > f->id.not_after;
	f->not_yet_valid = now < f->id.not_before;
	/* Whole days, rounded down: 0 on the last day. */
	f->days_left = (long)((f->id.not_after - now) / 86400);
	if (f->expired)
		f->days_left = -(long)((now - f->id.not_after) / 86400);
	return 0;
}

void
tlsfacts_free(struct facts *f)
{
	tlsx509_free(&f->id);
	strlist_free(&f->san_dns);
	strlist_free(&f->san_ip);
	strlist_free(&f->san_email);
	strlist_free(&f->san_uri);
	strlist_free(&f->key_usage);
	strlist_free(&f->ext_key_usage);
}
