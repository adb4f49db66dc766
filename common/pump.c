#include <sys/ioctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pump.h"
#include "timefmt.h"
#include "tlssess.h"

/*
 * TLS records carry at most 16 KiB, so sends go out in full records; the
 * up buffer is large so a burst of small lines becomes few records.
 */
#define UP_SIZE		(256 * 1024)
#define DOWN_SIZE	(64 * 1024)
#define RECORD_MAX	16384
#define CORK_MAX	(4 * RECORD_MAX)	/* records per write */
#define BYE_TIMEOUT_MS	5000
/* How long a peer nobody reads from may take to send its close_notify. */
#define PUMP_LINGER_MS	1000
/* How long after its stdout ends a dying program takes to be waitable. */
#define EXIT_WAIT_MS	200

/* The poll slots, by what they wait for (the socket has two). */
enum {
	SLOT_NETIN,		/* the peer's records, or TCP's end */
	SLOT_NETOUT,		/* room for ours */
	SLOT_IN,		/* our side's input */
	SLOT_OUT,		/* room at a program's stdin */
	SLOT_EXIT,		/* the program's exit */
	SLOT_MAX
};

struct buf {
	char	*data;
	size_t	 cap, off, len;
};

/* Down: the peer's records into b, then out to our side. */
struct down {
	struct buf b;
	int	 eof;		/* the peer's close_notify came */
	int	 failed;	/* the session failed: b holds its last words */
	int	 fin;		/* after close_notify, TCP ended too */
	int	 dead;		/* our side's reader left: the rest is dropped */
};

/* Up: our side's bytes into b, out as records, then our close_notify. */
struct up {
	struct buf b;
	int	 eof;		/* our side said its last */
	size_t	 inflight;	/* a blocked send, to repeat with this size */
	int	 corked;	/* a corked batch is still being written */
	int	 bye;		/* our close_notify is out */
	int	 held;		/* it must wait (pump_program()'s hold_bye) */
	int	 dead;		/* the peer reset: it reads no more */
	enum tlssess_err err;	/* a reset's, told once all is read */
};

/* One run of a driver: both directions and the wait between moves. */
struct run {
	struct pump	*p;
	struct down	 d;
	struct up	 u;
	struct pollfd	 pfd[SLOT_MAX];
	int		 want_fin;	/* watch for TCP's end after the
					   peer's close_notify */
	int		 moved;		/* this round moved something */
	long long	 last;		/* when something last moved */
	long long	 linger_end;	/* 0, or when to stop lingering */
};

static size_t
buf_room(const struct buf *b)
{
	return b->cap - b->off - b->len;
}

/* Move the data to the front; never while a send of it is in flight. */
static void
buf_compact(struct buf *b)
{
	if (b->len == 0)
		b->off = 0;
	else if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
}

static void
buf_take(struct buf *b, size_t n)
{
	b->off += n;
	b->len -= n;
}

const char *
pump_end_name(enum pump_end e)
{
	switch (e) {
	case PUMP_DONE:
		return "close_notify";
	case PUMP_PEER_VANISHED:
		return "peer vanished";
	case PUMP_TIMEOUT:
		return "timeout";
	case PUMP_TLS_ERROR:
		return "tls error";
	case PUMP_LOCAL_ERROR:
		return "local error";
	case PUMP_STOPPED:
		return "stopped";
	case PUMP_PROGRAM_KILLED:
		return "program killed";
	}
	return "?";
}

static int
stop_set(const struct pump *p)
{
	return p->stop != NULL && *p->stop;
}

/*
 * read(2) or write(2) on a local descriptor that may block (a pipe, a
 * terminal), with the caller's signals let through, as ppoll does: a
 * stop signal must end us even while we wait for standard input (another
 * reader of the same pipe may take what poll saw) or for a slow reader
 * of standard output.  The handler has no SA_RESTART, so the call fails
 * with EINTR.
 */
