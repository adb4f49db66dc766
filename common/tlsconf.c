#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/ocsp.h>
#include <gnutls/pkcs11.h>
#include <gnutls/x509.h>

#include "diag.h"
#include "fileio.h"
#include "timefmt.h"
#include "tls_int.h"
#include "tlsfile.h"
#include "tlskey.h"

#define PKCS11_PREFIX	"pkcs11:"
#define PKCS11_PIN_ENV	"MTLS_PKCS11_PIN"
#define CRL_TIME_FLAGS	(GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED | \
			    GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE)

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
		if (file_pem_check(name, data, len, err, errlen) < 0)
			return -1;
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
static int
is_url(const char *path)
{
	return strncmp(path, PKCS11_PREFIX, strlen(PKCS11_PREFIX)) == 0;
}

/*
 * A private key file that group or others may read is a leak waiting to
 * happen: warn, or with strict refuse.  Returns 0, or -1 with err set.
 */
static int
check_key_mode(const char *keypath, const char *what, int strict, char *err,
    size_t errlen)
{
	struct stat st;

	if (stat(keypath, &st) < 0 || (st.st_mode & 077) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s is readable by %s (mode %04o)%s",
	    keypath, what, (st.st_mode & 007) ? "others" : "its group",
	    (unsigned int)(st.st_mode & 07777),
	    strict ? "" : "; chmod 600 it");
	if (strict)
		return -1;
	warn("%s", err);
	return 0;
}

/* Our chain from a file, or one certificate from a PKCS#11 token. */
static int
load_chain(struct tlsconf *c, const char *certpath, char *err, size_t errlen)
{
	unsigned char *cdata;
	size_t	 clen;
	int	 n, ret;

	if (is_url(certpath)) {
		if ((c->chain = gnutls_calloc(1, sizeof(*c->chain))) == NULL)
			return -1;
		if ((ret = gnutls_x509_crt_init(&c->chain[0])) < 0 ||
		    (ret = gnutls_x509_crt_import_url(c->chain[0], certpath,
		    0)) < 0) {
			snprintf(err, errlen, "%s: %s", certpath,
			    gnutls_strerror(ret));
			return -1;
		}
		c->nchain = 1;
		return 0;
	}
	if (file_read(certpath, &cdata, &clen, err, errlen) < 0)
		return -1;
	n = tlsconf_import_certs(certpath, cdata, clen, &c->chain, err,
	    errlen);
	free(cdata);
	if (n < 0)
		return -1;
	c->nchain = (unsigned int)n;
	return 0;
}

/*
 * A token's PIN from the environment, when the URI has no pin-value or
 * pin-source: keeps it off command lines, where ps(1) shows it.
 */
static int
pin_from_env(void *userdata, int attempt, const char *token_url,
    const char *token_label, unsigned int flags, char *pin, size_t pin_max)
{
	const char *env = userdata != NULL ? userdata : getenv(PKCS11_PIN_ENV);

	(void)token_url;
	(void)token_label;
	/* Never retry a wrong PIN: tokens lock after a few. */
	if (env == NULL || attempt > 0 || (flags & GNUTLS_PIN_WRONG) ||
	    strlen(env) >= pin_max)
		return -1;
	strcpy(pin, env);
	return 0;
}

char *
tlsconf_take_pin(void)
{
	char	*env = getenv(PKCS11_PIN_ENV), *copy;

	if (env == NULL)
		return NULL;
	copy = strdup(env);
	/* The bytes stay readable in /proc/PID/environ until overwritten. */
	explicit_bzero(env, strlen(env));
	unsetenv(PKCS11_PIN_ENV);
	return copy;
}

