/*
 * tlsconf: the read-only TLS configuration a program builds once at start:
 * its own certificate chain and key, the CAs it trusts, the priority cache.
 *
 * Shaped like libtls's tls_config: built before listening or connecting
 * (before any fork), then only read, by every session that follows.  It is
 * opaque: what callers need of it they ask for below.
 */
#ifndef MTLS_TLSCONF_H
#define MTLS_TLSCONF_H

#include <stddef.h>

struct x509_facts;

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

/*
 * Is a CRL in use past its next update?  Then the peers it covers cannot
 * be judged: callers refuse them (fail closed).  Returns 1 with a reason
 * in why, or 0.
 */
int	 tlsconf_crl_stale(const struct tlsconf *c, char *why, size_t n);

/*
 * A new session ticket master key as hex (2 * TLSCONF_TICKET_KEY_SIZE
 * digits and a NUL in n bytes), the format tlsconf_files.ticket_key
 * reads.  Returns 0, or -1 with the reason in err.
 */
int	 tlsconf_ticket_key_generate(char *hex, size_t n, char *err,
	    size_t errlen);

/* How much a configuration holds, for the log. */
struct tlsconf_counts {
	unsigned int	 chain;		/* our own chain's certificates */
	unsigned int	 cas;		/* trusted CAs */
	unsigned int	 crls;		/* CRLs in use */
	unsigned int	 deferred;	/* of them, intermediate CAs' */
};
void	 tlsconf_counts(const struct tlsconf *c, struct tlsconf_counts *n);

/*
 * Our own certificate (the leaf of our chain) into f, to free with
 * tlsx509_free().  Returns 0, or -1 when there is none or it cannot be
 * read.
 */
int	 tlsconf_identity(const struct tlsconf *c, struct x509_facts *f);

/*
 * The SHA-256, as hex, of what decides whom we trust and who we are: the
 * trusted CAs and our own chain (each certificate's DER after a tag),
 * then each of the n strings of extra with its NUL.  Returns 0, or -1
 * with the reason in err.
 */
int	 tlsconf_digest(const struct tlsconf *c, const char *const *extra,
	    size_t n, char hex[65], char *err, size_t errlen);

/* The TLS library's version, for --version: "3.7.9". */
const char *tlsconf_version(void);

/* Free c; tlsconf_free(NULL) does nothing. */
void	 tlsconf_free(struct tlsconf *c);

/*
 * Take the token PIN out of the environment: a copy (to free), the
 * variable's bytes wiped where /proc/PID/environ shows them, the variable
 * unset, so no program run later inherits or reads it.  NULL when unset.
 */
char	*tlsconf_take_pin(void);

#endif
