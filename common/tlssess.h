/*
 * tlssess: one TLS session over one connected socket, made from a tlsconf.
 *
 * Shaped like libtls's struct tls: opaque, answering through accessors,
 * with the last failure kept in the session (tlssess_error(),
 * tlssess_why()) instead of library error codes handed to the caller.
 * Functions that can fail return -1 (or NULL, or TLSSESS_IO_FAILED) and
 * record why.  Only common/tls*.c see GnuTLS (tls_int.h).
 *
 * The socket is put in non-blocking mode: every wait is a poll(2) with a
 * deadline, so no peer can hold a process by saying nothing.
 */
#ifndef MTLS_TLSSESS_H
#define MTLS_TLSSESS_H

#include <stddef.h>

struct tlsconf;
struct tlssess;
struct x509_facts;

/* What kind of failure ended the last call that failed. */
enum tlssess_err {
	TLSSESS_OK,
	TLSSESS_TIMEOUT,	/* our deadline passed */
	TLSSESS_VANISHED,	/* TCP closed or reset without close_notify */
	TLSSESS_ALERT,		/* the peer sent a fatal alert */
	TLSSESS_VERIFY,		/* the peer's certificate was not accepted */
	TLSSESS_NO_CERT,	/* the peer sent no certificate */
	TLSSESS_NO_VERSION,	/* no protocol version in common */
	TLSSESS_NO_CIPHER,	/* no cipher suite or key exchange in common */
	TLSSESS_FAILED		/* anything else */
};

/*
 * A server session that requires a client certificate, verified against
 * the configured CAs with the clientAuth purpose.  Returns the session,
 * or NULL with the reason in err.
 */
struct tlssess *tlssess_server(const struct tlsconf *c, int fd, char *err,
	    size_t errlen);

/*
 * A client session that verifies the server's chain, its name against
 * name (a DNS name, or an IP literal matched against IP SANs), and the
 * serverAuth purpose.  SNI carries name unless it is an IP literal.
 * Returns the session, or NULL with the reason in err.
 */
struct tlssess *tlssess_client(const struct tlsconf *c, int fd,
	    const char *name, char *err, size_t errlen);

/*
 * The same, but the server's certificate is not checked during the
 * handshake: for mtls-certinfo, which fetches a chain to show and verify
 * it itself, and sends no data.  Never use it to send data.
 */
struct tlssess *tlssess_client_inspect(const struct tlsconf *c, int fd,
	    const char *name, char *err, size_t errlen);

/* Free t (not its socket); tlssess_free(NULL) does nothing. */
void	 tlssess_free(struct tlssess *t);

/*
 * Run the handshake, waiting at most timeout_ms in all (<= 0: no limit).
 * Returns 0, or -1 (see tlssess_error()).  The caller decides which
 * alert to send, if any (tlssess_refuse()).
 */
int	 tlssess_handshake(struct tlssess *t, int timeout_ms);

/*
 * Wait until the socket is ready for what TLS last wanted (read or
 * write), or until timeout_ms (< 0: forever).  Returns 1 ready, 0
 * timeout, -1 error.
 */
int	 tlssess_wait(struct tlssess *t, int timeout_ms);

/*
 * Verify the peer's chain again, as the handshake did (CAs, CRLs, dates,
 * purpose, and a client's server name), now: for a resumed session,
 * whose chain was verified when it was first stored.  Returns 0, or -1
 * (TLSSESS_VERIFY).
 */
int	 tlssess_reverify(struct tlssess *t);

/*
 * Server: the configuration's deferred CRLs (intermediate CAs', see
 * tlsconf.c) against the chain the client presented.  Returns 0, or -1
 * (TLSSESS_VERIFY: revoked, or the chain cannot be read).
 */
int	 tlssess_check_deferred(struct tlssess *t);

/*
 * Close our sending direction with close_notify, bounded by timeout_ms.
 * Returns 0, or -1.
 */
int	 tlssess_bye(struct tlssess *t, int timeout_ms);

/*
 * Record I/O on the non-blocking session, for the pump.  Each says what
 * happened; the bytes moved go to *done.
 */
enum tlssess_io {
	TLSSESS_IO_OK,		/* *done bytes moved (> 0) */
	TLSSESS_IO_EOF,		/* recv: the peer's close_notify */
	TLSSESS_IO_AGAIN,	/* nothing now: once tlssess_wait() says so,
				   call again (a send with the same
				   arguments) */
	TLSSESS_IO_RENEG,	/* recv: the peer asked to renegotiate (TLS
				   1.2), refused with a warning alert; the
				   session goes on */
	TLSSESS_IO_FAILED	/* see tlssess_error() and tlssess_why() */
};

/* Up to n bytes of plaintext; warning alerts are passed over. */
enum tlssess_io tlssess_recv(struct tlssess *t, void *buf, size_t n,
	    size_t *done);

/* One record of at most n bytes. */
enum tlssess_io tlssess_send(struct tlssess *t, const void *buf, size_t n,
	    size_t *done);

/*
 * Corked, tlssess_send() only gathers records; tlssess_uncork() writes
 * them out in one go (TLSSESS_IO_OK once all is out).
 */