int
tlsconf_read_key(const char *keypath, gnutls_x509_privkey_t *key, char *err,
    size_t errlen)
{
	unsigned char *kdata;
	size_t	 klen, derlen;
	gnutls_datum_t kd;
	gnutls_x509_crt_fmt_t fmt;
	int	 ret, rv = -1, pem, encrypted = 0;

	if (file_read(keypath, &kdata, &klen, err, errlen) < 0)
		return -1;
	if (klen == 0) {
		snprintf(err, errlen, "%s: empty file", keypath);
		goto out0;
	}
	if ((ret = gnutls_x509_privkey_init(key)) < 0) {
		snprintf(err, errlen, "%s: %s", keypath, gnutls_strerror(ret));
		goto out0;
	}
	if (is_pem(kdata, klen) && file_pem_check(keypath, kdata, klen, err,
	    errlen) < 0) {
		gnutls_x509_privkey_deinit(*key);
		goto out0;
	}
	kd.data = kdata;
	kd.size = (unsigned int)klen;
	fmt = is_pem(kdata, klen) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER;
	/* Our own decoder: GnuTLS's leaves a copy of the text in the heap. */
	if (fmt == GNUTLS_X509_FMT_PEM && (pem = file_pem_decode(keypath,
	    kdata, klen, "PRIVATE KEY", &derlen, &encrypted, err,
	    errlen)) < 0) {
		gnutls_x509_privkey_deinit(*key);
		goto out0;
	}
	if (fmt == GNUTLS_X509_FMT_PEM && pem == 0) {
		fmt = GNUTLS_X509_FMT_DER;
		kd.size = (unsigned int)derlen;
	}
	ret = encrypted ? GNUTLS_E_DECRYPTION_FAILED :
	    gnutls_x509_privkey_import2(*key, &kd, fmt, NULL, 0);
	if (ret == GNUTLS_E_DECRYPTION_FAILED)
		snprintf(err, errlen, "%s: encrypted private key (not "
		    "supported: store it unencrypted, mode 0600, or in a "
		    "token)", keypath);
	else if (ret < 0)
		/* Garbage, a certificate, ...: GnuTLS's words say too little. */
		snprintf(err, errlen, "%s: no private key found (%s)", keypath,
		    gnutls_strerror(ret));
	else
		rv = 0;
	if (rv < 0)
		gnutls_x509_privkey_deinit(*key);
out0:
	/* Do not leave the private key in freed memory. */
	gnutls_memset(kdata, 0, klen);
	free(kdata);
	return rv;
}

int
tlsconf_load_key(gnutls_privkey_t *pkey, const char *keypath,
    const char *pin, int strict, char *err, size_t errlen)
{
	gnutls_x509_privkey_t key;
	int	 ret, rv = -1;

	if ((ret = gnutls_privkey_init(pkey)) < 0) {
		snprintf(err, errlen, "%s: %s", keypath, gnutls_strerror(ret));
		return -1;
	}
	if (is_url(keypath)) {
		/* The PIN: the URI's pin-value or pin-source, or $ENV. */
		gnutls_pkcs11_set_pin_function(pin_from_env, (void *)pin);
		if ((ret = gnutls_privkey_import_url(*pkey, keypath, 0)) < 0) {
			/* Name the object, never a pin-value. */
			snprintf(err, errlen, "%.*s: %s",
			    (int)strcspn(keypath, "?"), keypath,
			    gnutls_strerror(ret));
			return -1;
		}
		return 0;
	}
	if (tlsconf_read_key(keypath, &key, err, errlen) < 0)
		return -1;
	/* Only a real key is worth the warning about who may read it. */
	if (check_key_mode(keypath, "private key", strict, err, errlen) < 0)
		goto out;
	if ((ret = gnutls_privkey_import_x509(*pkey, key,
	    GNUTLS_PRIVKEY_IMPORT_COPY)) < 0) {
		snprintf(err, errlen, "%s: %s", keypath, gnutls_strerror(ret));
		goto out;
	}
	rv = 0;
out:
	gnutls_x509_privkey_deinit(key);
	return rv;
}

/*
 * The chain and key of old, copied (for a reload that cannot read the key
 * file again, such as after dropping privileges).
 */
