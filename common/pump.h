/*
 * pump: move plaintext both ways through one TLS session at once.
 *
 * One poll(2) loop, two bounded buffers, a half-close per direction (the
 * shape of OpenBSD nc's readwrite()).  Two topologies:
 *
 *   stream:   in_fd --> TLS peer --> out_fd       (mtls-send, exec mode)
 *   loopback: TLS peer --> xform --> TLS peer     (the echo server)
 *
 * Memory is bounded: a side that cannot take more stops the other side
 * from reading, so a peer that never reads only stalls, and the idle
 * timeout ends it.
 */
#ifndef MTLS_PUMP_H
#define MTLS_PUMP_H

#include <stddef.h>

#include <gnutls/gnutls.h>

/* An xform is always offered at least this much room to write into. */
#define PUMP_XFORM_MIN	256

struct pump_xform {
	/*
	 * Turn up to inlen bytes of in into at most room bytes of out; set
	 * *used to the input bytes taken.  Returns the bytes written.  Must
	 * take some input when room >= PUMP_XFORM_MIN.
	 */
	size_t	(*fn)(void *arg, const char *in, size_t inlen, size_t *used,
		    char *out, size_t room);
	/* At the peer's end of data: any last bytes (room >= XFORM_MIN). */
	size_t	(*eof)(void *arg, char *out, size_t room);
	void	*arg;
};

enum pump_end {
	PUMP_DONE,		/* both directions closed with close_notify */
	PUMP_PEER_VANISHED,	/* TCP closed or reset without close_notify */
	PUMP_TIMEOUT,		/* nothing moved for idle_ms */
	PUMP_TLS_ERROR,		/* a fatal TLS error or alert: tls_err */
	PUMP_LOCAL_ERROR	/* reading in_fd or writing out_fd: local_errno */
};

struct pump {
	/* Set by the caller. */
	gnutls_session_t s;
	int		 sock;
	int		 in_fd;		/* stream: plaintext to send */
	int		 out_fd;	/* stream: where received data goes */
	const struct pump_xform *xform;	/* non-NULL: loopback mode */
	int		 idle_ms;	/* <= 0: no idle limit */
	int		 stop_at_peer_eof; /* stream: end when peer closes */
	int		 close_out;	/* stream: close out_fd at peer's end */
	int		 out_nonblock;	/* out_fd is O_NONBLOCK: never block on
					   a reader that does not read */

	/* Results. */
	unsigned long long bytes_in;	/* plaintext received from the peer */
	unsigned long long bytes_out;	/* plaintext sent to the peer */
	unsigned long long records_in;	/* TLS records received, sent */
	unsigned long long records_out;
	size_t		 unsent;	/* input left when the peer closed */
	int		 out_closed;	/* close_out did close out_fd */
	int		 reneg_refused;	/* the peer asked to renegotiate */
	int		 tls_err;
	int		 local_errno;
	enum pump_end	 end;
};

/* Run until both directions are done or something fails; returns p->end. */
enum pump_end pump_run(struct pump *p);

/* "close_notify", "peer vanished", "timeout", "tls error", "local error". */
const char *pump_end_name(enum pump_end e);

#endif