static ssize_t
local_io(const struct pump *p, int fd, char *buf, size_t n, int out)
{
	sigset_t old;
	ssize_t	 r;
	int	 e;

	if (p->sigmask == NULL)
		return out ? write(fd, buf, n) : read(fd, buf, n);
	sigprocmask(SIG_SETMASK, p->sigmask, &old);
	if (stop_set(p)) {
		r = -1;
		errno = EINTR;
	} else
		r = out ? write(fd, buf, n) : read(fd, buf, n);
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}

/* Is there input on fd that a read would return right now? */
static int
pending_input(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char	 c;

	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & (POLLIN | POLLHUP)))
		return 0;
	/* Readable may also mean end of file. */
	return read(fd, &c, 1) == 1;
}

/* Bytes written to fd's pipe that its reader has not read. */
static size_t
pipe_unread(int fd)
{
	int	 n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 && n > 0 ? (size_t)n : 0;
}

/*
 * Does a close_notify close only its sender's direction (TLS 1.3, RFC
 * 8446 6.1), rather than the whole session (TLS 1.2)?
 */
static int
half_close(struct tlssess *t)
{
	struct tlssess_info ti;

	tlssess_info(t, &ti);
	return ti.tls13;
}

/* The session failed: why, and how that ends the pump. */
static void
tls_failed(struct pump *p, enum tlssess_err err)
{
	p->tls_err = err;
	p->end = err == TLSSESS_VANISHED ? PUMP_PEER_VANISHED :
	    PUMP_TLS_ERROR;
}

/* Our side failed; -1. */
static int
local_failed(struct pump *p, int out)
{
	p->local_errno = errno;
	p->local_out = out;
	p->end = PUMP_LOCAL_ERROR;
	return -1;
}

static int
run_init(struct run *r, struct pump *p)
{
	int	 i;

	memset(r, 0, sizeof(*r));
	r->p = p;
	for (i = 0; i < SLOT_MAX; i++)
		r->pfd[i].fd = -1;
	r->last = timefmt_monotonic_ms();
	p->bytes_in = p->bytes_out = 0;
	p->records_in = p->records_out = 0;
	p->unsent = 0;
	p->unread = 0;
	p->peer_closed = p->local_out = p->prog_signal = 0;
	p->out_closed = p->reneg_refused = 0;
	p->tls_err = TLSSESS_OK;
	p->local_errno = 0;
	r->u.b.cap = UP_SIZE;
	r->d.b.cap = DOWN_SIZE;
	if ((r->u.b.data = malloc(r->u.b.cap)) == NULL ||
	    (r->d.b.data = malloc(r->d.b.cap)) == NULL) {
		errno = ENOMEM;
		return local_failed(p, 0);
	}
	return 0;
}

static void
run_free(struct run *r)
{
	free(r->u.b.data);
	free(r->d.b.data);
}

/* Down: would we take more of the peer's records now? */
static int
down_open(const struct run *r)
{
	return !r->d.failed && !r->d.eof && !(r->d.dead && r->p->unread > 0);
}

/*
 * Down's source: the peer's records, as long as there is room.  Returns 1
 * if anything came (data or close_notify), else 0.  A failure sets
 * d.failed: what arrived before it was authenticated and is delivered
 * first.
 */
static int
down_fill(struct run *r)
{
	struct pump *p = r->p;
	struct buf *b = &r->d.b;
	size_t	 n;
	int	 got = 0;

	while (down_open(r)) {
		buf_compact(b);
		if (buf_room(b) == 0)
			break;
		switch (tlssess_recv(p->s, b->data + b->off + b->len,
		    buf_room(b), &n)) {
		case TLSSESS_IO_OK:
			b->len += n;
			p->bytes_in += (unsigned long long)n;
			p->records_in++;
			got = 1;
			continue;
		case TLSSESS_IO_EOF:
			r->d.eof = p->peer_closed = 1;
			got = 1;
			continue;
		case TLSSESS_IO_RENEG:
			p->reneg_refused = 1;
			continue;
		case TLSSESS_IO_AGAIN:
			break;
		case TLSSESS_IO_FAILED:
			tls_failed(p, tlssess_error(p->s));
			r->d.failed = 1;
			return 0;
		}
		break;
	}
	r->moved |= got;
	return got;
}

