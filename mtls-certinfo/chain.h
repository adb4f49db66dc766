/*
 * chain: what is wrong with a chain as given (order, gaps, extras, key),
 * and whether it verifies against given CAs and CRLs.
 */
#ifndef MTLS_CHAIN_H
#define MTLS_CHAIN_H

#include <stddef.h>

#include <gnutls/x509.h>

#include "load.h"

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
int	 chain_diagnose(const struct certlist *l, const char *keyfile,
	    gnutls_x509_trust_list_t trust, struct chain_report *r, char *err,
	    size_t errlen);

struct verdict {
	int		 done;		/* a verification was asked for */
	int		 ok;
	unsigned int	 status;	/* gnutls_certificate_status_t */
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
gnutls_x509_trust_list_t chain_trust(const char *cafile,
	    const struct certlist *chain, const char *const *crlfiles,
	    int ncrlfiles, int *ncrl, char *err, size_t errlen);

/* Verify l (leaf first) against trust; fills v. */
void	 chain_verify(const struct certlist *l,
	    gnutls_x509_trust_list_t trust, struct verdict *v);

#endif
