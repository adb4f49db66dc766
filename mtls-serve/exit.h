/*
 * mtls-serve: its exit statuses and those of each connection's process,
 * as mtls-serve(1) documents them.  Only main() and a connection's
 * process end; modules return one of these for them to exit with.
 */
#ifndef MTLS_SERVE_EXIT_H
#define MTLS_SERVE_EXIT_H

/* The server's. */
enum serve_exit {
	SERVE_OK = 0,		/* stopped by SIGTERM or SIGINT */
	SERVE_FAILED = 1,	/* could not listen, become --user, or the
				   accept loop failed */
	SERVE_USAGE = 2		/* usage, or a file (CLI_USAGE_STATUS) */
};

/* A connection's process's, reported by the parent (and -i's own). */
enum conn_status {
	CONN_OK = 0,		/* both sides closed with close_notify */
	CONN_BROKEN = 1,	/* peer vanished or a TLS error mid-stream */
	CONN_REFUSED = 2,	/* the handshake failed or was refused */
	CONN_TIMEOUT = 3	/* handshake or idle timeout */
};

#endif
