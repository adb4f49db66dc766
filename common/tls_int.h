/*
 * tls_int: what common/tls*.c share and nothing else may see: the inside
 * of a configuration and of a session.  Only common/tls*.c include it.
 */
#ifndef MTLS_TLS_INT_H
#define MTLS_TLS_INT_H

#include <stddef.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "tlsconf.h"
#include "tlskey.h"
#include "tlssess.h"
#include "tlsx509.h"

struct tlsconf {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t	 prio;
	gnutls_x509_crt_t	*chain;	/* our own chain, leaf first */
	unsigned int		 nchain;
	unsigned int		 nca;	/* how many CAs are trusted */
	unsigned int		 ncrl;	/* CRLs in use */
	time_t			 crl_next_update; /* the earliest; 0: none */
	gnutls_x509_crt_t	*cas;	/* the trusted CAs, for CRL checks */
	unsigned int		 ncas;
	/* CRLs whose issuer is not a trusted CA (an intermediate's). */
	gnutls_x509_crl_t	*deferred;
	unsigned int		 ndeferred;
	/* A client's chain and key, handed over by tlssess's callback. */
	gnutls_pcert_st		*pcert;
	unsigned int		 npcert;
	gnutls_privkey_t	 pkey;
	int			 keys_in_cred;	/* the credentials free them */
	/*
	 * A server's session ticket master key: made once in the parent,
	 * so any child resumes any ticket.  GnuTLS derives the keys it
	 * uses from it, rotating them; a reload makes a new master, or
	 * reads the --ticket-key file again.
	 */
	gnutls_datum_t		 ticket_key;
	char			 priority[1024];
};

struct tlssess {
	gnutls_session_t	 s;
	const struct tlsconf	*conf;
	int			 fd;
	/* The peer's certificate, parsed on first use, then kept. */
	struct x509_facts	 peer;
	int			 peer_state;	/* 0: not yet, 1: read,
						   -1: failed */
	/* The last failure: its kind, GnuTLS's code, in words. */
	enum tlssess_err	 err;
	int			 gerr;
	unsigned int		 vstatus;	/* TLSSESS_VERIFY: the status */
	char			 why[512];
	/* A client's: what the server's certificate request asked. */
	struct tlssess_certreq	 req;
	/* What the server's certificate is checked for (GnuTLS keeps it). */
	char			*name;		/* client: the server's */
	gnutls_typed_vdata_st	 vdata[2];
	/* The first bytes the peer sent: was it speaking TLS at all? */
	unsigned char		 first[64];
	size_t			 nfirst;
};

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
 * The deferred CRLs against a verified peer chain (DER, leaf first): a
 * CRL applies when a CA certificate of the chain, itself verified against
 * the trusted CAs, signed it.  Returns 0 (none revoked), 1 (revoked) or -1
 * (the chain cannot be read), with the reason in why.
 */
int	 tlsconf_check_deferred(const struct tlsconf *c,
	    const gnutls_datum_t *der, unsigned int n, char *why,
	    size_t whylen);

/* tlsx509_parse() from a GnuTLS certificate: our own, mtls-certinfo's. */
int	 tlsx509_parse_crt(gnutls_x509_crt_t crt, struct x509_facts *f,
	    char *err, size_t errlen);

/*
 * A new external private key for GnuTLS whose operations go to the key
 * process, described as the current key (pending = 0) or the one a
 * tlskey_load() holds pending.  Returns 0, or a negative GnuTLS error.
 */
int	 tlskey_privkey(struct tlskey *k, int pending,
	    gnutls_privkey_t *pkey);

/* Does crt carry the current (pending = 0) or pending key's public key? */
int	 tlskey_matches(const struct tlskey *k, int pending,
	    gnutls_x509_crt_t crt);

/* The longest client chain tlsconf_check_deferred() looks at. */
#define TLSCONF_CHAIN_MAX	16

#endif
