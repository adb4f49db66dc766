/*
 * conn: one client connection, in its own process: handshake, checks,
 * echo, close.  Every event is one log line carrying the connection id.
 */
#ifndef MTLS_CONN_H
#define MTLS_CONN_H

#include "serve.h"
#include "tlsconf.h"

/*
 * Serve the connected socket fd from peer ("ADDR:PORT").  Returns the
 * process's exit status, an enum conn_status.
 */
int	 conn_serve(int fd, const char *peer, unsigned long id,
	    const struct tlsconf *conf, const struct serve_opts *o);

/*
 * The SIGTERM handler of a connection's process (the server's second
 * gear): the connection stops reading, sends close_notify and ends,
 * logged as end=shutdown.  Async-signal-safe.
 */
void	 conn_on_sigterm(int sig);

#endif