static int
copy_keypair(struct tlsconf *c, const struct tlsconf *old,
    struct tlskey *signer, char *err, size_t errlen)
{
	gnutls_x509_privkey_t xkey;
	gnutls_datum_t der;
	unsigned int i;
	int	 ret;

	if ((c->chain = gnutls_calloc(old->nchain, sizeof(*c->chain))) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < old->nchain; i++) {
		if ((ret = gnutls_x509_crt_init(&c->chain[i])) < 0)
			goto fail;
		c->nchain++;
		if ((ret = gnutls_x509_crt_export2(old->chain[i],
		    GNUTLS_X509_FMT_DER, &der)) < 0)
			goto fail;
		ret = gnutls_x509_crt_import(c->chain[i], &der,
		    GNUTLS_X509_FMT_DER);
		gnutls_free(der.data);
		if (ret < 0)
			goto fail;
	}
	/* The key process's key: the current one, as old used it. */
	if (signer != NULL) {
		if ((ret = tlskey_privkey(signer, 0, &c->pkey)) < 0)
			goto fail;
		return 0;
	}
	if ((ret = gnutls_privkey_init(&c->pkey)) < 0 ||
	    (ret = gnutls_privkey_export_x509(old->pkey, &xkey)) < 0)
		goto fail;
	ret = gnutls_privkey_import_x509(c->pkey, xkey,
	    GNUTLS_PRIVKEY_IMPORT_COPY);
	gnutls_x509_privkey_deinit(xkey);
	if (ret < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "the previous key: %s", gnutls_strerror(ret));
	return -1;
}

/*
 * Our chain and key into c->cred.  The credentials and a client's
 * certificate callback (tlssess.c) share one copy of each.
 */
