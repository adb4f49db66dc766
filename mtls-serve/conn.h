/*
 * conn: one client connection, in its own process: handshake, checks,
 * echo, close.  Every event is one log line carrying the connection id.
 */
#ifndef MTLS_CONN_H
#define MTLS_CONN_H

#include "serve.h"
#include "tlsconf.h"

/*
 * Serve the connected socket fd from peer ("ADDR:PORT").  Once the client
 * has authenticated, *authed is set to 1 (if authed is not NULL): the
 * parent counts handshakes in progress by it.  Returns the process's exit
 * status, an enum conn_status.
 */
int	 conn_serve(int fd, const char *peer, unsigned long id,
	    const struct tlsconf *conf, const struct serve_opts *o,
	    volatile unsigned char *authed);

/*
 * The SIGTERM handler of a connection's process (the server's second
 * gear): the connection stops reading, sends close_notify and ends,
 * logged as end=shutdown.  Async-signal-safe.
 */
void	 conn_on_sigterm(int sig);

#endif
