/*
 * tlsenv: the environment a program run over a TLS connection gets: who
 * the peer is, in the names people already script against (ucspi-tcp's
 * TCP*, mod_ssl's SSL_*), plus what no other tool exports (every SAN by
 * type, the certificate and key hashes, the --allow rule that matched).
 */
#ifndef MTLS_TLSENV_H
#define MTLS_TLSENV_H

#include <stddef.h>

struct tlssess;

#define TLSENV_MAX	128
/*
 * SSL_*_SAN_<type>_n for the first TLSENV_SAN_MAX names of each type (four
 * types), with _COUNT giving them all: with the fixed variables this stays
 * well under TLSENV_MAX, however many names a certificate holds.
 */
#define TLSENV_SAN_MAX	16

struct tlsenv {
	char	*v[TLSENV_MAX + 1];	/* "NAME=value", NULL-terminated */
	int	 n;
	int	 lost;			/* variables that did not fit */
};

/* Add NAME=value (value copied).  Returns 0, or -1 (and counts it in
 * e->lost) when full or out of memory. */
int	 tlsenv_set(struct tlsenv *e, const char *name, const char *value);

/*
 * The peer's certificate and the session's parameters: SSL_PROTOCOL,
 * SSL_CIPHER, SSL_SESSION_RESUMED, SSL_TLS_SNI (server side, when sent),
 * and, with side "CLIENT" or "SERVER", SSL_<side>_VERIFY, _S_DN, _S_DN_CN
 * (_O, _OU), _I_DN, _M_SERIAL, _V_START, _V_END, _V_REMAIN, _CERT,
 * _CERT_SHA256, _SPKI_SHA256, _SAN_DNS_n, _SAN_IP_n, _SAN_Email_n,
 * _SAN_URI_n (n < TLSENV_SAN_MAX) and _SAN_<type>_COUNT.  _S_DN_CN only
 * when the subject has exactly one CN.  Text from the certificate or SNI
 * has control characters escaped as "\HH" (and, outside the DNs,
 * backslashes doubled); _CERT is PEM.  Returns 0, or -1 if the session has
 * no peer certificate.
 */
int	 tlsenv_session(struct tlsenv *e, struct tlssess *t,
	    const char *side);

/* PROTO=TCP and TCPLOCALIP/PORT, TCPREMOTEIP/PORT from the strings. */
void	 tlsenv_tcp(struct tlsenv *e, const char *lip, const char *lport,
	    const char *rip, const char *rport);

/*
 * Make the environment for exec: ours, then the inherited one without
 * anything a peer could forge or a secret (SSL_*, TCP*, MTLS_*, PROTO,
 * LISTEN_*).  The result points into e and environ; free with
 * tlsenv_free().  Returns NULL when out of memory.
 */
char	**tlsenv_environ(struct tlsenv *e);

void	 tlsenv_free(struct tlsenv *e);

#endif
