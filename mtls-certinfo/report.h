/*
 * report: all that one run of mtls-certinfo found, for the printers.
 */
#ifndef MTLS_REPORT_H
#define MTLS_REPORT_H

#include <time.h>

#include "chain.h"
#include "facts.h"
#include "load.h"
#include "tlssess.h"

/* What --connect saw of the server. */
struct probe {
	char		 peer[80];	/* address connected */
	char		 version[16];
	char		 cipher[64];
	char		 group[32];
	int		 handshake_ok;
	char		 error[512];	/* why the handshake failed */
	struct tlssess_certreq req;	/* the certificate request */
	int		 have_client_cert;
	char		 client_issuer[512];
	int		 client_issuer_accepted;	/* -1: unknown */
};

struct report {
	const struct certlist *certs;
	struct facts	*facts;		/* one per certificate */
	struct chain_report chain;
	struct verdict	 verdict;
	const struct probe *probe;	/* NULL without --connect */
	long		 expires_within;	/* -1: not asked */
	int		 expiring;	/* certificates within that */
	int		 pins;		/* --pins: every pin form */
	time_t		 now;
};

void	 show_text(FILE *out, const struct report *r);
void	 show_json(FILE *out, const struct report *r);

#endif
