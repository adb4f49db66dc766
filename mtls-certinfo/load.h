/*
 * load: certificates from PEM, DER, PKCS#7 and PKCS#12 input, in order.
 *
 * The format is found from the content, never from the file name.
 */
#ifndef MTLS_LOAD_H
#define MTLS_LOAD_H

#include <stddef.h>

#include <gnutls/x509.h>

/* No input needs more; a larger count is refused, not slowly printed. */
#define LOAD_MAX_CERTS	10000

struct certlist {
	gnutls_x509_crt_t *crt;
	const char	**source;	/* the file each came from */
	unsigned int	 n, cap;
};

/*
 * Append every certificate in the file at path ("-": standard input).
 * password (may be NULL) opens PKCS#12 files.  Returns 0, or -1 with
 * "PATH: what is wrong" in err ("no certificate found", "bad base64 at
 * line 12", "truncated DER ...").  path must outlive the list.
 */
int	 load_file(struct certlist *l, const char *path, const char *password,
	    char *err, size_t errlen);

/* The same for data already in memory, named name in messages. */
int	 load_data(struct certlist *l, const unsigned char *data, size_t len,
	    const char *name, const char *password, char *err, size_t errlen);

/* Append a DER certificate (from a live server). */
int	 load_der(struct certlist *l, const unsigned char *der, size_t len,
	    const char *source, char *err, size_t errlen);

/* Free the list's contents; the list itself may be reused. */
void	 load_free(struct certlist *l);

#endif
