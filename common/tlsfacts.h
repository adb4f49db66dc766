/*
 * tlsfacts: everything mtls-certinfo says about one certificate, gathered
 * once, then printed as text or JSON by the same names.
 */
#ifndef MTLS_TLSFACTS_H
#define MTLS_TLSFACTS_H

#include <time.h>

#include "tlsload.h"
#include "tlsx509.h"

#define FACTS_LIST_MAX	64

/* A list of short strings: SANs of one type, key usages, ... */
struct strlist {
	char	*v[FACTS_LIST_MAX];
	int	 n;
};

struct facts {
	struct x509_facts id;		/* subject, issuer, serial, ... */
	char	 sha1[41];
	char	 spki_sha256_b64[64];	/* the pin, base64 */
	char	 spki_sha256_hex[65];	/* the same digest, hex (DANE) */
	char	 pk_algorithm[32];
	unsigned int pk_bits;
	char	 pk_curve[32];		/* "" unless EC/EdDSA */
	char	 sig_algorithm[80];
	struct strlist san_dns, san_ip, san_email, san_uri;
	struct strlist key_usage, ext_key_usage;
	int	 has_basic_constraints;
	int	 is_ca;
	int	 path_len;		/* -1: no limit */
	char	 ski[130], aki[130];	/* hex, "" when absent */
	int	 self_signed;
	long	 days_left;		/* negative once expired */
	int	 expired, not_yet_valid;
};

/*
 * Gather the facts about certificate i of l at time now.  Returns 0, or
 * -1 when it cannot be read.
 */
int	 tlsfacts_get(const struct certlist *l, unsigned int i, time_t now,
	    struct facts *f);

/* Free what tlsfacts_get() allocated. */
void	 tlsfacts_free(struct facts *f);

#endif
