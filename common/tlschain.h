/*
 * tlschain: what is wrong with a chain as given (order, gaps, extras,
 * key), and whether it verifies against given CAs and CRLs; for
 * mtls-certinfo.
 */
#ifndef MTLS_TLSCHAIN_H
#define MTLS_TLSCHAIN_H

#include <stddef.h>

#include "tlsload.h"

/* Trusted CAs and CRLs to verify against (opaque). */
struct tlschain_trust;

#define CHAIN_DIAG_MAX	32

struct chain_diag {
	const char	*code;		/* stable: "out-of-order", ... */
	char		 msg[640];
};

struct chain_report {
	struct chain_diag d[CHAIN_DIAG_MAX];
	int		 n;
};

/*
 * Look at l as a chain, leaf first.  keyfile (may be NULL) must hold the
 * leaf's private key; trust (may be NULL) helps to tell a missing
 * intermediate from a root that need not be sent.  Returns 0, or -1 with
 * a reason in err when keyfile cannot be read.
 */
int	 tlschain_diagnose(const struct certlist *l, const char *keyfile,
	    const struct tlschain_trust *trust, struct chain_report *r,
	    char *err, size_t errlen);

struct verdict {
	int		 done;		/* a verification was asked for */
	int		 ok;
	char		 reasons[512];
	const char	*servername;	/* checked too, when not NULL */
	const char	*purpose;	/* "server", "client" or NULL */
	int		 crls;		/* CRLs in use */
};

/*
 * Trusted CAs from cafile (required) and CRLs (PEM or DER) from crlfiles.
 * A CRL not signed by one of the CAs or by a CA certificate in chain is an
 * error.  Returns a trust list, or NULL with the reason in err.  *ncrl is
 * set to the CRLs loaded.
 */
struct tlschain_trust *tlschain_trust(const char *cafile,
	    const struct certlist *chain, const char *const *crlfiles,
	    int ncrlfiles, int *ncrl, char *err, size_t errlen);

/* Free a trust list; tlschain_trust_free(NULL) does nothing. */
void	 tlschain_trust_free(struct tlschain_trust *t);

/* Verify l (leaf first) against trust; fills v. */
void	 tlschain_verify(const struct certlist *l,
	    const struct tlschain_trust *trust, struct verdict *v);

/*
 * Does a certificate of l from index from on, named as the issuer of the
 * DER certificate der, also hold the key that signed it?  1 yes, 0 no
 * (same name, another key), -1 no such certificate to check with.
 */
int	 tlschain_issuer_key(const unsigned char *der, size_t len,
	    const struct certlist *l, unsigned int from);

#endif
