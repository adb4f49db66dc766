#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/pkcs12.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>
#include <libtasn1.h>

#include "fileio.h"
#include "tlsload.h"

static int
add(struct certlist *l, gnutls_x509_crt_t crt, const char *source,
    char *err, size_t errlen)
{
	void	*p;

	if (l->n >= LOAD_MAX_CERTS) {
		snprintf(err, errlen, "%s: more than %d certificates", source,
		    LOAD_MAX_CERTS);
		gnutls_x509_crt_deinit(crt);
		return -1;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((p = realloc(l->crt, l->cap * sizeof(*l->crt))) == NULL)
			goto oom;
		l->crt = p;
		if ((p = realloc(l->source, l->cap * sizeof(*l->source))) ==
		    NULL)
			goto oom;
		l->source = p;
	}
	l->crt[l->n] = crt;
	l->source[l->n] = source;
	l->n++;
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory", source);
	gnutls_x509_crt_deinit(crt);
	return -1;
}

int
tlsload_der(struct certlist *l, const unsigned char *der, size_t len,
    const char *source, char *err, size_t errlen)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)der, (unsigned int)len };
	int	 ret;

	if ((ret = gnutls_x509_crt_init(&crt)) < 0) {
		snprintf(err, errlen, "%s: %s", source, gnutls_strerror(ret));
		return -1;
	}
	if ((ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER)) < 0) {
		gnutls_x509_crt_deinit(crt);
		snprintf(err, errlen, "%s: not a certificate: %s", source,
		    gnutls_strerror(ret));
		return -1;
	}
	return add(l, crt, source, err, errlen);
}

/*
 * The length of the DER object at der: its header plus its content.
 * Returns it, or -1 with the reason (truncated, bad length) in err.
 */
static long
der_object_len(const unsigned char *der, size_t len, const char *source,
    size_t offset, char *err, size_t errlen)
{
	unsigned char cls;
	unsigned long tag;
	int	 taglen, lenlen;
	long	 content;

	if (asn1_get_tag_der(der, (int)len, &cls, &taglen, &tag) !=
	    ASN1_SUCCESS) {
		snprintf(err, errlen, "%s: bad DER tag at offset %zu", source,
		    offset);
		return -1;
	}
	content = asn1_get_length_der(der + taglen, (int)len - taglen,
	    &lenlen);
	if (content == -1) {
		snprintf(err, errlen, "%s: indefinite length at offset %zu "
		    "(BER, not DER)", source, offset);
		return -1;
	}
	if (content < 0) {
		/* -2: the length runs past the data; -4: it overflows. */
		snprintf(err, errlen, "%s: truncated DER: the length at "
		    "offset %zu points past the end of the data", source,
		    offset);
		return -1;
	}
	return taglen + lenlen + content;
}

static int
load_pkcs7(struct certlist *l, const gnutls_datum_t *d,
    gnutls_x509_crt_fmt_t fmt, const char *source, char *err,
    size_t errlen)
{
	gnutls_pkcs7_t p7;
	gnutls_datum_t raw;
	int	 i, n, ret, rv = -1;

	if ((ret = gnutls_pkcs7_init(&p7)) < 0) {
		snprintf(err, errlen, "%s: %s", source, gnutls_strerror(ret));
		return -1;
	}
	if ((ret = gnutls_pkcs7_import(p7, d, fmt)) < 0) {
		snprintf(err, errlen, "%s: bad PKCS#7: %s", source,
		    gnutls_strerror(ret));
		goto out;
	}
	n = gnutls_pkcs7_get_crt_count(p7);
	for (i = 0; i < n; i++) {
		if ((ret = gnutls_pkcs7_get_crt_raw2(p7, i, &raw)) < 0) {
			snprintf(err, errlen, "%s: PKCS#7 certificate %d: %s",
			    source, i, gnutls_strerror(ret));
			goto out;
		}
		ret = tlsload_der(l, raw.data, raw.size, source, err, errlen);
		gnutls_free(raw.data);
		if (ret < 0)
			goto out;
	}
	if (n <= 0) {
		snprintf(err, errlen, "%s: no certificate found (empty PKCS#7)",
		    source);
		goto out;
	}
	rv = 0;
out:
	gnutls_pkcs7_deinit(p7);
	return rv;
}

