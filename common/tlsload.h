/*
 * tlsload: certificates from PEM, DER, PKCS#7 and PKCS#12 input, in order,
 * for mtls-certinfo.
 *
 * The format is found from the content, never from the file name.  The
 * list's certificates are opaque handles for tlsfacts and tlschain.
 */
#ifndef MTLS_TLSLOAD_H
#define MTLS_TLSLOAD_H

#include <stddef.h>

struct gnutls_x509_crt_int;

/* No input needs more; a larger count is refused, not slowly printed. */
#define LOAD_MAX_CERTS	10000

struct certlist {
	struct gnutls_x509_crt_int **crt;
	const char	**source;	/* the file each came from */
	unsigned int	 n, cap;
};

/*
 * Append every certificate in the file at path ("-": standard input).
 * password (may be NULL) opens PKCS#12 files.  Returns 0, or -1 with
 * "PATH: what is wrong" in err ("no certificate found", "bad base64 at
 * line 12", "truncated DER ...").  path must outlive the list.
 */
int	 tlsload_file(struct certlist *l, const char *path,
	    const char *password, char *err, size_t errlen);

/* The same for data already in memory, named name in messages. */
int	 tlsload_data(struct certlist *l, const unsigned char *data, size_t len,
	    const char *name, const char *password, char *err, size_t errlen);

/* Append a DER certificate (from a live server). */
int	 tlsload_der(struct certlist *l, const unsigned char *der, size_t len,
	    const char *source, char *err, size_t errlen);

/*
 * Certificate i of l as DER, into *der (to free()) and *len.  Returns 0,
 * or -1 when out of memory.
 */
int	 tlsload_export(const struct certlist *l, unsigned int i,
	    unsigned char **der, size_t *len);

/* Free the list's contents; the list itself may be reused. */
void	 tlsload_free(struct certlist *l);

#endif