/*
 * Down's sink for mtls-send: standard output, which may block (a slow
 * reader).  Returns 0, or -1 with p->end set.
 */
static int
down_to_stdout(struct run *r, int fd)
{
	struct buf *b = &r->d.b;
	ssize_t	 n;

	while (b->len > 0) {
		n = local_io(r->p, fd, b->data + b->off, b->len, 1);
		if (n > 0) {
			buf_take(b, (size_t)n);
			r->moved = 1;
		} else if (n < 0 && errno == EINTR) {
			if (stop_set(r->p))
				return 0;	/* seen at the loop's top */
		} else
			return local_failed(r->p, 1);
	}
	b->off = 0;
	return 0;
}

/* The program reads no more: what it did not take is counted, dropped. */
static void
down_drop(struct run *r, size_t more)
{
	r->d.dead = 1;
	r->p->unread += r->d.b.len + more;
	r->d.b.off = r->d.b.len = 0;
}

/*
 * Down's sink for a program: its stdin, as much as it takes (poll for
 * more), never blocking on a program that does not read.  One that
 * stopped reading (EPIPE) is no error: the other way goes on.  Returns 0,
 * or -1 with p->end set.
 */
static int
down_to_program(struct run *r, int fd)
{
	struct buf *b = &r->d.b;
	ssize_t	 n;

	if (r->d.dead)
		down_drop(r, 0);
	if (b->len == 0)
		return 0;
	n = write(fd, b->data + b->off, b->len);
	if (n > 0) {
		buf_take(b, (size_t)n);
		r->moved = 1;
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (errno == EPIPE) {
		down_drop(r, 0);
		r->moved = 1;
		return 0;
	}
	return local_failed(r->p, 1);
}

/* Up: would we take more of our side's input now? */
static int
up_open(const struct run *r)
{
	const struct buf *b = &r->u.b;

	return !r->d.failed && !r->u.dead && !r->u.eof &&
	    (buf_room(b) > 0 || (!r->u.inflight && b->off > 0));
}

/*
 * Up's source: what our side has to say, read from fd.  With gone (the
 * writer exited), a pipe with nothing left in it is its end.  Returns 0,
 * or -1 with p->end set.
 */
static int
up_fill(struct run *r, int fd, int gone)
{
	struct buf *b = &r->u.b;
	ssize_t	 n;

	if (!up_open(r))
		return 0;
	if (!r->u.inflight)
		buf_compact(b);
	if (buf_room(b) == 0)
		return 0;
	n = local_io(r->p, fd, b->data + b->off + b->len, buf_room(b), 0);
	if (n > 0) {
		b->len += (size_t)n;
		r->moved = 1;
	} else if (n == 0 || (gone && errno == EAGAIN)) {
		r->u.eof = r->moved = 1;
	} else if (errno != EINTR && errno != EAGAIN)
		return local_failed(r->p, 0);
	return 0;
}

/* A send failed.  -1, or 0 when the peer reset: read what it sent. */
static int
up_failed(struct run *r)
{
	enum tlssess_err err = tlssess_error(r->p->s);

	tls_failed(r->p, err);
	if (err != TLSSESS_VANISHED)
		return -1;
	/*
	 * The peer reads no more.  What it sent before (its last output,
	 * its close_notify) may still be waiting in our socket.
	 */
	r->u.dead = 1;
	r->u.err = err;
	return 0;
}

/* The next record's worth of b. */
static size_t
record_len(const struct buf *b)
{
	return b->len < RECORD_MAX ? b->len : RECORD_MAX;
}

/* n bytes of up went out in a record. */
static void
up_sent(struct run *r, size_t n)
{
	buf_take(&r->u.b, n);
	r->p->bytes_out += (unsigned long long)n;
	r->p->records_out++;
	r->moved = 1;
}

/*
 * Up's sink, more than a record's worth: several records corked into one
 * write.  What the socket does not take yet goes later (u.corked).
 */
static int
up_send_corked(struct run *r)
{
	struct buf *b = &r->u.b;
	size_t	 batch = 0, n;
	enum tlssess_io io;

	tlssess_cork(r->p->s);
	/* Corked, a send only gathers: it cannot block or fail. */
	while (b->len > 0 && batch < CORK_MAX && tlssess_send(r->p->s,
	    b->data + b->off, record_len(b), &n) == TLSSESS_IO_OK) {
		up_sent(r, n);
		batch += n;
	}
	if ((io = tlssess_uncork(r->p->s)) == TLSSESS_IO_AGAIN)
		r->u.corked = 1;
	else if (io != TLSSESS_IO_OK)
		return up_failed(r);
	return 0;
}

/*
 * Up's sink: the buffer to the peer as records.  Returns 0, or -1 with
 * p->end set; a peer that reset sets u.dead instead.
 */
static int
up_drain(struct run *r)
{
	struct buf *b = &r->u.b;
	enum tlssess_io io;
	size_t	 n;

	if (r->d.failed || r->u.dead)
		return 0;
	if (r->u.corked) {
		if ((io = tlssess_uncork(r->p->s)) == TLSSESS_IO_AGAIN)
			return 0;
		if (io != TLSSESS_IO_OK)
			return up_failed(r);
		r->u.corked = 0;
		r->moved = 1;
	}
	if (r->u.inflight == 0 && b->len > RECORD_MAX) {
		if (up_send_corked(r) < 0)
			return -1;
	} else
		while (b->len > 0) {
			if (r->u.inflight == 0)
				r->u.inflight = record_len(b);
			io = tlssess_send(r->p->s, b->data + b->off,
			    r->u.inflight, &n);
			/* After AGAIN GnuTLS wants the same arguments. */
			if (io == TLSSESS_IO_AGAIN)
				break;
			r->u.inflight = 0;
			if (io != TLSSESS_IO_OK)
				return up_failed(r);
			up_sent(r, n);
		}
	if (b->len == 0)
		b->off = 0;
	return 0;
}

/* Up: is all said, and may our close_notify go now? */
static int
up_may_close(const struct run *r)
{
	return r->u.eof && r->u.b.len == 0 && !r->u.corked && !r->u.bye &&
	    !r->u.held && !r->d.failed && !r->u.dead;
}

/* Our close_notify, without waiting.  Returns 0, or -1 with p->end set. */
static int
up_close(struct run *r)
{
	enum tlssess_io io;

	if ((io = tlssess_shut(r->p->s)) == TLSSESS_IO_OK)
		r->u.bye = r->moved = 1;
	else if (io != TLSSESS_IO_AGAIN) {
		tls_failed(r->p, tlssess_error(r->p->s));
		return -1;
	}
	return 0;
}

/*
 * The peer reads no more and has said all it will: end with e, saying
 * what it never got (counting input already waiting in in_fd: a file cut
 * short, but not waiting for more).
 */
static void
end_unsent(struct run *r, int in_fd, enum pump_end e)
{
	r->p->unsent = r->u.b.len;
	if (!r->u.eof && pending_input(in_fd))
		r->p->unsent++;
	r->p->end = e;
}

/* Both close_notify are through, and all the peer said is out. */
static int
both_closed(const struct run *r)
{
	return r->u.bye && r->d.eof && r->d.b.len == 0;
}

/* After a reset, all the peer said is out: the up direction's error. */
static int
reset_drained(struct run *r)
{
	if (!r->u.dead || !r->d.eof || r->d.b.len > 0)
		return 0;
	r->p->tls_err = r->u.err;
	return 1;
}

/*
 * Wait for something to do, with the driver's slots (SLOT_IN, SLOT_OUT,
 * SLOT_EXIT) set (fd -1: unused, as run_init() leaves them); the
 * socket's two slots follow the directions.  Returns 1 with the slots'
 * revents, 0 if a signal came first (*stop is looked at next), or -1
 * with p->end set (a poll error, the idle timeout).
 */
static int
run_wait(struct run *r)
{
	struct pump *p = r->p;
	struct pollfd *in = &r->pfd[SLOT_NETIN], *out = &r->pfd[SLOT_NETOUT];
	struct timespec ts;
	long long now = timefmt_monotonic_ms(), left;
	int	 timeout = -1, n, i;

	if (r->moved)
		r->last = now;
	in->events = out->events = 0;
	if (down_open(r) && buf_room(&r->d.b) + r->d.b.off > 0)
		in->events |= POLLIN;
	/* After a TLS 1.3 close_notify: does TCP end too? */
	if (r->want_fin && !r->d.failed && r->d.eof && !r->d.fin)
		in->events |= POLLRDHUP;
	if (!r->d.failed && !r->u.dead && (r->u.b.len > 0 || r->u.corked ||
	    (r->u.eof && !r->u.bye && !r->u.held)))
		out->events |= POLLOUT;
	/* A dead socket would wake us. */
	in->fd = in->events ? p->sock : -1;
	out->fd = out->events ? p->sock : -1;

	if (p->idle_ms > 0) {
		left = r->last + p->idle_ms - now;
		timeout = left > 0 ? (int)left : 0;
	}
	if (r->linger_end != 0) {
		left = r->linger_end - now;
		if (timeout < 0 || left < timeout)
			timeout = left > 0 ? (int)left : 0;
	}
	/* Decrypted data GnuTLS holds does not wake poll. */
	if ((in->events & POLLIN) && tlssess_pending(p->s) > 0)
		timeout = 0;
	if (r->moved)
		timeout = 0;

	for (i = 0; i < SLOT_MAX; i++)
		r->pfd[i].revents = 0;
	if (p->sigmask == NULL)
		n = poll(r->pfd, SLOT_MAX, timeout);
	else if (stop_set(p)) {
		/*
		 * A stop signal that came while local_io() let signals
		 * through would wait for another.
		 */
		return 0;
	} else {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		n = ppoll(r->pfd, SLOT_MAX, timeout >= 0 ? &ts : NULL,
		    p->sigmask);
	}
	if (n < 0 && errno == EINTR) {
		for (i = 0; i < SLOT_MAX; i++)
			r->pfd[i].revents = 0;
		return 0;
	}
	if (n < 0)
		return local_failed(p, 0);
	if (r->d.eof && ((in->revents | out->revents) &
	    (POLLRDHUP | POLLHUP | POLLERR)))
		r->d.fin = 1;
	if (n == 0 && !r->moved && p->idle_ms > 0 &&
	    timefmt_monotonic_ms() - r->last >= p->idle_ms) {
		p->end = PUMP_TIMEOUT;
		return -1;
	}
	return 1;
}

/*
 * A driver's round begins: nothing moved yet.  Returns 1 if *stop was
 * set (PUMP_STOPPED: nothing closed), else 0.
 */
static int
run_stopped(struct run *r)
{
	r->moved = 0;
	if (!stop_set(r->p))
		return 0;
	r->p->end = PUMP_STOPPED;
	return 1;
}

/* A driver's slot: fd when on, else unused. */
static void
slot(struct run *r, int i, int fd, int on, short events)
{
	r->pfd[i].fd = on ? fd : -1;
	r->pfd[i].events = events;
}

static int
ready(const struct run *r, int i)
{
	return r->pfd[i].fd >= 0 && (r->pfd[i].revents & (POLLIN | POLLHUP |
	    POLLERR));
}

enum pump_end
pump_stdio(struct pump *p, int in_fd, int out_fd)
{
	struct run r;
	int	 got;

	if (run_init(&r, p) < 0)
		goto out;
	r.want_fin = half_close(p->s);
	for (;;) {
		if (run_stopped(&r))
			break;

		/* Down: the peer's records to standard output. */
		do {
			got = down_fill(&r);
			if (down_to_stdout(&r, out_fd) < 0)
				goto out;
			if (r.d.failed && r.d.b.len == 0)
				goto out;
		} while (got && r.d.b.len == 0 && !r.d.eof);

		/* Up: standard input to the peer, then our close_notify. */
		if (ready(&r, SLOT_IN) && up_fill(&r, in_fd, 0) < 0)
			goto out;
		if (up_drain(&r) < 0)
			goto out;
		if (reset_drained(&r)) {
			end_unsent(&r, in_fd, PUMP_PEER_VANISHED);
			goto out;
		}
		if (up_may_close(&r) && up_close(&r) < 0)
			goto out;

		/* Done? */
		if (both_closed(&r)) {
			p->end = PUMP_DONE;
			break;
		}
		if (r.d.eof && (!r.want_fin || r.d.fin) && r.d.b.len == 0) {
			/*
			 * The peer closed the session (TLS 1.2), or closed
			 * TCP after its close_notify (TLS 1.3), so it reads
			 * no more.
			 */
			end_unsent(&r, in_fd, PUMP_DONE);
			if (!r.u.bye)
				tlssess_bye(p->s, BYE_TIMEOUT_MS);
			break;
		}

		slot(&r, SLOT_IN, in_fd, up_open(&r), POLLIN);
		if (run_wait(&r) < 0)
			break;
	}
out:
	run_free(&r);
	return p->end;
}

/*
 * The program exited: what is in its pipe is all it says (a background
 * child may hold the pipe open for ever), and what it did not read of
 * ours is lost.
 */
static void
prog_exited(struct run *r, const struct child *c)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED))
		r->p->prog_signal = si.si_status;
	if (!r->d.eof && !r->d.dead)
		down_drop(r, pipe_unread(c->to_fd));
	r->moved = 1;
}

