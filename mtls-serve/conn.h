/*
 * conn: one client connection, in its own process: handshake, checks,
 * echo, close.  Every event is one log line carrying the connection id.
 */
#ifndef MTLS_CONN_H
#define MTLS_CONN_H

#include <sys/socket.h>

#include "opts.h"
#include "slots.h"
#include "tlsconf.h"

/*
 * Serve the connected socket fd from peer ("ADDR:PORT"), whose address
 * accept() gave as from (NULL: ask the socket).  With
 * --proxy-protocol the header is read first, and the client it names is
 * the peer from then on.  sl (NULL under -i) is the table shared with the
 * parent, slot this connection's place in it: the child claims it for
 * its client's address under --max-per-ip when only the header names the
 * client, and marks it authenticated (the parent counts handshakes in
 * progress by it).  Returns the process's exit status, an enum
 * conn_status.
 */
int	 conn_serve(int fd, const struct sockaddr_storage *from,
	    const char *peer, unsigned long id, const struct tlsconf *conf,
	    const struct serve_opts *o, struct slots *sl, int slot);

/*
 * After conn_serve(): for a refused client (status CONN_REFUSED), close
 * our direction and read what it still sends until it closes, at most 2 s,
 * so that our alert is not lost to a reset.  Returns status.
 */
int	 conn_linger(int fd, int status);

/*
 * Refuse a connection without TLS: read what the client already sent (so
 * that closing is not a reset that could destroy what we send), then, if
 * alert is non-zero, a plaintext internal_error alert record (RFC 8446
 * 6.2: the peer is not at fault), and close.
 */
void	 conn_refuse(int fd, int alert);

/*
 * The SIGTERM handler of a connection's process (the server's second
 * gear): the connection stops reading, sends close_notify and ends,
 * logged as end=shutdown.  Async-signal-safe.
 */
void	 conn_on_sigterm(int sig);

#endif
