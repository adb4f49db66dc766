#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "logline.h"
#include "tls_int.h"
#include "tlsx509.h"

/* The SANs and DN attributes looked at, at the most. */
#define SAN_SCAN_MAX	1024
#define DN_ATTR_MAX	64

char *
tlsx509_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t	 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

/* The DN into buf; returns 1 if it had to be cut to fit, else 0. */
static int
get_dn(gnutls_x509_crt_t crt, int issuer, char *buf, size_t n)
{
	gnutls_datum_t dn = { NULL, 0 };
	int	 ret, cut = 0;

	ret = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) :
	    gnutls_x509_crt_get_dn3(crt, &dn, 0);
	if (ret < 0 || dn.data == NULL)
		snprintf(buf, n, "%s", "");
	else {
		snprintf(buf, n, "%.*s", (int)dn.size, (char *)dn.data);
		cut = dn.size >= n;
	}
	gnutls_free(dn.data);
	return cut;
}

/* The SHA-256 of crt's DER SubjectPublicKeyInfo, as base64 and hex. */
static int
spki_sha256(gnutls_x509_crt_t crt, char b64[45], char hex[65])
{
	gnutls_pubkey_t pub;
	gnutls_datum_t spki = { NULL, 0 }, digest, enc = { NULL, 0 };
	unsigned char h[32];
	int	 ret;

	if ((ret = gnutls_pubkey_init(&pub)) < 0)
		return ret;
	if ((ret = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (ret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER,
	    &spki)) < 0 ||
	    (ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size,
	    h)) < 0)
		goto out;
	digest.data = h;
	digest.size = sizeof(h);
	if ((ret = gnutls_base64_encode2(&digest, &enc)) < 0)
		goto out;
	snprintf(b64, 45, "%.*s", (int)enc.size, (char *)enc.data);
	tlsx509_hex(h, sizeof(h), hex);
out:
	gnutls_free(enc.data);
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	return ret < 0 ? ret : 0;
}

/* Attribute idx of type oid in crt's subject, copied; NULL if none. */
static char *
dn_attr(gnutls_x509_crt_t crt, const char *oid, unsigned int idx)
{
	char	 buf[1024];
	size_t	 len = sizeof(buf);

	if (gnutls_x509_crt_get_dn_by_oid(crt, oid, idx, 0, buf, &len) != 0)
		return NULL;
	return strdup(buf);
}

/* How many attributes of type oid crt's subject DN holds. */
static int
dn_count(gnutls_x509_crt_t crt, const char *oid)
{
	size_t	 len;
	int	 i, ret;

	for (i = 0; i < SAN_SCAN_MAX; i++) {
		len = 0;
		ret = gnutls_x509_crt_get_dn_by_oid(crt, oid, (unsigned)i, 0,
		    NULL, &len);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
	}
	return i;
}

static int
add_san(struct x509_facts *f, enum x509_san_type type, const char *value)
{
	struct x509_san *grown;

	if ((grown = realloc(f->san, (f->nsan + 1) * sizeof(*grown))) == NULL)
		return -1;
	f->san = grown;
	if ((f->san[f->nsan].value = strdup(value)) == NULL)
		return -1;
	f->san[f->nsan++].type = type;
	return 0;
}

/*
 * The subject alternative names of types DNS, IP, email and URI, in
 * order.  A name with a NUL byte inside is not what it seems, and is
 * passed over, as is one too long or unparseable.
 */