static int
load_pkcs12(struct certlist *l, const gnutls_datum_t *d, const char *password,
    const char *source, char *err, size_t errlen)
{
	gnutls_pkcs12_t p12;
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t *chain = NULL, *extra = NULL;
	gnutls_x509_crl_t crl = NULL;
	unsigned int nchain = 0, nextra = 0, i;
	int	 ret, rv = -1;

	if ((ret = gnutls_pkcs12_init(&p12)) < 0) {
		snprintf(err, errlen, "%s: %s", source, gnutls_strerror(ret));
		return -1;
	}
	if ((ret = gnutls_pkcs12_import(p12, d, GNUTLS_X509_FMT_DER, 0)) < 0) {
		snprintf(err, errlen, "%s: no certificate found (not PEM, a "
		    "DER certificate, PKCS#7 or PKCS#12)", source);
		goto out;
	}
	if (password == NULL)
		password = "";
	if ((ret = gnutls_pkcs12_verify_mac(p12, password)) < 0) {
		snprintf(err, errlen, "%s: PKCS#12 password is wrong%s", source,
		    *password ? "" : " (none given: see --password-file)");
		goto out;
	}
	ret = gnutls_pkcs12_simple_parse(p12, password, &key, &chain, &nchain,
	    &extra, &nextra, &crl, 0);
	if (ret < 0) {
		snprintf(err, errlen, "%s: PKCS#12: %s", source,
		    gnutls_strerror(ret));
		goto out;
	}
	rv = 0;
	for (i = 0; i < nchain; i++)
		if (rv == 0 && add(l, chain[i], source, err, errlen) < 0)
			rv = -1;
		else if (rv < 0)
			gnutls_x509_crt_deinit(chain[i]);
	for (i = 0; i < nextra; i++)
		if (rv == 0 && add(l, extra[i], source, err, errlen) < 0)
			rv = -1;
		else if (rv < 0)
			gnutls_x509_crt_deinit(extra[i]);
	if (rv == 0 && nchain + nextra == 0) {
		snprintf(err, errlen, "%s: no certificate found in PKCS#12",
		    source);
		rv = -1;
	}
out:
	gnutls_free(chain);
	gnutls_free(extra);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	if (crl != NULL)
		gnutls_x509_crl_deinit(crl);
	gnutls_pkcs12_deinit(p12);
	return rv;
}

/* One or more DER objects, one after another. */
static int
load_der_input(struct certlist *l, const unsigned char *data, size_t len,
    const char *password, const char *source, char *err, size_t errlen)
{
	gnutls_datum_t d;
	size_t	 off = 0;
	long	 olen;
	gnutls_x509_crt_t crt;

	if (data[0] != 0x30) {
		snprintf(err, errlen, "%s: no certificate found (neither PEM "
		    "nor DER)", source);
		return -1;
	}
	while (off < len) {
		if ((olen = der_object_len(data + off, len - off, source, off,
		    err, errlen)) < 0)
			return -1;
		d.data = (unsigned char *)data + off;
		d.size = (unsigned int)olen;
		if (gnutls_x509_crt_init(&crt) < 0) {
			snprintf(err, errlen, "%s: out of memory", source);
			return -1;
		}
		if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0) {
			if (add(l, crt, source, err, errlen) < 0)
				return -1;
		} else {
			gnutls_x509_crt_deinit(crt);
			/* Not a certificate: a PKCS#7 or PKCS#12 container. */
			if (off != 0 || (size_t)olen != len) {
				snprintf(err, errlen, "%s: DER object at offset "
				    "%zu is not a certificate", source, off);
				return -1;
			}
			if (load_pkcs7(l, &d, GNUTLS_X509_FMT_DER, source, err,
			    errlen) == 0)
				return 0;
			return load_pkcs12(l, &d, password, source, err,
			    errlen);
		}
		off += (size_t)olen;
	}
	return 0;
}

static int
b64char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/*
 * PEM: every "-----BEGIN X-----" block in order, text around them
 * ignored.  Certificates and PKCS#7 blocks are read; others (keys) are
 * passed over.
 */
