/*
 * mtls-send: exit statuses, one per kind of failure (see mtls-send(1)).
 */
#ifndef MTLS_SEND_H
#define MTLS_SEND_H

enum send_status {
	SEND_OK = 0,		/* all input sent, the server closed cleanly */
	SEND_NETWORK = 1,	/* resolve, connect, broken or timed out */
	SEND_USAGE = 2,		/* usage or a local file */
	SEND_REFUSED = 3,	/* the server refused us, or no common params */
	SEND_IDENTITY = 4	/* the server's identity did not verify */
};

#endif
