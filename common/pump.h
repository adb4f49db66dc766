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

#include <sys/types.h>

#include <signal.h>
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
	PUMP_LOCAL_ERROR,	/* reading in_fd or writing out_fd: local_errno */
	PUMP_STOPPED,		/* *stop was set (a signal): nothing closed */
	PUMP_PROGRAM_KILLED	/* exit_fd: the program died by a signal */
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
	int		 out_may_close;	/* stream: out_fd's reader may stop
					   reading (EPIPE): not an error, see
					   unread */
	int		 half_close;	/* stream: the peer's close_notify ends
					   only its direction (TLS 1.3) */
	int		 hold_bye;	/* stream: our close_notify waits for
					   the program's exit or the peer's
					   (TLS 1.2, where it ends both ways) */
	int		 exit_fd;	/* stream: a pidfd, readable once the
					   program has exited; 0: none */
	pid_t		 exit_pid;	/* the program exit_fd watches */
	volatile sig_atomic_t *stop;	/* non-NULL: end when *stop is set */
	const sigset_t	*sigmask;	/* the mask to poll with (ppoll), so
					   a signal cannot slip in unseen */

	/* Results. */
	unsigned long long bytes_in;	/* plaintext received from the peer */
	unsigned long long bytes_out;	/* plaintext sent to the peer */
	unsigned long long records_in;	/* TLS records received, sent */
	unsigned long long records_out;
	size_t		 unsent;	/* input left when the peer closed */
	unsigned long long unread;	/* peer data out_fd's reader never
					   took (out_may_close) */
	int		 peer_closed;	/* the peer's close_notify came */
	int		 local_out;	/* local_errno is from writing out_fd */
	int		 prog_signal;	/* PUMP_PROGRAM_KILLED: the signal */
	int		 out_closed;	/* close_out did close out_fd */
	int		 reneg_refused;	/* the peer asked to renegotiate */
	int		 tls_err;
	int		 local_errno;
	enum pump_end	 end;
};

/* Run until both directions are done or something fails; returns p->end. */
enum pump_end pump_run(struct pump *p);

/*
 * "close_notify", "peer vanished", "timeout", "tls error", "local error",
 * "stopped", "program killed".
 */
const char *pump_end_name(enum pump_end e);

#endif