static int
load_pem(struct certlist *l, const char *text, size_t len, const char *source,
    char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *eol, *q;
	char	 label[64], endline[96];
	char	*b64 = NULL;
	size_t	 b64len = 0, line = 0, begin_line = 0, found = 0;
	int	 inblock = 0, ret, rv = -1;
	gnutls_datum_t in, der;

	if ((b64 = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", source);
		return -1;
	}
	for (; p < end; p = eol + 1) {
		line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		/* The line without its "\r\n" or "\n". */
		q = eol;
		while (q > p && (q[-1] == '\r' || q[-1] == ' ' ||
		    q[-1] == '\t'))
			q--;
		if (!inblock) {
			if ((size_t)(q - p) > 16 && memcmp(p, "-----BEGIN ",
			    11) == 0 && memcmp(q - 5, "-----", 5) == 0 &&
			    (size_t)(q - p) - 16 < sizeof(label)) {
				memcpy(label, p + 11, (size_t)(q - p) - 16);
				label[(q - p) - 16] = '\0';
				snprintf(endline, sizeof(endline),
				    "-----END %s-----", label);
				inblock = 1;
				begin_line = line;
				b64len = 0;
			}
			continue;
		}
		if ((size_t)(q - p) == strlen(endline) &&
		    memcmp(p, endline, (size_t)(q - p)) == 0) {
			inblock = 0;
			if (strcmp(label, "CERTIFICATE") != 0 &&
			    strcmp(label, "X509 CERTIFICATE") != 0 &&
			    strcmp(label, "TRUSTED CERTIFICATE") != 0 &&
			    strcmp(label, "PKCS7") != 0)
				continue;
			in.data = (unsigned char *)b64;
			in.size = (unsigned int)b64len;
			if ((ret = gnutls_base64_decode2(&in, &der)) < 0) {
				snprintf(err, errlen, "%s: bad base64 in the "
				    "block at line %zu: %s", source, begin_line,
				    gnutls_strerror(ret));
				goto out;
			}
			if (strcmp(label, "PKCS7") == 0)
				ret = load_pkcs7(l, &der, GNUTLS_X509_FMT_DER,
				    source, err, errlen);
			else if (der_object_len(der.data, der.size, source, 0,
			    err, errlen) != (long)der.size) {
				if (der_object_len(der.data, der.size, source,
				    0, err, errlen) >= 0)
					snprintf(err, errlen, "%s: bad DER in "
					    "the block at line %zu", source,
					    begin_line);
				ret = -1;
			} else
				ret = tlsload_der(l, der.data, der.size, source,
				    err, errlen);
			gnutls_free(der.data);
			if (ret < 0)
				goto out;
			found++;
			continue;
		}
		/* Headers such as "Proc-Type:" are allowed before the data. */
		if (memchr(p, ':', (size_t)(q - p)) != NULL && b64len == 0)
			continue;
		for (; p < q; p++) {
			if (!b64char((unsigned char)*p)) {
				snprintf(err, errlen, "%s: bad base64 at line "
				    "%zu", source, line);
				goto out;
			}
			b64[b64len++] = *p;
		}
	}
	if (inblock) {
		snprintf(err, errlen, "%s: truncated PEM: no END line for the "
		    "BEGIN at line %zu", source, begin_line);
		goto out;
	}
	if (found == 0) {
		snprintf(err, errlen, "%s: no certificate found", source);
		goto out;
	}
	rv = 0;
out:
	free(b64);
	return rv;
}

int
tlsload_data(struct certlist *l, const unsigned char *data, size_t len,
    const char *name, const char *password, char *err, size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "%s: empty input: no certificate found",
		    name);
		return -1;
	}
	if (memmem(data, len, "-----BEGIN ", 11) != NULL)
		return load_pem(l, (const char *)data, len, name, err, errlen);
	return load_der_input(l, data, len, password, name, err, errlen);
}

int
tlsload_file(struct certlist *l, const char *path, const char *password,
    char *err, size_t errlen)
{
	unsigned char *data;
	size_t	 len;
	const char *name = strcmp(path, "-") == 0 ? "(stdin)" : path;
	int	 rv;

	if (file_read(path, &data, &len, err, errlen) < 0)
		return -1;
	rv = tlsload_data(l, data, len, name, password, err, errlen);
	free(data);
	return rv;
}

int
tlsload_export(const struct certlist *l, unsigned int i, unsigned char **der,
    size_t *len)
{
	gnutls_datum_t d;

	if (gnutls_x509_crt_export2(l->crt[i], GNUTLS_X509_FMT_DER, &d) < 0)
		return -1;
	if ((*der = malloc(d.size)) != NULL) {
		memcpy(*der, d.data, d.size);
		*len = d.size;
	}
	gnutls_free(d.data);
	return *der != NULL ? 0 : -1;
}

void
tlsload_free(struct certlist *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		gnutls_x509_crt_deinit(l->crt[i]);
	free(l->crt);
	free(l->source);
	memset(l, 0, sizeof(*l));
}
