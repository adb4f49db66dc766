/*
 * show: print all that one run of mtls-certinfo found (the report), as
 * text or JSON.
 */
#ifndef MTLS_SHOW_H
#define MTLS_SHOW_H

#include <time.h>

#include "tlschain.h"
#include "tlsfacts.h"
#include "tlsload.h"
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
	/*
	 * How that was judged, beyond the name the server lists: our
	 * certificate's signature checked with a certificate of that name
	 * in the server's chain (1 good, 0 bad, -1 none there), and the
	 * server's own verdict: refusal_alert its fatal alert ("" when it
	 * admitted us; verdict_known 0 when it said nothing either way).
	 */
	int		 issuer_key_ok;
	int		 verdict_known;
	char		 refusal_alert[64];
};

/* client_issuer_accepted: the name matches, but not the key. */
#define PROBE_SAME_NAME_OTHER_KEY	2

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
