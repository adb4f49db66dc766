#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "fileio.h"
#include "tlsconf.h"

static int
is_pem(const unsigned char *data, size_t len)
{
	return memmem(data, len, "-----BEGIN", 10) != NULL;
}

int
tlsconf_import_certs(const char *name, const unsigned char *data, size_t len,
    gnutls_x509_crt_t **list, char *err, size_t errlen)
{
	gnutls_datum_t d = { (unsigned char *)data, (unsigned int)len };
	unsigned int n = 0;
	int	 ret;

	if (len == 0) {
		snprintf(err, errlen, "%s: empty file", name);
		return -1;
	}
	if (is_pem(data, len)) {
		if (memmem(data, len, "-----BEGIN CERTIFICATE-----", 27) ==
		    NULL && memmem(data, len, "-----BEGIN X509 CERTIFICATE",
		    27) == NULL) {
			snprintf(err, errlen, "%s: no certificate found", name);
			return -1;
		}
		ret = gnutls_x509_crt_list_import2(list, &n, &d,
		    GNUTLS_X509_FMT_PEM, 0);
	} else if (data[0] != 0x30) {
		/* A DER certificate starts with a SEQUENCE tag. */
		snprintf(err, errlen, "%s: no certificate found (neither PEM "
		    "nor DER)", name);
		return -1;
	} else
		ret = gnutls_x509_crt_list_import2(list, &n, &d,
		    GNUTLS_X509_FMT_DER, 0);
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", name,
		    ret == GNUTLS_E_NO_CERTIFICATE_FOUND ?
		    "no certificate found" : gnutls_strerror(ret));
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s: no certificate found", name);
		return -1;
	}
	return (int)n;
}

void
tlsconf_free_certs(gnutls_x509_crt_t *list, unsigned int n)
{
	unsigned int i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
}

/* Load our own chain and key into c->cred and keep the chain for logs. */
/*
 * A client hands its certificate over from a callback (tlssess.c), which
 * also records what the server's certificate request asked for.
 */
static int
keep_client_pair(struct tlsconf *c, gnutls_x509_privkey_t key)
{
	unsigned int n = c->nchain;
	int	 ret;

	if ((c->pcert = gnutls_calloc(n, sizeof(*c->pcert))) == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	if ((ret = gnutls_pcert_import_x509_list(c->pcert, c->chain, &n,
	    0)) < 0)
		return ret;
	c->npcert = n;
	if ((ret = gnutls_privkey_init(&c->pkey)) < 0)
		return ret;
	return gnutls_privkey_import_x509(c->pkey, key,
	    GNUTLS_PRIVKEY_IMPORT_COPY);
}

static int
load_keypair(struct tlsconf *c, const char *certpath, const char *keypath,
    int server, char *err, size_t errlen)
{
	unsigned char *cdata = NULL, *kdata = NULL;
	size_t	 clen, klen;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t kd;
	int	 n, ret, rv = -1;

	if (file_read(certpath, &cdata, &clen, err, errlen) < 0)
		goto fail0;
	if ((n = tlsconf_import_certs(certpath, cdata, clen, &c->chain, err,
	    errlen)) < 0)
		goto fail1;
	c->nchain = (unsigned int)n;
	if (file_read(keypath, &kdata, &klen, err, errlen) < 0)
		goto fail1;
	if (klen == 0) {
		snprintf(err, errlen, "%s: empty file", keypath);
		goto fail2;
	}
	if ((ret = gnutls_x509_privkey_init(&key)) < 0) {
		snprintf(err, errlen, "%s: %s", keypath, gnutls_strerror(ret));
		goto fail2;
	}
	kd.data = kdata;
	kd.size = (unsigned int)klen;
	ret = gnutls_x509_privkey_import2(key, &kd, is_pem(kdata, klen) ?
	    GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER, NULL, 0);
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", keypath,
		    ret == GNUTLS_E_BASE64_UNEXPECTED_HEADER_ERROR ||
		    ret == GNUTLS_E_ASN1_DER_ERROR ?
		    "no private key found" : gnutls_strerror(ret));
		goto fail3;
	}
	/* This also checks that the key belongs to the leaf certificate. */
	ret = gnutls_certificate_set_x509_key(c->cred, c->chain, c->nchain,
	    key);
	if (ret >= 0 && !server)
		ret = keep_client_pair(c, key);
	if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		snprintf(err, errlen, "%s: key does not match certificate %s",
		    keypath, certpath);
		goto fail3;
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", certpath, gnutls_strerror(ret));
		goto fail3;
	}
	rv = 0;
