/*
 * tlsenv: the environment a program run over a TLS connection gets: who
 * the peer is, in the names people already script against (ucspi-tcp's
 * TCP*, mod_ssl's SSL_*), plus what no other tool exports (every SAN by
 * type, the certificate and key hashes, the --allow rule that matched).
 */
#ifndef MTLS_TLSENV_H
#define MTLS_TLSENV_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#define TLSENV_MAX	128

struct tlsenv {
	char	*v[TLSENV_MAX + 1];	/* "NAME=value", NULL-terminated */
	int	 n;
};

/* Add NAME=value (value copied).  Returns 0 or -1 when full. */
int	 tlsenv_set(struct tlsenv *e, const char *name, const char *value);

/*
 * The peer's certificate and the session's parameters: SSL_PROTOCOL,
 * SSL_CIPHER, SSL_SESSION_RESUMED, SSL_TLS_SNI (server side, when sent),
 * and, with side "CLIENT" or "SERVER", SSL_<side>_VERIFY, _S_DN, _S_DN_CN
 * (_O, _OU), _I_DN, _M_SERIAL, _V_START, _V_END, _V_REMAIN, _CERT,
 * _SAN_DNS_n, _SAN_IP_n, _SAN_Email_n, _SAN_URI_n, _CERT_SHA256,
 * _SPKI_SHA256.  Returns 0, or -1 if the session has no peer certificate.
 */
int	 tlsenv_session(struct tlsenv *e, gnutls_session_t s, const char *side);

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
