#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tlschain.h"
#include "fileio.h"
#include "timefmt.h"
#include "tlsfile.h"
#include "tlsverify.h"

struct tlschain_trust {
	gnutls_x509_trust_list_t tl;
};

static void
diag(struct chain_report *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
diag(struct chain_report *r, const char *code, const char *fmt, ...)
{
	va_list	 ap;

	if (r->n >= CHAIN_DIAG_MAX)
		return;
	r->d[r->n].code = code;
	va_start(ap, fmt);
	vsnprintf(r->d[r->n].msg, sizeof(r->d[r->n].msg), fmt, ap);
	va_end(ap);
	r->n++;
}

static void
dn(gnutls_x509_crt_t crt, int issuer, char *buf, size_t n)
{
	gnutls_datum_t d = { NULL, 0 };

	if ((issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0) :
	    gnutls_x509_crt_get_dn3(crt, &d, 0)) < 0)
		snprintf(buf, n, "?");
	else
		snprintf(buf, n, "%.*s", (int)d.size, (char *)d.data);
	gnutls_free(d.data);
}

static int
self_issued(gnutls_x509_crt_t crt)
{
	return gnutls_x509_crt_check_issuer(crt, crt);
}

/* Does the private key in keyfile belong to crt? 1 yes, 0 no, -1 error. */
static int
key_matches(gnutls_x509_crt_t crt, const char *keyfile, char *err,
    size_t errlen)
{
	gnutls_x509_privkey_t key;
	size_t	 kl = 64, cl = 64;
	unsigned char kid[64], cid[64];
	int	 rv = -1;

	if (tlsconf_read_key(keyfile, &key, err, errlen) < 0)
		return -1;
	if (gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, kid,
	    &kl) < 0 || gnutls_x509_crt_get_key_id(crt,
	    GNUTLS_KEYID_USE_SHA256, cid, &cl) < 0)
		snprintf(err, errlen, "%s: cannot compute its key id", keyfile);
	else
		rv = kl == cl && memcmp(kid, cid, kl) == 0;
	gnutls_x509_privkey_deinit(key);
	return rv;
}

int
tlschain_diagnose(const struct certlist *l, const char *keyfile,
    const struct tlschain_trust *trust, struct chain_report *r, char *err,
    size_t errlen)
{
	unsigned int i, j, top, all_ca = 1;
	gnutls_x509_crt_t issuer;
	char	 a[512], b[512], ta[TIMEFMT_MAX], tb[TIMEFMT_MAX];
	int	 m, misordered = 0;
	time_t	 leaf_end;

	memset(r, 0, sizeof(*r));
	if (l->n == 0)
		return 0;
	if (keyfile != NULL) {
		if ((m = key_matches(l->crt[0], keyfile, err, errlen)) < 0)
			return -1;
		if (m == 0)
			diag(r, "key-mismatch", "the key in %s does not match "
			    "certificate #0", keyfile);
	}
	for (i = 0; i < l->n; i++) {
		unsigned int ca = 0, crit;

		if (gnutls_x509_crt_get_basic_constraints(l->crt[i], &crit,
		    &ca, NULL) < 0 || !ca)
			all_ca = 0;
	}
	/* A bundle of CAs is not a chain: nothing more to say. */
	if (l->n < 2 && keyfile == NULL && trust == NULL)
		return 0;
	if (all_ca && l->n > 1)
		return 0;

	/*
	 * Order: leaf first, each certificate followed by its issuer.  Two
	 * ways to break it: a certificate after the one it issued, or an
	 * issuer that is present but not next.
	 */
	for (i = 0; i < l->n; i++)
		for (j = i + 1; j < l->n; j++)
			if (!self_issued(l->crt[j]) &&
			    gnutls_x509_crt_check_issuer(l->crt[j], l->crt[i])) {
				dn(l->crt[i], 0, a, sizeof(a));
				diag(r, "out-of-order", "certificates out of "
				    "order: #%u is issued by #%u (\"%s\") but "
				    "comes after it; the leaf goes first, each "
				    "certificate's issuer right after it", j, i,
				    a);
				misordered = 1;
			}
	for (i = 0; i + 1 < l->n; i++) {
		if (self_issued(l->crt[i]) ||
		    gnutls_x509_crt_check_issuer(l->crt[i], l->crt[i + 1]))
			continue;
		for (j = i + 2; j < l->n; j++)
			if (gnutls_x509_crt_check_issuer(l->crt[i], l->crt[j]))
				break;
		if (j < l->n) {
			dn(l->crt[j], 0, a, sizeof(a));
			diag(r, "out-of-order", "certificates out of order: "
			    "#%u is issued by #%u (\"%s\"), which should come "
			    "right after it", i, j, a);
			misordered = 1;
		}
	}

	/*
	 * A missing intermediate: the top of the chain is issued by nothing
	 * given and no trusted CA.  Without -C there is no telling it from
	 * a root that need not be sent, so nothing is said.
	 */
	top = 0;
	while (top + 1 < l->n && !self_issued(l->crt[top]) &&
	    gnutls_x509_crt_check_issuer(l->crt[top], l->crt[top + 1]))
		top++;
	if (trust != NULL && !misordered && !self_issued(l->crt[top]) &&
	    gnutls_x509_trust_list_get_issuer(trust->tl, l->crt[top], &issuer,
	    0) != 0) {
		dn(l->crt[top], 1, a, sizeof(a));
		diag(r, "missing-intermediate", "missing intermediate: "
		    "nothing in the input or the trusted CAs issued #%u "
		    "(issuer \"%s\")", top, a);
	}

	/* A root sent along: the client has it or must not trust it. */
	for (i = 1; i < l->n; i++)
		if (self_issued(l->crt[i])) {
			dn(l->crt[i], 0, a, sizeof(a));
			diag(r, "root-included", "unneeded root: #%u (\"%s\") "
			    "is self-signed; peers must already trust it, so "
			    "it need not be sent", i, a);
		}

	/* Intermediates that expire before the leaf cut its life short. */
	leaf_end = gnutls_x509_crt_get_expiration_time(l->crt[0]);
	for (i = 1; i < l->n && !misordered; i++) {
		time_t	 end = gnutls_x509_crt_get_expiration_time(l->crt[i]);

		if (end < leaf_end && !self_issued(l->crt[i])) {
			dn(l->crt[i], 0, b, sizeof(b));
			diag(r, "intermediate-expires-first", "#%u (\"%s\") "
			    "expires %s, before the leaf (%s)", i, b,
			    timefmt_rfc3339(ta, sizeof(ta), end),
			    timefmt_rfc3339(tb, sizeof(tb), leaf_end));
		}
	}
	return 0;
}