fail3:
	gnutls_x509_privkey_deinit(key);
fail2:
	/* Do not leave the private key in freed memory. */
	gnutls_memset(kdata, 0, klen);
	free(kdata);
fail1:
	free(cdata);
fail0:
	return rv;
}

static int
load_trust(struct tlsconf *c, const char *capath, char *err, size_t errlen)
{
	unsigned char *data;
	size_t	 len;
	gnutls_datum_t d;
	gnutls_x509_crt_t *list;
	int	 n, ret;

	if (file_read(capath, &data, &len, err, errlen) < 0)
		return -1;
	/* Parse first, for a message that says what is wrong. */
	if ((n = tlsconf_import_certs(capath, data, len, &list, err,
	    errlen)) < 0) {
		free(data);
		return -1;
	}
	tlsconf_free_certs(list, (unsigned int)n);
	d.data = data;
	d.size = (unsigned int)len;
	ret = gnutls_certificate_set_x509_trust_mem(c->cred, &d,
	    is_pem(data, len) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER);
	free(data);
	/* It returns how many CAs it took: none trusted is an error too. */
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", capath, gnutls_strerror(ret));
		return -1;
	}
	if (ret == 0) {
		snprintf(err, errlen, "%s: no CA certificate found", capath);
		return -1;
	}
	c->nca = (unsigned int)ret;
	return 0;
}

struct tlsconf *
tlsconf_load(const struct tlsconf_files *f, char *err, size_t errlen)
{
	struct tlsconf *c;
	const char *errpos = NULL;
	int	 ret;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((ret = gnutls_certificate_allocate_credentials(&c->cred)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		free(c);
		return NULL;
	}
	if (f->cert != NULL &&
	    load_keypair(c, f->cert, f->key, f->server, err, errlen) < 0)
		goto fail;
	if (f->ca != NULL && load_trust(c, f->ca, err, errlen) < 0)
		goto fail;
	snprintf(c->priority, sizeof(c->priority), "%s%s",
	    f->priority ? f->priority : TLSCONF_PRIORITY,
	    f->server && f->priority == NULL ? ":%SERVER_PRECEDENCE" : "");
	if ((ret = gnutls_priority_init2(&c->prio, c->priority, &errpos,
	    0)) < 0) {
		snprintf(err, errlen, "priority \"%s\": %s%s%s",
		    c->priority, gnutls_strerror(ret),
		    errpos ? " at " : "", errpos ? errpos : "");
		c->prio = NULL;
		goto fail;
	}
	return c;
fail:
	tlsconf_free(c);
	return NULL;
}

void
tlsconf_free(struct tlsconf *c)
{
	if (c == NULL)
		return;
	if (c->prio != NULL)
		gnutls_priority_deinit(c->prio);
	if (c->pcert != NULL) {
		unsigned int i;

		for (i = 0; i < c->npcert; i++)
			gnutls_pcert_deinit(&c->pcert[i]);
		gnutls_free(c->pcert);
	}
	if (c->pkey != NULL)
		gnutls_privkey_deinit(c->pkey);
	gnutls_certificate_free_credentials(c->cred);
	tlsconf_free_certs(c->chain, c->nchain);
	free(c);
}
