/*
 * peer: the facts about a certificate that a log line or -v output shows.
 */
#ifndef MTLS_PEER_H
#define MTLS_PEER_H

#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "timefmt.h"

struct logline;

/*
 * The longest serial number read, in bytes.  RFC 5280 allows 20; a peer
 * may send more, and each byte is two hex digits here: the buffer below is
 * sized from this, never the other way round.  A longer one is an error.
 */
#define PEER_SERIAL_MAX	128

struct peer_cert {
	char	 subject[1024];		/* RFC 4514 form (cut if longer) */
	char	 issuer[1024];
	int	 dn_cut;		/* subject or issuer was cut */
	char	 serial[2 * PEER_SERIAL_MAX + 1];	/* lowercase hex */
	time_t	 not_before, not_after;
	char	 not_before_s[TIMEFMT_MAX];	/* RFC 3339 */
	char	 not_after_s[TIMEFMT_MAX];
	char	 sha256[65];		/* fingerprint, lowercase hex */
};

/* Fill p from crt.  Returns 0, or a negative GnuTLS error code. */
int	 peer_describe(gnutls_x509_crt_t crt, struct peer_cert *p);

/* The same for a DER certificate (as gnutls_certificate_get_peers gives). */
int	 peer_describe_der(const gnutls_datum_t *der, struct peer_cert *p);

/*
 * Add the facts to a log line as PREFIXsubject=, PREFIXissuer=,
 * PREFIXserial=, PREFIXnot_before=, PREFIXnot_after=, PREFIXsha256=.
 */
void	 peer_log(struct logline *l, const char *prefix,
	    const struct peer_cert *p);

/*
 * The SHA-256 of crt's DER SubjectPublicKeyInfo (the key pin), as base64
 * (44 characters + NUL) and, if hex is not NULL, as hex (65 bytes).
 * Returns 0 or a negative GnuTLS error code.
 */
int	 peer_spki_sha256(gnutls_x509_crt_t crt, char b64[45], char *hex);

/*
 * Call fn for each subject alternative name of crt, in order, with its
 * type (GNUTLS_SAN_DNSNAME, _IPADDRESS, _RFC822NAME, _URI; others are
 * passed over) and its text (IP addresses in text form).  A name with a
 * NUL byte inside is not what it seems, and is passed over.  fn returns
 * non-zero to stop; peer_foreach_san() then returns that value, else 0.
 */
int	 peer_foreach_san(gnutls_x509_crt_t crt,
	    int (*fn)(void *arg, int type, const char *value), void *arg);

/* How many attributes of type oid crt's subject DN holds (0 on error). */
int	 peer_dn_count(gnutls_x509_crt_t crt, const char *oid);

/* Hex of len bytes into out (2 * len + 1 bytes), lowercase; returns out. */
char	*peer_hex(const unsigned char *in, size_t len, char *out);

#endif
