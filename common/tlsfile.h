/*
 * tlsfile: certificate and key files read into GnuTLS's own types, for
 * common/tls*.c only: tlsconf, the key process (tlskeyd) and mtls-certinfo's
 * tlschain.
 */
#ifndef MTLS_TLSFILE_H
#define MTLS_TLSFILE_H

#include <stddef.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

/*
 * Import every certificate in data (PEM with any text around it, or one DER
 * certificate).  Returns the count (> 0), or -1 with the reason in err.
 */
int	 tlsconf_import_certs(const char *name, const unsigned char *data,
	    size_t len, gnutls_x509_crt_t **list, char *err, size_t errlen);

/*
 * Read an unencrypted private key file (PEM or DER) into a new *key,
 * wiping the file's bytes from memory.  Returns 0, or -1 with "PATH:
 * reason" in err.
 */
int	 tlsconf_read_key(const char *path, gnutls_x509_privkey_t *key,
	    char *err, size_t errlen);

/*
 * The private key at keypath (a file, or a pkcs11: URI, logging in with
 * pin or $MTLS_PKCS11_PIN) into a new *pkey, the file's bytes wiped from
 * memory; with strict, a key file others can read is an error.  Returns
 * 0, or -1 with "PATH: reason" in err.
 */
int	 tlsconf_load_key(gnutls_privkey_t *pkey, const char *keypath,
	    const char *pin, int strict, char *err, size_t errlen);

/* Free a list from tlsconf_import_certs(). */
void	 tlsconf_free_certs(gnutls_x509_crt_t *list, unsigned int n);

#endif