/*
 * A CRL counts only if its signature verifies with a trusted CA or a CA
 * certificate in the chain given (CRLs are often issued by intermediates,
 * which GnuTLS's own check against the trust list alone would reject).
 */
static int
crl_signed(gnutls_x509_crl_t crl, const struct certlist *chain)
{
	unsigned int i, status;

	for (i = 0; i < chain->n; i++)
		if (gnutls_x509_crl_check_issuer(crl, chain->crt[i]) &&
		    gnutls_x509_crl_verify(crl, &chain->crt[i], 1, 0,
		    &status) >= 0 && status == 0)
			return 1;
	return 0;
}

static int
load_crls(gnutls_x509_trust_list_t tl, const struct certlist *chain,
    gnutls_x509_crt_t *cas, unsigned int ncas, const char *path, int *ncrl,
    char *err, size_t errlen)
{
	unsigned char *data;
	size_t	 len;
	gnutls_datum_t d;
	gnutls_x509_crl_t *crls = NULL;
	unsigned int n = 0, i, status;
	int	 ret, ok;

	if (file_read(path, &data, &len, err, errlen) < 0)
		return -1;
	d.data = data;
	d.size = (unsigned int)len;
	ret = gnutls_x509_crl_list_import2(&crls, &n, &d,
	    memmem(data, len, "-----BEGIN", 10) ? GNUTLS_X509_FMT_PEM :
	    GNUTLS_X509_FMT_DER, 0);
	free(data);
	if (ret < 0 || n == 0) {
		snprintf(err, errlen, "%s: no CRL found%s%s", path,
		    ret < 0 ? ": " : "", ret < 0 ? gnutls_strerror(ret) : "");
		return -1;
	}
	for (i = 0; i < n; i++) {
		ok = gnutls_x509_crl_verify(crls[i], cas, ncas, 0,
		    &status) >= 0 && status == 0;
		if (!ok)
			ok = crl_signed(crls[i], chain);
		if (!ok) {
			snprintf(err, errlen, "%s: CRL not signed by a trusted "
			    "CA or a CA in the chain", path);
			for (; i < n; i++)
				gnutls_x509_crl_deinit(crls[i]);
			gnutls_free(crls);
			return -1;
		}
	}
	/* The trust list owns the CRLs from here on. */
	ret = gnutls_x509_trust_list_add_crls(tl, crls, n, 0, 0);
	gnutls_free(crls);
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", path, gnutls_strerror(ret));
		return -1;
	}
	*ncrl += ret;
	return 0;
}

