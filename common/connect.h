/*
 * connect: a TCP connection to HOST:PORT, trying each address in turn.
 */
#ifndef MTLS_CONNECT_H
#define MTLS_CONNECT_H

#include <stddef.h>

#include "addr.h"

/*
 * Connect to a, each resolved address in turn, each attempt bounded by
 * timeout_ms.  Returns the socket (blocking mode unspecified), or -1 with
 * "could not connect to HOST:PORT: reason" in err.  With verbose, each
 * attempt is noted on stderr.  The address connected is put in peer.
 */
int	 connect_to(const struct addr *a, int timeout_ms, int verbose,
	    char *peer, size_t peerlen, char *err, size_t errlen);

#endif
