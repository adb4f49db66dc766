/*
 * pump: move plaintext both ways through one TLS session at once.
 *
 * A direction is the unit (OpenBSD nc's readwrite(), spiped's one pipe
 * per direction): each has a bounded buffer, a source that fills it, a
 * sink that drains it, and an end of its own.  Down: the peer's records
 * to our side.  Up: our side's bytes to the peer as records, then our
 * close_notify.  A driver joins the two for one kind of local side:
 *
 *   pump_stdio:     stdin --> TLS peer --> stdout      (mtls-send)
 *   pump_program:   a program's pipes <--> TLS peer    (exec mode,
 *                                                       mtls-send -- PROG)
 *   pump_loopback:  TLS peer --> xform --> TLS peer    (the echo server)
 *
 * Memory is bounded: a direction whose sink takes no more stops reading
 * its source, so a peer that never reads only stalls, and the idle
 * timeout ends it.  The pump never blocks in a send while the peer may
 * be blocked sending to us.
 */
#ifndef MTLS_PUMP_H
#define MTLS_PUMP_H

#include <sys/types.h>

#include <signal.h>
#include <stddef.h>

#include "child.h"
#include "tlssess.h"

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
	PUMP_LOCAL_ERROR,	/* reading or writing our side: local_errno */
	PUMP_STOPPED,		/* *stop was set (a signal): nothing closed */
	PUMP_PROGRAM_KILLED	/* the program died by a signal */
};

struct pump {
	/* Set by the caller. */
	struct tlssess	*s;
	int		 sock;
	int		 idle_ms;	/* <= 0: no idle limit */
	volatile sig_atomic_t *stop;	/* non-NULL: end when *stop is set */
	const sigset_t	*sigmask;	/* the mask to poll with (ppoll), so
					   a signal cannot slip in unseen;
					   blocking local reads and writes
					   let it in too */

	/* Results. */
	unsigned long long bytes_in;	/* plaintext received from the peer */
	unsigned long long bytes_out;	/* plaintext sent to the peer */
	unsigned long long records_in;	/* TLS records received, sent */
	unsigned long long records_out;
	size_t		 unsent;	/* input left when the peer closed */
	unsigned long long unread;	/* peer data the program never took */
	int		 peer_closed;	/* the peer's close_notify came */
	int		 local_out;	/* local_errno is from writing */
	int		 prog_signal;	/* PUMP_PROGRAM_KILLED: the signal */
	int		 out_closed;	/* the program's stdin was closed */
	int		 reneg_refused;	/* the peer asked to renegotiate */
	enum tlssess_err tls_err;	/* PUMP_TLS_ERROR, PUMP_PEER_VANISHED:
					   the session's failure (its words:
					   tlssess_why()) */
	int		 local_errno;
	enum pump_end	 end;
};

/*
 * Standard input to the peer, the peer's data to standard output (both
 * may block: the caller's signals are let in while they do).  Ends when
 * both sides closed, or when the peer has closed in a way that says it
 * reads no more: its close_notify in TLS 1.2, its close_notify and TCP's
 * end in TLS 1.3.  Input the peer never got is counted in unsent.
 * Returns p->end.
 */
enum pump_end pump_stdio(struct pump *p, int in_fd, int out_fd);

/*
 * The program c runs (child.h): its stdout to the peer, the peer's data
 * to its stdin, which is closed at the peer's end (out_closed); each
 * direction closes on its own.  A program that stops reading is no error
 * (see unread).  Its exit ends what it says (a background child may hold
 * the pipe); an exit by a signal ends the session without our
 * close_notify (PUMP_PROGRAM_KILLED).  With hold_bye, where a
 * close_notify ends both ways (TLS 1.2), ours waits for the program's
 * exit or the peer's close_notify: a server's, whose client would stop
 * sending.  Returns p->end.
 */
enum pump_end pump_program(struct pump *p, const struct child *c,
	    int hold_bye);

/* The peer's data through x back to it, until both sides closed. */
enum pump_end pump_loopback(struct pump *p, const struct pump_xform *x);

/*
 * "close_notify", "peer vanished", "timeout", "tls error", "local error",
 * "stopped", "program killed".
 */
const char *pump_end_name(enum pump_end e);

#endif