static int
load_keypair(struct tlsconf *c, const struct tlsconf_files *f,
    const struct tlsconf *old, char *err, size_t errlen)
{
	unsigned int n;
	int	 ret;

	if (old != NULL) {
		if (copy_keypair(c, old, f->signer, err, errlen) < 0)
			return -1;
	} else if (load_chain(c, f->cert, err, errlen) < 0)
		return -1;
	else if (f->signer != NULL) {
		/*
		 * The key process has the key (a pending one after a
		 * reload): match our certificate against its public key
		 * here, so that GnuTLS need not sign to check it.
		 */
		if (c->nchain == 0 || !tlskey_matches(f->signer, 1,
		    c->chain[0])) {
			snprintf(err, errlen, "%.*s: key does not match "
			    "certificate %s", (int)strcspn(f->key, "?"),
			    f->key, f->cert);
			return -1;
		}
		if ((ret = tlskey_privkey(f->signer, 1, &c->pkey)) < 0) {
			snprintf(err, errlen, "key process: %s",
			    gnutls_strerror(ret));
			return -1;
		}
		gnutls_certificate_set_flags(c->cred,
		    GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
	} else if (tlsconf_load_key(&c->pkey, f->key, f->pin, f->strict, err,
	    errlen) < 0)
		return -1;
	if (old != NULL && f->signer != NULL)
		gnutls_certificate_set_flags(c->cred,
		    GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
	n = c->nchain;
	if ((c->pcert = gnutls_calloc(n, sizeof(*c->pcert))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((ret = gnutls_pcert_import_x509_list(c->pcert, c->chain, &n,
	    0)) < 0) {
		snprintf(err, errlen, "%s: %s", f->cert, gnutls_strerror(ret));
		return -1;
	}
	c->npcert = n;
	/*
	 * This checks that the key belongs to the leaf.  The credentials
	 * keep pointers to pcert and pkey, which live as long as c.
	 */
	ret = gnutls_certificate_set_key(c->cred, NULL, 0, c->pcert,
	    (int)c->npcert, c->pkey);
	if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		snprintf(err, errlen, "%.*s: key does not match certificate %s",
		    (int)strcspn(f->key, "?"), f->key, f->cert);
		return -1;
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", f->cert, gnutls_strerror(ret));
		return -1;
	}
	/* The credentials own the key and the certificates' data now. */
	c->keys_in_cred = 1;
	return 0;
}

static int
load_trust(struct tlsconf *c, const char *capath, char *err, size_t errlen)
{
	unsigned char *data;
	size_t	 len;
	gnutls_datum_t d;
	int	 n, ret;

	if (file_read(capath, &data, &len, err, errlen) < 0)
		return -1;
	/* Parse first, for a message that says what is wrong. */
	if ((n = tlsconf_import_certs(capath, data, len, &c->cas, err,
	    errlen)) < 0) {
		free(data);
		return -1;
	}
	c->ncas = (unsigned int)n;
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

/*
 * CRLs: each must be signed by a trusted CA, or anyone could make us
 * refuse good peers.  A CRL whose issuer is not a trusted CA at all is
 * often an intermediate CA's: it is kept aside ("deferred") and applied
 * to a client whose verified chain holds a CA certificate that signed it
 * (tlsconf_check_deferred()).  An expired CRL is kept (failing closed: the
 * peers it covers are refused as "revocation data too old"); a server,
 * which runs on, warns at once.  A client says why when it refuses the
 * server, in the one line of its failure.
 */
static int
load_crl(struct tlsconf *c, const char *path, int server, char *err,
    size_t errlen)
{
	unsigned char *data;
	size_t	 len;
	gnutls_datum_t d;
	gnutls_x509_crl_t *crls = NULL, *grown;
	unsigned int n = 0, i, status, ndeferred = 0;
	char	 when[TIMEFMT_MAX];
	time_t	 next;
	int	 ret, rv = -1;

	if (file_read(path, &data, &len, err, errlen) < 0)
		return -1;
	if (is_pem(data, len) && file_pem_check(path, data, len, err,
	    errlen) < 0) {
		free(data);
		return -1;
	}
	d.data = data;
	d.size = (unsigned int)len;
	ret = gnutls_x509_crl_list_import2(&crls, &n, &d, is_pem(data, len) ?
	    GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER, 0);
	if (ret < 0 || n == 0) {
		snprintf(err, errlen, "%s: no CRL found%s%s", path,
		    ret < 0 ? ": " : "", ret < 0 ? gnutls_strerror(ret) : "");
		goto out;
	}
	for (i = 0; i < n; i++) {
		/*
		 * The signature only: its dates are looked at below (GnuTLS
		 * flags an old CRL as invalid even without time checks).
		 */
		if (gnutls_x509_crl_verify(crls[i], c->cas, c->ncas,
		    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status) < 0)
			status = GNUTLS_CERT_INVALID;
		if (status & CRL_TIME_FLAGS)
			status &= ~(CRL_TIME_FLAGS | GNUTLS_CERT_INVALID);
		/*
		 * A server defers a CRL of an unknown issuer (an
		 * intermediate's, checked against each client's chain); a
		 * client wants its CRLs from its own CAs, and says so now.
		 */
		if (server && (status & ~GNUTLS_CERT_INVALID) ==
		    GNUTLS_CERT_SIGNER_NOT_FOUND)
			ndeferred++;
		else if (status != 0) {
			snprintf(err, errlen, "%s: CRL not signed by a trusted "
			    "CA", path);
			goto out;
		}
		next = gnutls_x509_crl_get_next_update(crls[i]);
		if (next == (time_t)-1)
			continue;
		if (c->crl_next_update == 0 || next < c->crl_next_update)
			c->crl_next_update = next;
		if (server && next < time(NULL))
			warn("%s: CRL expired %s; peers are refused until it "
			    "is renewed", path,
			    timefmt_rfc3339(when, sizeof(when), next));
	}
	if (ndeferred == 0) {
		if ((ret = gnutls_certificate_set_x509_crl_mem(c->cred, &d,
		    is_pem(data, len) ? GNUTLS_X509_FMT_PEM :
		    GNUTLS_X509_FMT_DER)) < 0) {
			snprintf(err, errlen, "%s: %s", path,
			    gnutls_strerror(ret));
			goto out;
		}
		c->ncrl += n;
		rv = 0;
		goto out;
	}
	/* One by one: the credentials copy those a trusted CA signed. */
	if ((grown = gnutls_realloc(c->deferred, (c->ndeferred + ndeferred) *
	    sizeof(*grown))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	c->deferred = grown;
	for (i = 0; i < n; i++) {
		if (gnutls_x509_crl_verify(crls[i], c->cas, c->ncas,
		    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status) < 0 ||
		    (status & GNUTLS_CERT_SIGNER_NOT_FOUND)) {
			c->deferred[c->ndeferred++] = crls[i];
			crls[i] = NULL;
		} else if ((ret = gnutls_certificate_set_x509_crl(c->cred,
		    &crls[i], 1)) < 0) {
			snprintf(err, errlen, "%s: %s", path,
			    gnutls_strerror(ret));
			goto out;
		}
	}
	c->ncrl += n;
	rv = 0;
out:
	for (i = 0; i < n; i++)
		if (crls[i] != NULL)
			gnutls_x509_crl_deinit(crls[i]);
	gnutls_free(crls);
	free(data);
	return rv;
}

/*
 * Is the OCSP response at path signed by the issuer of our certificate
 * (or by a responder it delegated to)?  GnuTLS checks only that it names
 * our serial and our issuer's name, so one signed by another CA of the
 * same name would be stapled, and every client that checks it would
 * refuse us.  The issuer is looked for in our chain, then among the CAs
 * of cafile (several may have its name: any one that verifies it will
 * do).  Returns 0 (also when no issuer is at hand to check against, with
 * a warning), or -1 with err set.
 */
static int
check_ocsp_signer(const struct tlsconf *c, const char *path, char *err,
    size_t errlen)
{
	gnutls_ocsp_resp_t resp = NULL;
	gnutls_datum_t d;
	unsigned char *data;
	size_t	 len;
	unsigned int i, verify, tried = 0;
	int	 rv = -1;

	if (c->nchain == 0)
		return 0;
	if (file_read(path, &data, &len, err, errlen) < 0)
		return -1;
	d.data = data;
	d.size = (unsigned int)len;
	if (gnutls_ocsp_resp_init(&resp) < 0 ||
	    gnutls_ocsp_resp_import(resp, &d) < 0) {
		snprintf(err, errlen, "%s: OCSP response not usable (cannot "
		    "be parsed)", path);
		goto out;
	}
	for (i = 0; i < c->nchain + c->ncas; i++) {
		gnutls_x509_crt_t cand = i < c->nchain ? c->chain[i] :
		    c->cas[i - c->nchain];

		if (i == 0 || !gnutls_x509_crt_check_issuer(c->chain[0], cand))
			continue;
		tried++;
		if (gnutls_ocsp_resp_verify_direct(resp, cand, &verify,
		    0) == 0 && verify == 0) {
			rv = 0;
			goto out;
		}
	}
	if (tried == 0) {
		warn("%s: cannot check who signed this OCSP response: the "
		    "issuer of our certificate is neither in its chain nor "
		    "a trusted CA", path);
		rv = 0;
	} else
		snprintf(err, errlen, "%s: OCSP response not usable (not "
		    "signed by the issuer of our certificate)", path);
out:
	gnutls_ocsp_resp_deinit(resp);
	free(data);
	return rv;
}

int
tlsconf_check_deferred(const struct tlsconf *c, const gnutls_datum_t *der,
    unsigned int n, char *why, size_t whylen)
{
	gnutls_x509_crt_t crt[TLSCONF_CHAIN_MAX];
	gnutls_x509_trust_list_t tl;
	gnutls_datum_t dn = { NULL, 0 };
	unsigned int i, j, k, m = 0, st;
	int	 rv = 0;

	if (c->ndeferred == 0 || n == 0)
		return 0;
	gnutls_certificate_get_trust_list(c->cred, &tl);
	for (m = 0; m < n && m < TLSCONF_CHAIN_MAX; m++) {
		if (gnutls_x509_crt_init(&crt[m]) < 0)
			goto bad;
		if (gnutls_x509_crt_import(crt[m], &der[m],
		    GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crt[m]);
			goto bad;
		}
	}
	for (i = 0; i < c->ndeferred; i++) {
		/* A CA certificate of this chain, itself chaining to ours. */
		for (j = 0; j < m; j++) {
			if (!gnutls_x509_crl_check_issuer(c->deferred[i],
			    crt[j]) ||
			    gnutls_x509_crl_verify(c->deferred[i], &crt[j], 1,
			    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &st) < 0)
				continue;
			/* Its dates: tlsconf_crl_stale() judges them. */
			if (st & CRL_TIME_FLAGS)
				st &= ~(CRL_TIME_FLAGS | GNUTLS_CERT_INVALID);
			if (st != 0)
				continue;
			if (gnutls_x509_trust_list_verify_crt2(tl, &crt[j],
			    m - j, NULL, 0, 0, &st, NULL) < 0 || st != 0)
				continue;
			break;
		}
		if (j == m)
			continue;	/* not this chain's CRL */
		for (k = 0; k < m; k++)
			if (gnutls_x509_crt_check_revocation(crt[k],
			    &c->deferred[i], 1) == 1) {
				gnutls_x509_crl_get_issuer_dn3(c->deferred[i],
				    &dn, 0);
				snprintf(why, whylen, "certificate verification "
				    "failed: revoked (by the CRL of %.*s)",
				    (int)dn.size, dn.data ? (char *)dn.data :
				    "");
				gnutls_free(dn.data);
				rv = 1;
				goto out;
			}
	}
	goto out;
bad:
	snprintf(why, whylen, "unreadable client chain");
	rv = -1;
out:
	for (i = 0; i < m; i++)
		gnutls_x509_crt_deinit(crt[i]);
	return rv;
}

/* Hex digit value, or -1. */
static int
hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * --ticket-key: the master key, TLSCONF_TICKET_KEY_SIZE bytes as hex
 * digits on one line (a final newline allowed, nothing else), from a file
 * only its owner may read.
 */
static int
load_ticket_key(struct tlsconf *c, const char *path, int strict, char *err,
    size_t errlen)
{
	unsigned char *data;
	size_t	 len, total, i, want = 2 * TLSCONF_TICKET_KEY_SIZE;
	int	 rv = -1, hi, lo;

	if (file_read(path, &data, &total, err, errlen) < 0)
		return -1;
	len = total;
	if (len == want + 1 && data[want] == '\n')
		len--;
	if (len != want) {
		snprintf(err, errlen, "%s: not a ticket key (want %zu hex "
		    "digits on one line; make one with mtls-serve "
		    "--generate-ticket-key)", path, want);
		goto out;
	}
	if ((c->ticket_key.data = gnutls_malloc(TLSCONF_TICKET_KEY_SIZE)) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	c->ticket_key.size = TLSCONF_TICKET_KEY_SIZE;
	for (i = 0; i < TLSCONF_TICKET_KEY_SIZE; i++) {
		if ((hi = hexval(data[2 * i])) < 0 ||
		    (lo = hexval(data[2 * i + 1])) < 0) {
			snprintf(err, errlen, "%s: not a ticket key (a "
			    "character that is not a hex digit at offset %zu)",
			    path, hi < 0 ? 2 * i : 2 * i + 1);
			goto out;
		}
		c->ticket_key.data[i] = (unsigned char)(hi << 4 | lo);
	}
	/* Checked once the file is known to be a key, as for private keys. */
	if (check_key_mode(path, "ticket key", strict, err, errlen) < 0)
		goto out;
	rv = 0;
out:
	gnutls_memset(data, 0, total);
	free(data);
	return rv;
}

int
tlsconf_ticket_key_generate(char *hex, size_t n, char *err, size_t errlen)
{
	gnutls_datum_t k;
	size_t	 i;
	int	 ret;

	if (n < 2 * TLSCONF_TICKET_KEY_SIZE + 1) {
		snprintf(err, errlen, "%s",
		    gnutls_strerror(GNUTLS_E_SHORT_MEMORY_BUFFER));
		return -1;
	}
	if ((ret = gnutls_session_ticket_key_generate(&k)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		return -1;
	}
	if (k.size != TLSCONF_TICKET_KEY_SIZE) {
		gnutls_memset(k.data, 0, k.size);
		gnutls_free(k.data);
		snprintf(err, errlen, "%s",
		    gnutls_strerror(GNUTLS_E_INTERNAL_ERROR));
		return -1;
	}
	for (i = 0; i < k.size; i++)
		snprintf(hex + 2 * i, 3, "%02x", k.data[i]);
	gnutls_memset(k.data, 0, k.size);
	gnutls_free(k.data);
	return 0;
}

/* Which part of a load failed. */
enum stage { STAGE_OTHER, STAGE_KEYPAIR };

/* tlsconf_load(), taking the chain and key from old if it is not NULL. */
static struct tlsconf *
load(const struct tlsconf_files *f, const struct tlsconf *old, char *err,
    size_t errlen, enum stage *stage)
{
	struct tlsconf *c;
	const char *errpos = NULL;
	int	 ret, i;

	*stage = STAGE_OTHER;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((ret = gnutls_certificate_allocate_credentials(&c->cred)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		free(c);
		return NULL;
	}
	if (f->cert != NULL && load_keypair(c, f, old, err, errlen) < 0) {
		*stage = STAGE_KEYPAIR;
		goto fail;
	}
	if (f->ca != NULL && load_trust(c, f->ca, err, errlen) < 0)
		goto fail;
	for (i = 0; i < f->ncrls; i++)
		if (load_crl(c, f->crls[i], f->server, err, errlen) < 0)
			goto fail;
	if (f->ocsp != NULL && (ret =
	    gnutls_certificate_set_ocsp_status_request_file2(c->cred, f->ocsp,
	    0, GNUTLS_X509_FMT_DER)) < 0) {
		/* GnuTLS checks it is for our certificate, good and fresh. */
		snprintf(err, errlen, "%s: OCSP response not usable (not for "
		    "our certificate, not \"good\", or stale): %s", f->ocsp,
		    gnutls_strerror(ret));
		goto fail;
	}
	if (f->ocsp != NULL && check_ocsp_signer(c, f->ocsp, err, errlen) < 0)
		goto fail;
	/* A client's certificate goes out through this, for every session. */
	if (!f->server)
		gnutls_certificate_set_retrieve_function2(c->cred,
		    tlssess_client_cert_cb);
	if (f->server && f->ticket_key != NULL) {
		if (load_ticket_key(c, f->ticket_key, f->strict, err,
		    errlen) < 0)
			goto fail;
	} else if (f->server && (ret = gnutls_session_ticket_key_generate(
	    &c->ticket_key)) < 0) {
		snprintf(err, errlen, "session ticket key: %s",
		    gnutls_strerror(ret));
		goto fail;
	}
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

struct tlsconf *
tlsconf_load(const struct tlsconf_files *f, char *err, size_t errlen)
{
	enum stage stage;

	return load(f, NULL, err, errlen, &stage);
}

struct tlsconf *
tlsconf_reload(const struct tlsconf_files *f, const struct tlsconf *old,
    char *err, size_t errlen, char *keyerr, size_t keyerrlen)
{
	struct tlsconf *c;
	enum stage stage;

	keyerr[0] = '\0';
	/* The key process reads the key first, and holds it pending. */
	if (f->signer != NULL && f->cert != NULL &&
	    tlskey_load(f->signer, keyerr, keyerrlen) < 0)
		return load(f, old, err, errlen, &stage);
	c = load(f, NULL, err, errlen, &stage);
	if (f->signer != NULL) {
		if (c != NULL)
			tlskey_commit(f->signer);
		else
			tlskey_abort(f->signer);
	}
	if (c != NULL || stage != STAGE_KEYPAIR || old->nchain == 0 ||
	    old->pkey == NULL)
		return c;
	snprintf(keyerr, keyerrlen, "%s", err);
	return load(f, old, err, errlen, &stage);
}

int
tlsconf_crl_stale(const struct tlsconf *c, char *why, size_t n)
{
	char	 when[TIMEFMT_MAX];

	if (c->crl_next_update == 0 || time(NULL) <= c->crl_next_update)
		return 0;
	snprintf(why, n, "revocation data too old: a CRL expired %s",
	    timefmt_rfc3339(when, sizeof(when), c->crl_next_update));
	return 1;
}

const char *
tlsconf_version(void)
{
	return gnutls_check_version(NULL);
}

void
tlsconf_counts(const struct tlsconf *c, struct tlsconf_counts *n)
{
	n->chain = c->nchain;
	n->cas = c->nca;
	n->crls = c->ncrl;
	n->deferred = c->ndeferred;
}

int
tlsconf_identity(const struct tlsconf *c, struct x509_facts *f)
{
	char	 err[256];

	if (c->nchain == 0)
		return -1;
	return tlsx509_parse_crt(c->chain[0], f, err, sizeof(err));
}

/* Hash n certificates (DER), each after tag: 0 or a GnuTLS error code. */
static int
hash_crts(gnutls_hash_hd_t h, const char *tag, gnutls_x509_crt_t *crts,
    unsigned int n)
{
	gnutls_datum_t der;
	unsigned int i;
	int	 ret;

	for (i = 0; i < n; i++) {
		if ((ret = gnutls_x509_crt_export2(crts[i],
		    GNUTLS_X509_FMT_DER, &der)) < 0)
			return ret;
		gnutls_hash(h, tag, strlen(tag) + 1);
		gnutls_hash(h, der.data, der.size);
		gnutls_free(der.data);
	}
	return 0;
}

int
tlsconf_digest(const struct tlsconf *c, const char *const *extra, size_t n,
    char hex[65], char *err, size_t errlen)
{
	gnutls_hash_hd_t h;
	unsigned char md[32];
	size_t	 i;
	int	 ret;

	if ((ret = gnutls_hash_init(&h, GNUTLS_DIG_SHA256)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		return -1;
	}
	/* Each item tagged and NUL-ended, so no two settings hash alike. */
	if ((ret = hash_crts(h, "ca", c->cas, c->ncas)) < 0 ||
	    (ret = hash_crts(h, "me", c->chain, c->nchain)) < 0) {
		gnutls_hash_deinit(h, NULL);
		snprintf(err, errlen, "%s", gnutls_strerror(ret));
		return -1;
	}
	for (i = 0; i < n; i++)
		gnutls_hash(h, extra[i], strlen(extra[i]) + 1);
	gnutls_hash_deinit(h, md);
	tlsx509_hex(md, sizeof(md), hex);
	return 0;
}

void
tlsconf_free(struct tlsconf *c)
{
	unsigned int j;

	if (c == NULL)
		return;
	if (c->prio != NULL)
		gnutls_priority_deinit(c->prio);
	if (!c->keys_in_cred) {
		unsigned int i;

		for (i = 0; c->pcert != NULL && i < c->npcert; i++)
			gnutls_pcert_deinit(&c->pcert[i]);
		if (c->pkey != NULL)
			gnutls_privkey_deinit(c->pkey);
	}
	/* The array is ours; the credentials copied it. */
	gnutls_free(c->pcert);
	if (c->ticket_key.data != NULL) {
		gnutls_memset(c->ticket_key.data, 0, c->ticket_key.size);
		gnutls_free(c->ticket_key.data);
	}
	for (j = 0; j < c->ndeferred; j++)
		gnutls_x509_crl_deinit(c->deferred[j]);
	gnutls_free(c->deferred);
	gnutls_certificate_free_credentials(c->cred);
	tlsconf_free_certs(c->chain, c->nchain);
	tlsconf_free_certs(c->cas, c->ncas);
	free(c);
}