struct tlschain_trust *
tlschain_trust(const char *cafile, const struct certlist *chain,
    const char *const *crlfiles, int ncrlfiles, int *ncrl, char *err,
    size_t errlen)
{
	struct tlschain_trust *t;
	gnutls_x509_trust_list_t tl;
	gnutls_x509_crt_t *cas;
	unsigned char *data;
	size_t	 len;
	int	 n, i, ret;

	*ncrl = 0;
	if (file_read(cafile, &data, &len, err, errlen) < 0)
		return NULL;
	n = tlsconf_import_certs(cafile, data, len, &cas, err, errlen);
	free(data);
	if (n < 0)
		return NULL;
	if ((ret = gnutls_x509_trust_list_init(&tl, 0)) < 0) {
		tlsconf_free_certs(cas, (unsigned int)n);
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		return NULL;
	}
	/* The trust list owns the certificates from here on. */
	ret = gnutls_x509_trust_list_add_cas(tl, cas, (unsigned int)n, 0);
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", cafile, gnutls_strerror(ret));
		gnutls_free(cas);
		gnutls_x509_trust_list_deinit(tl, 1);
		return NULL;
	}
	for (i = 0; i < ncrlfiles; i++)
		if (load_crls(tl, chain, cas, (unsigned int)n, crlfiles[i],
		    ncrl, err, errlen) < 0) {
			gnutls_free(cas);
			gnutls_x509_trust_list_deinit(tl, 1);
			return NULL;
		}
	gnutls_free(cas);
	if ((t = malloc(sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		gnutls_x509_trust_list_deinit(tl, 1);
		return NULL;
	}
	t->tl = tl;
	return t;
}

void
tlschain_trust_free(struct tlschain_trust *t)
{
	if (t == NULL)
		return;
	gnutls_x509_trust_list_deinit(t->tl, 1);
	free(t);
}

void
tlschain_verify(const struct certlist *l, const struct tlschain_trust *trust,
    struct verdict *v)
{
	unsigned int status = 0;
	gnutls_typed_vdata_st vd[2];
	unsigned int nvd = 0;
	int	 ret;

	v->done = 1;
	if (v->servername != NULL) {
		vd[nvd].type = GNUTLS_DT_DNS_HOSTNAME;
		vd[nvd].data = (unsigned char *)v->servername;
		vd[nvd++].size = 0;
	}
	if (v->purpose != NULL) {
		vd[nvd].type = GNUTLS_DT_KEY_PURPOSE_OID;
		vd[nvd].data = (unsigned char *)(strcmp(v->purpose,
		    "client") == 0 ? GNUTLS_KP_TLS_WWW_CLIENT :
		    GNUTLS_KP_TLS_WWW_SERVER);
		vd[nvd++].size = 0;
	}
	ret = gnutls_x509_trust_list_verify_crt2(trust->tl, l->crt, l->n,
	    nvd ? vd : NULL, nvd, 0, &status, NULL);
	if (ret < 0) {
		v->ok = 0;
		snprintf(v->reasons, sizeof(v->reasons), "%s",
		    gnutls_strerror(ret));
		return;
	}
	v->ok = status == 0;
	verify_status_text(status, v->reasons, sizeof(v->reasons));
}

int
tlschain_issuer_key(const unsigned char *der, size_t len,
    const struct certlist *l, unsigned int from)
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned int)len };
	gnutls_x509_crt_t ours;
	unsigned int status, i;
	int	 found = -1;

	if (gnutls_x509_crt_init(&ours) < 0)
		return -1;
	if (gnutls_x509_crt_import(ours, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(ours);
		return -1;
	}
	for (i = from; i < l->n; i++) {
		/* Names first (and key identifiers, when both have them). */
		if (!gnutls_x509_crt_check_issuer(ours, l->crt[i])) {
			char	 a[512], b[512];
			size_t	 an = sizeof(a), bn = sizeof(b);

			if (gnutls_x509_crt_get_issuer_dn(ours, a, &an) < 0 ||
			    gnutls_x509_crt_get_dn(l->crt[i], b, &bn) < 0 ||
			    strcmp(a, b) != 0)
				continue;
			/* Same name, another key identifier. */
			found = 0;
			continue;
		}
		/* The signature is what proves it: the key, not the name. */
		if (gnutls_x509_crt_verify(ours, &l->crt[i], 1,
		    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
		    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
		    GNUTLS_VERIFY_ALLOW_ANY_X509_V1_CA_CRT, &status) == 0 &&
		    (status & (GNUTLS_CERT_SIGNATURE_FAILURE |
		    GNUTLS_CERT_SIGNER_NOT_FOUND)) == 0) {
			found = 1;
			break;
		}
		found = 0;
	}
	gnutls_x509_crt_deinit(ours);
	return found;
}
