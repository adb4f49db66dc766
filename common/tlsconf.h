/*
 * tlsconf: the read-only TLS configuration a program builds once at start:
 * its own certificate chain and key, the CAs it trusts, the priority cache.
 *
 * Shaped like libtls's tls_config: built before listening or connecting
 * (before any fork), then only read, by every session that follows.
 */
#ifndef MTLS_TLSCONF_H
#define MTLS_TLSCONF_H

#include <stddef.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

/*
 * The default policy: TLS 1.3 and 1.2, AEAD ciphers only, ECDHE only (every
 * session has forward secrecy), AES-GCM before ChaCha20-Poly1305 because
 * GnuTLS's AES-GCM is many times faster on CPUs with AES instructions, and
 * no SHA-1 signatures in the handshake (NORMAL still offers them in the
 * CertificateRequest and accepts them in a CertificateVerify).
 * Servers append ":%SERVER_PRECEDENCE".  Documented in the man pages.
 */
#define TLSCONF_PRIORITY \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:" \
	"-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-GROUP-DH-ALL:" \
	"-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1"

struct tlskey;

struct tlsconf_files {
	const char	*cert;		/* our chain, PEM, DER or pkcs11: URI;
					   NULL: none */
	const char	*key;		/* its private key, or a pkcs11: URI */
	const char	*ca;		/* trusted CAs, PEM or DER; NULL: none */
	const char	*priority;	/* NULL: TLSCONF_PRIORITY */
	int		 server;	/* a server: server precedence */
	const char *const *crls;	/* CRL files, PEM or DER */
	int		 ncrls;
	const char	*ocsp;		/* server: DER OCSP response to staple */
	int		 strict;	/* a key readable by others is fatal */
	const char	*pin;		/* a token's PIN; NULL: $MTLS_PKCS11_PIN */
	const char	*ticket_key;	/* server: session ticket master key
					   file; NULL: a random one */
	struct tlskey	*signer;	/* server: the key process holds
					   the key (key is not read here);
					   NULL: read key here */
};

/* The session ticket master key's size: GnuTLS's, 64 bytes. */
#define TLSCONF_TICKET_KEY_SIZE	64

struct tlsconf {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t	 prio;
	gnutls_x509_crt_t	*chain;	/* our own chain, leaf first */
	unsigned int		 nchain;
	unsigned int		 nca;	/* how many CAs are trusted */
	unsigned int		 ncrl;	/* CRLs in use */
	time_t			 crl_next_update; /* the earliest; 0: none */
	gnutls_x509_crt_t	*cas;	/* the trusted CAs, for CRL checks */
	unsigned int		 ncas;
	/* CRLs whose issuer is not a trusted CA (an intermediate's). */
	gnutls_x509_crl_t	*deferred;
	unsigned int		 ndeferred;
	/* A client's chain and key, handed over by tlssess's callback. */
	gnutls_pcert_st		*pcert;
	unsigned int		 npcert;
	gnutls_privkey_t	 pkey;
	int			 keys_in_cred;	/* the credentials free them */
	/*
	 * A server's session ticket master key: made once in the parent,
	 * so any child resumes any ticket.  GnuTLS derives the keys it
	 * uses from it, rotating them; a reload makes a new master, or
	 * reads the --ticket-key file again.
	 */
	gnutls_datum_t		 ticket_key;
	char			 priority[1024];
};

/*
 * Load the files named in f.  Returns a new configuration, or NULL with a
 * one-line reason naming the file ("certs/ca.pem: no certificate found")
 * in err.  Each CRL must be signed by one of the trusted CAs.  Warnings
 * (a private key others can read, an expired CRL) go to stderr through
 * warn(); with f->strict a readable key is an error.
 */
struct tlsconf *tlsconf_load(const struct tlsconf_files *f, char *err,
	    size_t errlen);

/*
 * SIGHUP's load: as tlsconf_load(), but when our certificate or key cannot
 * be loaded (a root-only key after dropping privileges, a broken file),
 * the CAs, CRLs and OCSP response are loaded anyway with old's chain and
 * key; the reason the key failed is then in keyerr (else keyerr is "").
 * Returns the new configuration, or NULL with the reason in err.
 */
struct tlsconf *tlsconf_reload(const struct tlsconf_files *f,
	    const struct tlsconf *old, char *err, size_t errlen, char *keyerr,
	    size_t keyerrlen);

/* The longest client chain tlsconf_check_deferred() looks at. */
#define TLSCONF_CHAIN_MAX	16

/*
 * The deferred CRLs against a verified peer chain (DER, leaf first): a
 * CRL applies when a CA certificate of the chain, itself verified against
 * the trusted CAs, signed it.  Returns 0 (none revoked), 1 (revoked) or -1
 * (the chain cannot be read), with the reason in why.
 */
int	 tlsconf_check_deferred(const struct tlsconf *c,
	    const gnutls_datum_t *der, unsigned int n, char *why,
	    size_t whylen);

/*
 * Is a CRL in use past its next update?  Then the peers it covers cannot
 * be judged: callers refuse them (fail closed).  Returns 1 with a reason
 * in why, or 0.
 */
int	 tlsconf_crl_stale(const struct tlsconf *c, char *why, size_t n);

/*
 * A new session ticket master key as hex (2 * TLSCONF_TICKET_KEY_SIZE
 * digits and a NUL in n bytes), the format tlsconf_files.ticket_key
 * reads.  Returns 0 or a negative GnuTLS error code.
 */
int	 tlsconf_ticket_key_generate(char *hex, size_t n);

/* Free c; tlsconf_free(NULL) does nothing. */
void	 tlsconf_free(struct tlsconf *c);

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

/*
 * Take the token PIN out of the environment: a copy (to free), the
 * variable's bytes wiped where /proc/PID/environ shows them, the variable
 * unset, so no program run later inherits or reads it.  NULL when unset.
 */
char	*tlsconf_take_pin(void);

/* Free a list from tlsconf_import_certs(). */
void	 tlsconf_free_certs(gnutls_x509_crt_t *list, unsigned int n);

#endif