static int
get_sans(gnutls_x509_crt_t crt, struct x509_facts *f)
{
	char	 buf[1024], ip[INET6_ADDRSTRLEN];
	size_t	 len;
	unsigned int i;
	int	 type, r;

	for (i = 0; i < SAN_SCAN_MAX; i++) {
		len = sizeof(buf) - 1;
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &len,
		    NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type < 0)
			continue;	/* too long or unparseable */
		buf[len] = '\0';
		switch (type) {
		case GNUTLS_SAN_IPADDRESS:
			if ((len != 4 && len != 16) || inet_ntop(len == 4 ?
			    AF_INET : AF_INET6, buf, ip, sizeof(ip)) == NULL)
				continue;
			r = add_san(f, X509_SAN_IP, ip);
			break;
		case GNUTLS_SAN_DNSNAME:
		case GNUTLS_SAN_RFC822NAME:
		case GNUTLS_SAN_URI:
			if (strlen(buf) != len)
				continue;
			r = add_san(f, type == GNUTLS_SAN_DNSNAME ?
			    X509_SAN_DNS : type == GNUTLS_SAN_RFC822NAME ?
			    X509_SAN_EMAIL : X509_SAN_URI, buf);
			break;
		default:
			continue;
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

static int
get_subject_attrs(gnutls_x509_crt_t crt, struct x509_facts *f)
{
	char	*v;

	f->ncn = dn_count(crt, GNUTLS_OID_X520_COMMON_NAME);
	f->cn = dn_attr(crt, GNUTLS_OID_X520_COMMON_NAME, 0);
	f->o = dn_attr(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0);
	if ((f->ou = calloc(DN_ATTR_MAX, sizeof(*f->ou))) == NULL)
		return -1;
	while (f->nou < DN_ATTR_MAX && (v = dn_attr(crt,
	    GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, f->nou)) != NULL)
		f->ou[f->nou++] = v;
	return 0;
}

/* Fill f from crt, whose DER is der (NULL: export it). */
static int
parse(gnutls_x509_crt_t crt, const gnutls_datum_t *in, struct x509_facts *f,
    char *err, size_t errlen)
{
	gnutls_datum_t der = { NULL, 0 };
	unsigned char serial[X509_SERIAL_MAX], fpr[32];
	size_t	 len, i;
	int	 ret;

	memset(f, 0, sizeof(*f));
	f->dn_cut = get_dn(crt, 0, f->subject, sizeof(f->subject));
	f->dn_cut |= get_dn(crt, 1, f->issuer, sizeof(f->issuer));
	len = sizeof(serial);
	if ((ret = gnutls_x509_crt_get_serial(crt, serial, &len)) < 0)
		goto fail;
	/* The DER sign byte is not part of the number (as openssl shows it). */
	for (i = 0; i + 1 < len && serial[i] == 0; i++)
		;
	tlsx509_hex(serial + i, len - i, f->serial);
	f->not_before = gnutls_x509_crt_get_activation_time(crt);
	f->not_after = gnutls_x509_crt_get_expiration_time(crt);
	timefmt_rfc3339(f->not_before_s, sizeof(f->not_before_s),
	    f->not_before);
	timefmt_rfc3339(f->not_after_s, sizeof(f->not_after_s), f->not_after);
	len = sizeof(fpr);
	if ((ret = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fpr,
	    &len)) < 0)
		goto fail;
	tlsx509_hex(fpr, len, f->sha256);
	if (spki_sha256(crt, f->spki_sha256, f->spki_sha256_hex) < 0)
		f->spki_sha256[0] = f->spki_sha256_hex[0] = '\0';
	if (in == NULL && (ret = gnutls_x509_crt_export2(crt,
	    GNUTLS_X509_FMT_DER, &der)) < 0)
		goto fail;
	if (in == NULL)
		in = &der;
	ret = GNUTLS_E_MEMORY_ERROR;
	if ((f->der = malloc(in->size)) == NULL)
		goto fail;
	memcpy(f->der, in->data, in->size);
	f->derlen = in->size;
	gnutls_free(der.data);
	der.data = NULL;
	if (get_subject_attrs(crt, f) < 0 || get_sans(crt, f) < 0)
		goto fail;
	return 0;
fail:
	gnutls_free(der.data);
	snprintf(err, errlen, "%s", gnutls_strerror(ret));
	tlsx509_free(f);
	return -1;
}

int
tlsx509_parse_crt(gnutls_x509_crt_t crt, struct x509_facts *f, char *err,
    size_t errlen)
{
	return parse(crt, NULL, f, err, errlen);
}

int
tlsx509_parse(const unsigned char *der, size_t len, struct x509_facts *f,
    char *err, size_t errlen)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)der, (unsigned int)len };
	int	 ret;

	memset(f, 0, sizeof(*f));
	if ((ret = gnutls_x509_crt_init(&crt)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		return -1;
	}
	if ((ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		gnutls_x509_crt_deinit(crt);
		return -1;
	}
	ret = parse(crt, &d, f, err, errlen);
	gnutls_x509_crt_deinit(crt);
	return ret;
}

void
tlsx509_free(struct x509_facts *f)
{
	unsigned int i;

	for (i = 0; i < f->nsan; i++)
		free(f->san[i].value);
	free(f->san);
	for (i = 0; i < f->nou; i++)
		free(f->ou[i]);
	free(f->ou);
	free(f->cn);
	free(f->o);
	free(f->der);
	memset(f, 0, sizeof(*f));
}

char *
tlsx509_pem(const struct x509_facts *f)
{
	gnutls_datum_t der = { f->der, (unsigned int)f->derlen };
	gnutls_datum_t pem = { NULL, 0 };
	char	*text;

	if (gnutls_pem_base64_encode2("CERTIFICATE", &der, &pem) < 0)
		return NULL;
	if ((text = malloc(pem.size + 1)) != NULL) {
		memcpy(text, pem.data, pem.size);
		text[pem.size] = '\0';
	}
	gnutls_free(pem.data);
	return text;
}

void
tlsx509_log(struct logline *l, const char *prefix, const struct x509_facts *f)
{
	char	 key[64];

#define KV(name, val) do { \
	snprintf(key, sizeof(key), "%s%s", prefix, name); \
	logline_str(l, key, val); \
} while (0)
	KV("subject", f->subject);
	KV("issuer", f->issuer);
	KV("serial", f->serial);
	KV("not_before", f->not_before_s);
	KV("not_after", f->not_after_s);
	KV("sha256", f->sha256);
#undef KV
}
