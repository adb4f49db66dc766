/*
 * mtls-send: its exit statuses, one per kind of failure, as mtls-send(1)
 * documents them.  Only main() ends the program; its modules return one
 * of these for main() to exit with.
 */
#ifndef MTLS_SEND_EXIT_H
#define MTLS_SEND_EXIT_H

enum send_exit {
	SEND_OK = 0,		/* all input sent, the server closed cleanly */
	SEND_NETWORK = 1,	/* resolve, connect, broken or timed out */
	SEND_USAGE = 2,		/* usage or a local file (CLI_USAGE_STATUS) */
	SEND_REFUSED = 3,	/* the server refused us, or no common params */
	SEND_IDENTITY = 4,	/* the server's identity did not verify */
	SEND_SIGNAL = 128	/* + N: signal N ended us (or the program) */
};

#endif