/*
 * A program's stdout ends when it dies, a moment before its death can be
 * seen: wait for that moment, so a program killed by a signal never gets
 * our close_notify.  Returns 1 if it has exited.
 */
static int
prog_wait_exit(const struct child *c)
{
	struct pollfd efd = { c->exit_fd, POLLIN, 0 };

	return poll(&efd, 1, EXIT_WAIT_MS) == 1;
}

enum pump_end
pump_program(struct pump *p, const struct child *c, int hold_bye)
{
	struct run r;
	int	 got, hold, exited = 0, exit_ready = 0, waited = 0;

	if (run_init(&r, p) < 0)
		goto out;
	/* Without a pidfd the program's exit is not seen: do not wait. */
	hold = hold_bye && c->exit_fd > 0 && !half_close(p->s);
	for (;;) {
		if (run_stopped(&r))
			break;
		if (exit_ready && !exited) {
			exited = 1;
			prog_exited(&r, c);
		}

		/* Down: the peer's records to the program's stdin. */
		do {
			got = down_fill(&r);
			if (down_to_program(&r, c->to_fd) < 0)
				goto out;
			if (r.d.failed && r.d.b.len == 0)
				goto out;
			if (r.d.eof && r.d.b.len == 0 && !p->out_closed) {
				/* The program sees the peer's end of data. */
				close(c->to_fd);
				p->out_closed = 1;
			}
		} while (got && r.d.b.len == 0 && !r.d.eof);

		/* Up: the program's stdout to the peer, then close_notify. */
		if ((ready(&r, SLOT_IN) || exited) &&
		    up_fill(&r, c->from_fd, exited) < 0)
			goto out;
		if (up_drain(&r) < 0)
			goto out;
		if (reset_drained(&r)) {
			end_unsent(&r, c->from_fd, PUMP_PEER_VANISHED);
			goto out;
		}
		if (r.u.eof && c->exit_fd > 0 && !exited && !waited) {
			waited = 1;
			if ((exit_ready = prog_wait_exit(c)))
				continue;
		}
		r.u.held = hold && !exited && !r.d.eof;
		if (up_may_close(&r) && p->prog_signal != 0) {
			/*
			 * A program killed by a signal may have been cut
			 * short: no close_notify, so the peer cannot take
			 * the end for a complete one.
			 */
			p->end = PUMP_PROGRAM_KILLED;
			break;
		}
		if (up_may_close(&r) && up_close(&r) < 0)
			goto out;

		/* Done? */
		if (both_closed(&r)) {
			p->end = PUMP_DONE;
			break;
		}
		if (r.u.bye && r.d.dead) {
			/*
			 * Our side is said and nobody reads the peer's.  If
			 * it sent nothing more, give its close_notify a
			 * moment, so a clean end stays clean.
			 */
			if (r.linger_end == 0)
				r.linger_end = timefmt_monotonic_ms() +
				    PUMP_LINGER_MS;
			if (p->unread > 0 ||
			    timefmt_monotonic_ms() >= r.linger_end) {
				p->end = PUMP_DONE;
				break;
			}
		}

		slot(&r, SLOT_IN, c->from_fd, up_open(&r), POLLIN);
		/* A reader that left shows as EPIPE. */
		slot(&r, SLOT_OUT, c->to_fd, r.d.b.len > 0, POLLOUT);
		slot(&r, SLOT_EXIT, c->exit_fd, c->exit_fd > 0 && !exited,
		    POLLIN);
		if (run_wait(&r) < 0)
			break;
		exit_ready = r.pfd[SLOT_EXIT].fd >= 0 &&
		    r.pfd[SLOT_EXIT].revents != 0;
	}
out:
	run_free(&r);
	return p->end;
}

