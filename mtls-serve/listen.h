/*
 * listen: the server's listening sockets.
 */
#ifndef MTLS_LISTEN_H
#define MTLS_LISTEN_H

#include <stddef.h>

#include "addr.h"

#define LISTEN_MAX	8

struct listeners {
	int	 fd[LISTEN_MAX];
	char	 name[LISTEN_MAX][ADDR_STRMAX];	/* bound address, "[::]:9443" */
	int	 n;
};

/*
 * Bind and listen on a.  No host: every address, IPv6 and IPv4 on one
 * dual-stack socket (IPv4 alone where the host has no IPv6).  A name
 * with several addresses gets a socket each; port 0 picks one free port
 * for them all.  The sockets are added to those already in l (start
 * from a zeroed l).  With reuseport, SO_REUSEPORT lets other processes
 * bind the same port.  Returns 0, or -1 with a reason in err.
 */
int	 listen_open(const struct addr *a, int reuseport, struct listeners *l,
	    char *err, size_t errlen);

/*
 * Sockets passed by a service manager (systemd's Accept=no socket
 * activation): when LISTEN_PID is our pid, LISTEN_FDS sockets from fd 3.
 * Returns how many were taken (0: none passed), or -1 with err set.  The
 * variables are removed, so no program we run sees them.
 */
int	 listen_inherited(struct listeners *l, char *err, size_t errlen);

/* Close every socket; safe to call twice. */
void	 listen_close(struct listeners *l);

#endif