void	 tlssess_cork(struct tlssess *t);
enum tlssess_io tlssess_uncork(struct tlssess *t);

/* Our close_notify, without waiting (TLSSESS_IO_OK once it is out). */
enum tlssess_io tlssess_shut(struct tlssess *t);

/* Decrypted bytes waiting in the session: poll(2) does not see them. */
size_t	 tlssess_pending(struct tlssess *t);

/* The socket the session runs on. */
int	 tlssess_fd(const struct tlssess *t);

/*
 * The last failure's kind, and in plain words (the verification reasons,
 * the alert the peer sent, or the TLS library's text).  TLSSESS_OK and ""
 * while nothing failed.
 */
enum tlssess_err tlssess_error(const struct tlssess *t);
const char *tlssess_why(const struct tlssess *t);

/* The TLS library's own words for the last failure ("" for none). */
const char *tlssess_why_lib(const struct tlssess *t);

/*
 * Tell the peer why we end the session, with the alert the TLS
 * specification prescribes for the last failure (bad_certificate,
 * unknown_ca, certificate_required, decode_error, ...); nothing when the
 * peer itself left, alerted or timed out.  Waits at most timeout_ms for
 * room to send (0: one try).
 */
void	 tlssess_refuse(struct tlssess *t, int timeout_ms);

/* Alerts a caller sends for its own reasons. */
enum tlssess_alert {
	TLSSESS_A_ACCESS_DENIED,	/* verified, but not admitted */
	TLSSESS_A_CERTIFICATE_UNKNOWN,	/* cannot be judged now */
	TLSSESS_A_BAD_CERTIFICATE	/* does not pass our own checks */
};
void	 tlssess_alert(struct tlssess *t, enum tlssess_alert a,
	    int timeout_ms);

/*
 * The alert the peer sent (TLSSESS_ALERT), as the TLS RFCs spell it:
 * "certificate_expired".  Returns buf.
 */
char	*tlssess_alert_name(const struct tlssess *t, char *buf, size_t n);

/* What was negotiated, as short names for logs. */
struct tlssess_info {
	const char	*version;	/* "TLS1.3" */
	const char	*cipher;	/* "TLS_AES_256_GCM_SHA384" */
	const char	*group;		/* "SECP256R1", "X25519" */
	int		 resumed;
	int		 tls13;		/* TLS 1.3: close_notify is one-way */
	unsigned int	 peer_chain;	/* certificates the peer presented */
	char		 sni[256];	/* server: the DNS name the client
					   asked for, "" when none */
};
void	 tlssess_info(struct tlssess *t, struct tlssess_info *i);

/*
 * The peer's certificate, read once per session and kept: NULL when it
 * sent none or it cannot be read.  Valid until tlssess_free().
 */
const struct x509_facts *tlssess_peer(struct tlssess *t);

/*
 * Certificate i of the chain the peer presented (0: its own), DER, valid
 * until tlssess_free(); NULL past the end.
 */
const unsigned char *tlssess_peer_der(struct tlssess *t, unsigned int i,
	    size_t *len);

/*
 * Why the peer's certificate was not accepted (TLSSESS_VERIFY): the
 * reasons a caller explains itself, as bits, and the text of any others
 * in rest ("" when there are none).
 */
#define TLSSESS_V_UNKNOWN_CA	0x01	/* not signed by a trusted CA */
#define TLSSESS_V_NAME		0x02	/* not for the name we expected */
#define TLSSESS_V_EXPIRED	0x04
#define TLSSESS_V_NOT_YET_VALID	0x08
#define TLSSESS_V_REVOKED	0x10
#define TLSSESS_V_PURPOSE	0x20	/* its extended key usage */
unsigned int tlssess_verify_reasons(const struct tlssess *t, char *rest,
	    size_t n);

/* Client: did the server staple an OCSP response that checked out? */
int	 tlssess_ocsp_ok(struct tlssess *t);

/*
 * Client: the session's resumption data (after the handshake; TLS 1.3:
 * once the server's ticket came) into *data (to wipe and free) and *len.
 * Returns 0, or -1 with the reason in err.
 */
int	 tlssess_resume_data(struct tlssess *t, unsigned char **data,
	    size_t *len, char *err, size_t errlen);

/* Client: offer saved resumption data.  Returns 0, or -1 with err. */
int	 tlssess_resume(struct tlssess *t, const unsigned char *data,
	    size_t len, char *err, size_t errlen);

/*
 * What a server's certificate request asked of a client, and what the
 * client sent: the explanation when a server refuses us.
 */
#define CERTREQ_MAX	16
struct tlssess_certreq {
	int		 asked;		/* the server asked for a certificate */
	int		 sent;		/* we sent one */
	unsigned int	 nissuers;	/* issuers it named (may be none) */
	char		 issuers[CERTREQ_MAX][256];
	char		 sigalgs[512];	/* signature algorithms it accepts */
};
const struct tlssess_certreq *tlssess_certreq(const struct tlssess *t);

/*
 * When the peer's first bytes were not a TLS record (a plain-text or
 * HTTP server), "not a TLS server? it sent ..." in buf, and returns buf;
 * else NULL.
 */
const char *tlssess_not_tls(const struct tlssess *t, char *buf, size_t n);

#endif
