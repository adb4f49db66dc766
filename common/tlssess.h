/*
 * tlssess: one TLS session over one connected socket, made from a tlsconf.
 *
 * The socket is put in non-blocking mode: every wait is a poll(2) with a
 * deadline, so no peer can hold a process by saying nothing.
 */
#ifndef MTLS_TLSSESS_H
#define MTLS_TLSSESS_H

#include <sys/types.h>

#include <stddef.h>

#include <gnutls/gnutls.h>

#include "tlsconf.h"

/* tlssess_handshake()'s own error when the deadline passes. */
#define TLSSESS_E_TIMEOUT	(-10000)

/*
 * A server session that requires a client certificate, verified against
 * the configured CAs with the clientAuth purpose.  Returns 0, or a negative
 * GnuTLS error code.
 */
int	 tlssess_server(gnutls_session_t *s, const struct tlsconf *c, int fd);

/*
 * What a server's certificate request asked of a client, and what the
 * client sent: the explanation when a server refuses us.
 */
#define CERTREQ_MAX	16
struct tlssess_certreq {
	const struct tlsconf *conf;	/* set by tlssess_client() */
	int		 asked;		/* the server asked for a certificate */
	int		 sent;		/* we sent one */
	unsigned int	 nissuers;	/* issuers it named (may be none) */
	char		 issuers[CERTREQ_MAX][256];
	char		 sigalgs[512];	/* signature algorithms it accepts */
	/* What the server's certificate is checked for (GnuTLS keeps it). */
	gnutls_typed_vdata_st vdata[2];
	/* The first bytes the peer sent: was it speaking TLS at all? */
	int		 fd;
	unsigned char	 first[64];
	size_t		 nfirst;
};

/*
 * When the peer's first bytes were not a TLS record (a plain-text or
 * HTTP server), "not a TLS server? it sent ..." in buf, and returns buf;
 * else NULL.
 */
const char *tlssess_not_tls(const struct tlssess_certreq *req, char *buf,
	    size_t n);

/*
 * The certificate callback of client credentials (tlsconf sets it once):
 * it hands over the chain and key, and records in the session's
 * tlssess_certreq what the server's certificate request asked.
 */
int	 tlssess_client_cert_cb(gnutls_session_t s,
	    const gnutls_datum_t *req_ca_rdn, int nreqs,
	    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
	    gnutls_pcert_st **pcert, unsigned int *pcert_length,
	    gnutls_privkey_t *pkey);

/*
 * A client session that verifies the server's chain, its name against
 * name (a DNS name, or an IP literal matched against IP SANs), and the
 * serverAuth purpose.  SNI carries name unless it is an IP literal.  name
 * and req must outlive the session; req records the server's certificate
 * request.  Returns 0, or a negative GnuTLS error code.
 */
int	 tlssess_client(gnutls_session_t *s, const struct tlsconf *c, int fd,
	    const char *name, struct tlssess_certreq *req);

/*
 * The same, but the server's certificate is not checked during the
 * handshake: for mtls-certinfo, which fetches a chain to show and verify
 * it itself, and sends no data.  Never use it to send data.
 */
int	 tlssess_client_inspect(gnutls_session_t *s, const struct tlsconf *c,
	    int fd, const char *name, struct tlssess_certreq *req);

/*
 * Run the handshake, waiting at most timeout_ms in all (<= 0: no limit).
 * Returns 0, TLSSESS_E_TIMEOUT, or the GnuTLS error that ended it.  The
 * caller decides which alert to send, if any.
 */
int	 tlssess_handshake(gnutls_session_t s, int fd, int timeout_ms);

/*
 * Wait until fd is ready for what GnuTLS last wanted (read or write), or
 * until timeout_ms (< 0: forever).  Returns 1 ready, 0 timeout, -1 error.
 */
int	 tlssess_wait(gnutls_session_t s, int fd, int timeout_ms);

/*
 * Verify the peer's chain again, as the handshake did (CAs, CRLs, dates,
 * purpose), now: for a resumed session, whose chain was verified when it
 * was first stored.  Returns 0 with *status the verification status (0:
 * good), or a negative GnuTLS error code.
 */
int	 tlssess_reverify(gnutls_session_t s, unsigned int *status);

/* Close our sending direction with close_notify, bounded by timeout_ms. */
int	 tlssess_bye(gnutls_session_t s, int fd, int timeout_ms);

/*
 * A handshake or record error in plain words: the verification reasons,
 * the alert the peer sent, or GnuTLS's text.  Returns buf.
 */
char	*tlssess_why(gnutls_session_t s, int err, char *buf, size_t n);

/* An alert's name as the TLS RFCs spell it: "certificate_expired". */
char	*tlssess_alert_name(gnutls_alert_description_t a, char *buf, size_t n);

/* What was negotiated, as short names for logs. */
struct tlssess_info {
	const char	*version;	/* "TLS1.3" */
	const char	*cipher;	/* "TLS_AES_256_GCM_SHA384" */
	const char	*group;		/* "SECP256R1", "X25519" */
	int		 resumed;
};
void	 tlssess_info(gnutls_session_t s, struct tlssess_info *i);

/*
 * Record I/O on a non-blocking session, for the pump: GnuTLS's results
 * translated.  Each returns the bytes moved (recv: 0 is the peer's
 * close_notify), or one of these; for TLSSESS_REC_VANISHED and
 * TLSSESS_REC_FAILED *err is the library's error, for tlssess_why().
 */
enum tlssess_rec {
	TLSSESS_REC_AGAIN = -1,		/* nothing now: poll and call again
					   (a send with the same arguments) */
	TLSSESS_REC_RENEG = -2,		/* recv: the peer asked to renegotiate
					   (TLS 1.2); refused with a warning
					   alert, the session goes on */
	TLSSESS_REC_VANISHED = -3,	/* TCP closed or reset without
					   close_notify */
	TLSSESS_REC_FAILED = -4		/* a fatal alert or error */
};

/* Up to n bytes of plaintext; warning alerts are passed over. */
ssize_t	 tlssess_recv(gnutls_session_t s, void *buf, size_t n, int *err);

/* One record of at most n bytes. */
ssize_t	 tlssess_send(gnutls_session_t s, const void *buf, size_t n,
	    int *err);

/*
 * Corked, tlssess_send() only gathers records; tlssess_uncork() writes
 * them out in one go: 0 once all is written, or an enum tlssess_rec
 * (after TLSSESS_REC_AGAIN, call it again).
 */
void	 tlssess_cork(gnutls_session_t s);
int	 tlssess_uncork(gnutls_session_t s, int *err);

/*
 * Our close_notify, without waiting: 0 once sent, or an enum tlssess_rec
 * (after TLSSESS_REC_AGAIN, call it again).
 */
int	 tlssess_shut(gnutls_session_t s, int *err);

/* Decrypted bytes waiting in the session: poll(2) does not see them. */
size_t	 tlssess_pending(gnutls_session_t s);

/*
 * Does a close_notify close only its sender's direction (TLS 1.3, RFC
 * 8446 6.1), rather than the whole session (TLS 1.2)?
 */
int	 tlssess_half_close(gnutls_session_t s);

#endif
