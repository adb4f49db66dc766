/*
 * opts: what mtls-serve's main() decided from its options, shared by the
 * server's modules.
 */
#ifndef MTLS_OPTS_H
#define MTLS_OPTS_H

#include "addr.h"
#include "allow.h"
#include "tlsconf.h"

struct sandbox;

#define SERVE_MAX_RULES	64
#define SERVE_MAX_CRLS	16
#define SERVE_MAX_PROXY_FROM	16

/* How much a connection is logged: -q, default, -v. */
enum verbosity { LOG_QUIET = -1, LOG_NORMAL = 0, LOG_VERBOSE = 1 };

struct serve_opts {
	int		 raw;		/* echo bytes, not decorated lines */
	int		 timeout_s;	/* idle limit; 0: none */
	int		 handshake_s;	/* handshake limit */
	int		 drain_s;	/* at shutdown, wait this long */
	int		 max_conns;	/* concurrent children */
	int		 max_startups;	/* of which still in their handshake */
	int		 max_per_ip;	/* per address (IPv6: per /64) */
	enum verbosity	 verbosity;
	struct allow_rule allow[SERVE_MAX_RULES];	/* none: any client */
	int		 nallow;
	const char	*user;		/* drop to this user after set-up */
	const char	*exec_user;	/* run the program as this user */
	char		**prog;		/* -- PROGRAM [ARG...]; NULL: echo */
	int		 inetd;		/* serve the connection on stdin */
	int		 proxy;		/* a PROXY protocol header first */
	struct addr_cidr proxy_from[SERVE_MAX_PROXY_FROM];	/* none: any */
	int		 nproxy_from;
	int		 reuseport;	/* SO_REUSEPORT on our sockets */
	const struct sandbox *sandbox;	/* every connection's filter */
};

#endif
