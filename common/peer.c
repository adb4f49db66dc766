#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "logline.h"
#include "peer.h"

char *
peer_hex(const unsigned char *in, size_t len, char *out)
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

int
peer_describe(gnutls_x509_crt_t crt, struct peer_cert *p)
{
	unsigned char serial[PEER_SERIAL_MAX], fpr[32];
	size_t	 len, i;
	int	 ret;

	memset(p, 0, sizeof(*p));
	p->dn_cut = get_dn(crt, 0, p->subject, sizeof(p->subject));
	p->dn_cut |= get_dn(crt, 1, p->issuer, sizeof(p->issuer));
	len = sizeof(serial);
	if ((ret = gnutls_x509_crt_get_serial(crt, serial, &len)) < 0)
		return ret;
	/* The DER sign byte is not part of the number (as openssl shows it). */
	for (i = 0; i + 1 < len && serial[i] == 0; i++)
		;
	peer_hex(serial + i, len - i, p->serial);
	p->not_before = gnutls_x509_crt_get_activation_time(crt);
	p->not_after = gnutls_x509_crt_get_expiration_time(crt);
	timefmt_rfc3339(p->not_before_s, sizeof(p->not_before_s),
	    p->not_before);
	timefmt_rfc3339(p->not_after_s, sizeof(p->not_after_s), p->not_after);
	len = sizeof(fpr);
	if ((ret = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fpr,
	    &len)) < 0)
		return ret;
	peer_hex(fpr, len, p->sha256);
	return 0;
}

int
peer_describe_der(const gnutls_datum_t *der, struct peer_cert *p)
{
	gnutls_x509_crt_t crt;
	int	 ret;

	if ((ret = gnutls_x509_crt_init(&crt)) < 0)
		return ret;
	if ((ret = gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER)) == 0)
		ret = peer_describe(crt, p);
	gnutls_x509_crt_deinit(crt);
	return ret;
}

void
peer_log(struct logline *l, const char *prefix, const struct peer_cert *p)
{
	char	 key[64];

#define KV(name, val) do { \
	snprintf(key, sizeof(key), "%s%s", prefix, name); \
	logline_str(l, key, val); \
} while (0)
	KV("subject", p->subject);
	KV("issuer", p->issuer);
	KV("serial", p->serial);
	KV("not_before", p->not_before_s);
	KV("not_after", p->not_after_s);
	KV("sha256", p->sha256);
#undef KV
}

int
peer_spki_sha256(gnutls_x509_crt_t crt, char b64[45], char *hex)
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
	if (hex != NULL)
		peer_hex(h, sizeof(h), hex);
out:
	gnutls_free(enc.data);
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	return ret < 0 ? ret : 0;
}

int
peer_foreach_san(gnutls_x509_crt_t crt,
    int (*fn)(void *arg, int type, const char *value), void *arg)
{
	char	 buf[1024], ip[INET6_ADDRSTRLEN];
	size_t	 len;
	unsigned int i;
	int	 type, r;

	for (i = 0; i < 1024; i++) {
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
			r = fn(arg, type, ip);
			break;
		case GNUTLS_SAN_DNSNAME:
		case GNUTLS_SAN_RFC822NAME:
		case GNUTLS_SAN_URI:
			if (strlen(buf) != len)
				continue;
			r = fn(arg, type, buf);
			break;
		default:
			continue;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

int
peer_dn_count(gnutls_x509_crt_t crt, const char *oid)
{
	size_t	 len;
	int	 i, ret;

	for (i = 0; i < 1024; i++) {
		len = 0;
		ret = gnutls_x509_crt_get_dn_by_oid(crt, oid, (unsigned)i, 0,
		    NULL, &len);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
	}
	return i;
}