/*
 * The loopback's middle: the peer's bytes through x into the up buffer,
 * as far as there is room, and x's last words after the peer's end.
 */
static void
loop_xform(struct run *r, const struct pump_xform *x)
{
	struct buf *d = &r->d.b, *u = &r->u.b;
	size_t	 used, made;

	while (d->len > 0) {
		if (!r->u.inflight)
			buf_compact(u);
		if (buf_room(u) < PUMP_XFORM_MIN)
			break;
		made = x->fn(x->arg, d->data + d->off, d->len, &used,
		    u->data + u->off + u->len, buf_room(u));
		u->len += made;
		buf_take(d, used);
		r->moved = 1;
	}
	if (r->d.eof && d->len == 0 && !r->u.eof) {
		if (!r->u.inflight)
			buf_compact(u);
		if (buf_room(u) >= PUMP_XFORM_MIN) {
			u->len += x->eof(x->arg, u->data + u->off + u->len,
			    buf_room(u));
			r->u.eof = 1;
		}
	}
}

enum pump_end
pump_loopback(struct pump *p, const struct pump_xform *x)
{
	struct run r;
	int	 got;

	if (run_init(&r, p) < 0)
		goto out;
	for (;;) {
		if (run_stopped(&r))
			break;

		/* Down: the peer's records through x into up. */
		do {
			got = down_fill(&r);
			if (r.d.failed)
				goto out;
			loop_xform(&r, x);
		} while (got && r.d.b.len == 0 && !r.d.eof);

		/* Up: back to the peer, then our close_notify. */
		if (up_drain(&r) < 0 || r.u.dead)
			goto out;
		if (up_may_close(&r) && up_close(&r) < 0)
			goto out;
		if (both_closed(&r)) {
			p->end = PUMP_DONE;
			break;
		}
		if (run_wait(&r) < 0)
			break;
	}
out:
	run_free(&r);
	return p->end;
}
