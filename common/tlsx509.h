/*
 * tlsx509: what a certificate says, read once into plain C: the facts a
 * log line, --allow, an exec environment or -v output use.
 *
 * A session parses its peer's certificate once (tlssess_peer()); nothing
 * outside common/tls* parses a certificate again.
 */
#ifndef MTLS_TLSX509_H
#define MTLS_TLSX509_H

#include <stddef.h>
#include <time.h>

#include "timefmt.h"

struct logline;

/*
 * The longest serial number read, in bytes.  RFC 5280 allows 20; a peer
 * may send more, and each byte is two hex digits here: the buffer below is
 * sized from this, never the other way round.  A longer one is an error.
 */
#define X509_SERIAL_MAX	128

/* The subject alternative names kept (others are passed over). */
enum x509_san_type { X509_SAN_DNS, X509_SAN_IP, X509_SAN_EMAIL, X509_SAN_URI };
#define X509_SAN_TYPES	4

struct x509_san {
	enum x509_san_type type;
	char		*value;		/* IP addresses in text form */
};

struct x509_facts {
	char	 subject[1024];		/* RFC 4514 form (cut if longer) */
	char	 issuer[1024];
	int	 dn_cut;		/* subject or issuer was cut */
	char	 serial[2 * X509_SERIAL_MAX + 1];	/* lowercase hex */
	time_t	 not_before, not_after;
	char	 not_before_s[TIMEFMT_MAX];	/* RFC 3339 */
	char	 not_after_s[TIMEFMT_MAX];
	char	 sha256[65];		/* fingerprint, lowercase hex */
	/* The SHA-256 of the SubjectPublicKeyInfo (the key pin); "" if
	   it could not be computed. */
	char	 spki_sha256[45];	/* base64 */
	char	 spki_sha256_hex[65];
	/*
	 * Subject attributes: how many CNs there are, the first CN and
	 * the first O (NULL when absent or longer than 1023 bytes), and
	 * the OUs up to the first that cannot be read (at most 64).
	 */
	int	 ncn;
	char	*cn;
	char	*o;
	char	**ou;
	unsigned int nou;
	/* The SANs in order; a name with a NUL byte inside is left out. */
	struct x509_san *san;
	unsigned int nsan;
	unsigned char *der;		/* the certificate itself */
	size_t	 derlen;
};

/*
 * Read the DER certificate der into f.  Returns 0, or -1 with the reason
 * in err (f then holds nothing to free).
 */
int	 tlsx509_parse(const unsigned char *der, size_t len,
	    struct x509_facts *f, char *err, size_t errlen);

/* Free what tlsx509_parse() allocated; f may be all zeros. */
void	 tlsx509_free(struct x509_facts *f);

/*
 * The certificate as PEM text, to free(); NULL when out of memory.
 */
char	*tlsx509_pem(const struct x509_facts *f);

/*
 * Add the facts to a log line as PREFIXsubject=, PREFIXissuer=,
 * PREFIXserial=, PREFIXnot_before=, PREFIXnot_after=, PREFIXsha256=.
 */
void	 tlsx509_log(struct logline *l, const char *prefix,
	    const struct x509_facts *f);

/* Hex of len bytes into out (2 * len + 1 bytes), lowercase; returns out. */
char	*tlsx509_hex(const unsigned char *in, size_t len, char *out);

#endif
